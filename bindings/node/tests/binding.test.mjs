// The binding's plumbing: library and version, status names, errors with ember's message,
// handle lifetimes, tokenizer, evaluation and sampling, session state and chat templates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ember from '../index.js';
import { EmberError, Model, Status, TokenizeFlags } from '../index.js';
import { PROMPT, STORIES } from './support.mjs';

const header = fs.readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'include', 'ember', 'ember.h'), 'utf8');

const cmakeLists = fs.readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'CMakeLists.txt'), 'utf8');

test('version is project(VERSION) of CMakeLists.txt, the one source', () => {
  const [major, minor, patch] = /project\(ember VERSION (\d+)\.(\d+)\.(\d+)/.exec(cmakeLists).slice(1);
  assert.equal(ember.version(), `${major}.${minor}.${patch}`);
  assert.equal(ember.versionNumber(), Number(major) * 1000000 + Number(minor) * 1000 + Number(patch));
});

test('Status matches ember.h and its names come from ember_status_name', () => {
  for (const [name, value] of Object.entries(Status)) {
    const c = name === 'OK' ? 'EMBER_OK' : `EMBER_ERR_${name}`;
    assert.match(header, new RegExp(`#define ${c} ${value}\\b`));
    assert.equal(ember.statusName(value), c);
  }
  assert.equal(ember.statusName(9999), 'EMBER_ERR_UNKNOWN');
});

test('a failed load throws EmberError with the status name and ember_last_error', () => {
  assert.throws(() => Model.load('/nonexistent/model.gguf'), (e) => {
    assert.ok(e instanceof EmberError);
    assert.equal(e.status, Status.IO);
    assert.equal(e.code, 'EMBER_ERR_IO');
    assert.match(e.detail, /nonexistent\/model\.gguf/);
    assert.equal(e.message, `EMBER_ERR_IO: ${e.detail}`);
    return true;
  });
  const notAModel = fileURLToPath(import.meta.url);
  assert.throws(() => Model.load(notAModel), (e) => e.status === Status.INVALID_MODEL && e.detail.length > 0);
});

test('index.d.ts declares every export of index.js', () => {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const declarations = fs.readFileSync(path.join(dir, 'index.d.ts'), 'utf8');
  for (const name of Object.keys(ember)) {
    assert.match(declarations, new RegExp(`export declare (const|function|class) ${name}\\b`), name);
  }
});

describe('model', () => {
  let model;
  before(() => { model = Model.load(STORIES); });
  after(() => model.close());

  test('facts', () => {
    assert.equal(model.architecture, 'llama');
    assert.equal(model.nVocab, 512);
    assert.ok(model.nTokens > 0 && model.nTokens <= model.nVocab);
    assert.ok(model.nCtxTrain > 0);
    assert.equal(model.bos, 1);
    assert.equal(model.eos, 2);
    assert.ok(model.isEog(model.eos));
    assert.ok(!model.isEog(model.bos));
    assert.equal(typeof model.addsBos, 'boolean');
  });

  test('tokenize and detokenize', () => {
    const ids = model.tokenize(PROMPT);
    assert.equal(ids[0], model.bos);
    assert.deepEqual(model.tokenize(PROMPT, TokenizeFlags.NO_BOS), ids.slice(1));
    // SentencePiece's space marker of the first word is kept (ember.h, ember_detokenize).
    assert.equal(model.detokenize(ids, { skipSpecial: true }), ` ${PROMPT}`);
    const long = 'a b c '.repeat(200); // more ids than the first buffer guess holds
    assert.equal(model.detokenize(model.tokenize(long, TokenizeFlags.NO_BOS)), ` ${long}`);
    assert.equal(model.detokenize([]), '');
    assert.throws(() => model.detokenize([100000]), (e) => e.code === 'EMBER_ERR_INVALID_TOKEN');
    assert.throws(() => model.tokenize(5), TypeError);
  });

  test('options are checked: bad values give ember\'s errors, unknown keys a TypeError', () => {
    assert.throws(() => model.createSession({ sampler: { temperature: -1 } }),
                  (e) => e.code === 'EMBER_ERR_INVALID_ARGUMENT' && e.detail.length > 0);
    assert.throws(() => model.createSession({ nThreads: 0 }), (e) => e.status === Status.INVALID_ARGUMENT);
    assert.throws(() => model.createSession({ sampler: { logitBias: { 100000: 1 } } }),
                  (e) => e.status === Status.INVALID_TOKEN);
    assert.throws(() => model.createSession({ sampler: { grammar: { kind: 'gbnf', text: 'root ::= (' } } }),
                  (e) => e.status === Status.INVALID_ARGUMENT && /line 1, column/.test(e.detail));
    assert.throws(() => model.createSession({ nctx: 5 }), TypeError);
    assert.throws(() => model.createSession({ sampler: { temp: 1 } }), TypeError);
    const session = model.createSession();
    try {
      assert.throws(() => session.generateSync(PROMPT, { maxTokens: -1 }), (e) => e.status === Status.INVALID_ARGUMENT);
      assert.throws(() => session.stream(PROMPT, { max_tokens: 1 }), TypeError);
      assert.equal(session.nPast, 0); // nothing ran
    } finally {
      session.close();
    }
  });

  test('eval, logits, sample', () => {
    const session = model.createSession({ nCtx: 64 });
    try {
      assert.equal(session.nCtx, 64);
      assert.throws(() => session.logits(), (e) => e.status === Status.BAD_STATE);
      const ids = model.tokenize(PROMPT);
      const all = session.eval(ids, { allLogits: true });
      assert.equal(all.length, ids.length * model.nVocab);
      const last = session.logits();
      assert.equal(last.length, model.nVocab);
      assert.deepEqual(Array.from(last), Array.from(all.subarray((ids.length - 1) * model.nVocab)));
      const greedy = session.sample(); // the default sampler is greedy
      assert.equal(greedy, last.indexOf(Math.max(...last)));
      assert.equal(session.nPast, ids.length);
      assert.ok(session.kvBytes > 0);
      assert.throws(() => session.eval([100000]), (e) => e.status === Status.INVALID_TOKEN);
      assert.equal(session.nPast, ids.length); // a failed eval changes nothing
      assert.deepEqual(session.tokens(), ids);
      session.reset();
      assert.equal(session.nPast, 0);
    } finally {
      session.close();
    }
  });

  test('state save/load, clone and truncate', () => {
    const session = model.createSession({ sampler: { temperature: 0.9, seed: 3 } });
    try {
      session.eval(model.tokenize(PROMPT));
      const state = session.saveState();
      const copy = session.clone();
      const a = session.generateSync('', { maxTokens: 8 }).tokens;
      try {
        assert.deepEqual(copy.generateSync('', { maxTokens: 8 }).tokens, a);
      } finally {
        copy.close();
      }
      session.loadState(state);
      assert.equal(session.nPast, 5);
      session.truncate(2);
      assert.equal(session.nPast, 2);
      assert.throws(() => session.loadState(Buffer.from('not a state')), (e) => e instanceof EmberError);
    } finally {
      session.close();
    }
  });

  test('state files and prefix reuse', () => {
    const session = model.createSession();
    const other = model.createSession();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ember-node-test-'));
    try {
      const ids = model.tokenize(PROMPT);
      assert.equal(session.evalReuse(ids), 0);
      const longer = [...ids, session.sample()];
      assert.equal(session.evalReuse(longer), ids.length); // only the new token is evaluated
      assert.deepEqual(session.tokens(), longer);
      const file = path.join(dir, 'state.bin');
      session.saveStateFile(file);
      other.loadStateFile(file);
      assert.deepEqual(other.tokens(), longer);
      assert.deepEqual(other.logits(), session.logits());
      assert.throws(() => other.loadStateFile(path.join(dir, 'missing.bin')),
                    (e) => e.status === Status.IO && /missing\.bin/.test(e.detail));
    } finally {
      session.close();
      other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('chat template', () => {
    const template = '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}' +
                     '{% if add_generation_prompt %}<assistant>{% endif %}';
    const messages = [{ role: 'user', content: 'héllo' }];
    assert.equal(model.applyChat(messages, { template }), '<user>héllo<assistant>');
    assert.equal(model.applyChat(messages, { template, addGenerationPrompt: false }), '<user>héllo');
    const jsonTemplate = '{{ bos_token }}{{ messages[0].content }}/{{ who }}{% if add_generation_prompt %}>{% endif %}';
    const context = { messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: true, who: 'x' };
    assert.equal(model.applyChatJson(context, { template: jsonTemplate }), '<s>hi/x>');
    assert.throws(() => model.applyChatJson([], { template: jsonTemplate }), (e) => e.status === Status.INVALID_ARGUMENT);
  });
});

test('handles are freed exactly once; use after close throws', () => {
  const model = Model.load(STORIES);
  const session = model.createSession();
  model.close(); // ember keeps the model until its last session goes
  assert.ok(model.closed);
  assert.throws(() => model.nVocab, (e) => e.status === Status.INVALID_ARGUMENT && /closed/.test(e.detail));
  assert.equal(session.generateSync(PROMPT, { maxTokens: 3 }).nGenerated, 3);
  session.close();
  session.close(); // a no-op
  model.close();
  assert.throws(() => session.sample(), (e) => e.status === Status.INVALID_ARGUMENT);
});
