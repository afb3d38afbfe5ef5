// Generation: the same tokens as the `ember generate` CLI for the same seed, streaming that
// leaves the event loop free, early stops, cancellation, and the one-call-at-a-time rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmberError, Model, Status, StopReason } from '../index.js';
import { CLI_SAMPLER, PROMPT, STORIES, cliGenerate } from './support.mjs';

describe('generation', () => {
  let model;
  before(() => { model = Model.load(STORIES); });
  after(() => model.close());

  const cases = [
    { seed: 7, maxTokens: 48 },
    { seed: 123, maxTokens: 64, stop: '.' },
  ];
  for (const c of cases) {
    test(`matches the CLI: seed ${c.seed}, ${c.maxTokens} tokens${c.stop ? `, stop "${c.stop}"` : ''}`, async () => {
      const cli = cliGenerate(c);
      const options = { maxTokens: c.maxTokens, stop: c.stop ? [c.stop] : [] };
      const sampler = { ...CLI_SAMPLER, seed: c.seed };
      // The three ways to generate agree with the CLI and with each other.
      const results = [];
      for (const how of ['sync', 'complete', 'stream']) {
        const session = model.createSession({ nThreads: 1, sampler });
        try {
          if (how === 'sync') {
            results.push(session.generateSync(PROMPT, options));
          } else if (how === 'complete') {
            results.push(await session.complete(PROMPT, options));
          } else {
            const stream = session.stream(PROMPT, options);
            let text = '';
            const ids = [];
            for await (const piece of stream) {
              text += piece.text;
              if (piece.token >= 0) ids.push(piece.token);
            }
            const completion = await stream.completion;
            assert.equal(text, completion.text);
            assert.deepEqual(ids, completion.tokens);
            results.push(completion);
          }
        } finally {
          session.close();
        }
      }
      for (const r of results) {
        assert.equal(r.text, cli.text);
        assert.equal(r.nGenerated, cli.completion_tokens);
        assert.equal(r.tokens.length, cli.completion_tokens);
        assert.deepEqual(r.tokens, results[0].tokens);
        assert.ok(r.tokens.length > 5);
        assert.equal(r.stopReason, c.stop ? StopReason.STRING : StopReason.MAX_TOKENS);
        if (!c.stop) assert.equal(model.detokenize(r.tokens), cli.text); // the ids spell the CLI's text
      }
    });
  }

  test('streaming does not block the event loop', async () => {
    const session = model.createSession({ nThreads: 1 });
    try {
      let done = false;
      let ticksBeforeDone = 0;
      const completion = session.complete(PROMPT, { maxTokens: 32 }).then((r) => { done = true; return r; });
      // Each tick yields to the event loop; the generation goes on meanwhile in its worker.
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        if (!done) ticksBeforeDone += 1;
      }
      assert.ok(ticksBeforeDone > 0);
      assert.equal((await completion).nGenerated, 32);
    } finally {
      session.close();
    }
  });

  test('leaving the loop early stops the generation; the session goes on', async () => {
    const session = model.createSession({ nThreads: 1 });
    try {
      const stream = session.stream(PROMPT, { maxTokens: 200, ignoreEos: true });
      let n = 0;
      for await (const piece of stream) {
        void piece;
        if (++n === 3) break;
      }
      const completion = await stream.completion;
      assert.equal(completion.stopReason, StopReason.CALLBACK);
      assert.ok(completion.nGenerated >= 3 && completion.nGenerated < 200, String(completion.nGenerated));
      assert.equal(session.nPast, 5 + completion.nGenerated); // BOS + 4 prompt tokens + generated
      const more = await session.complete(' The end', { maxTokens: 4 });
      assert.equal(more.nGenerated, 4);
    } finally {
      session.close();
    }
  });

  test('cancel() stops a running stream with EMBER_ERR_CANCELLED and its message', async () => {
    const session = model.createSession({ nThreads: 1 });
    try {
      const stream = session.stream(PROMPT, { maxTokens: 200, ignoreEos: true });
      let n = 0;
      await assert.rejects(async () => {
        for await (const piece of stream) {
          void piece;
          if (++n === 2) session.cancel();
        }
      }, (e) => {
        assert.ok(e instanceof EmberError);
        assert.equal(e.status, Status.CANCELLED);
        assert.equal(e.code, 'EMBER_ERR_CANCELLED');
        assert.ok(e.detail.length > 0, 'the message of ember_last_error() on the generating thread');
        assert.equal(e.completion.stopReason, StopReason.CANCELLED);
        assert.ok(e.completion.nGenerated < 200);
        return true;
      });
      await assert.rejects(stream.completion, (e) => e.status === Status.CANCELLED);
    } finally {
      session.close();
    }
  });

  test('cancel() right after stream() cancels, even before the call has started', async () => {
    const session = model.createSession({ nThreads: 1 });
    try {
      const stream = session.stream(PROMPT, { maxTokens: 200, ignoreEos: true });
      session.cancel(); // the worker is still starting: ember has no running call yet
      await assert.rejects(stream.completion, (e) => {
        assert.equal(e.status, Status.CANCELLED);
        assert.equal(e.completion.nGenerated, 1); // stopped at the first token
        return true;
      });
    } finally {
      session.close();
    }
  });

  test('cancel() from the synchronous callback', () => {
    const session = model.createSession({ nThreads: 1 });
    try {
      assert.throws(() => session.generateSync(PROMPT, { maxTokens: 100, ignoreEos: true }, () => { session.cancel(); }),
                    (e) => e.status === Status.CANCELLED && e.completion.nGenerated === 1);
    } finally {
      session.close();
    }
  });

  test('a full context fails with EMBER_ERR_CONTEXT_FULL, keeping what was generated', async () => {
    const session = model.createSession({ nThreads: 1, nCtx: 16 });
    try {
      await assert.rejects(session.complete(PROMPT, { maxTokens: 100, ignoreEos: true }), (e) => {
        assert.equal(e.code, 'EMBER_ERR_CONTEXT_FULL');
        assert.ok(e.detail.length > 0);
        assert.equal(e.completion.stopReason, StopReason.CONTEXT_FULL);
        assert.equal(session.nPast, 16);
        return true;
      });
    } finally {
      session.close();
    }
  });

  test('one call at a time: other calls throw while a stream runs; close() waits for it', async () => {
    const session = model.createSession({ nThreads: 1 });
    const stream = session.stream(PROMPT, { maxTokens: 100, ignoreEos: true });
    assert.throws(() => session.nPast, (e) => e.status === Status.BAD_STATE);
    assert.throws(() => session.generateSync(PROMPT), (e) => e.status === Status.BAD_STATE);
    session.close(); // deferred: the stream stops and then the session is freed
    const completion = await stream.completion;
    assert.equal(completion.stopReason, StopReason.CALLBACK);
    assert.ok(session.closed);
    assert.throws(() => session.nPast, (e) => e.status === Status.INVALID_ARGUMENT);
  });

  test('an exception in the callback stops generation and propagates', () => {
    const session = model.createSession();
    try {
      assert.throws(() => session.generateSync(PROMPT, { maxTokens: 10 }, () => { throw new RangeError('boom'); }),
                    RangeError);
      assert.equal(session.nPast, 6); // the prompt and the one token whose callback threw
    } finally {
      session.close();
    }
  });

  test('stop tokens and a grammar', () => {
    const session = model.createSession({ sampler: { grammar: { kind: 'gbnf', text: 'root ::= "yes" | "no"' } } });
    try {
      const r = session.generateSync('Answer:', { maxTokens: 10 });
      assert.ok(r.text === 'yes' || r.text === 'no', r.text);
      session.reset();
      session.setSampler();
      const free = session.generateSync(PROMPT, { maxTokens: 8 });
      session.reset();
      const stopped = session.generateSync(PROMPT, { maxTokens: 8, stopTokens: [free.tokens[2]] });
      assert.deepEqual(stopped.tokens, free.tokens.slice(0, 2));
      assert.equal(stopped.stopReason, StopReason.TOKEN);
    } finally {
      session.close();
    }
  });
});
