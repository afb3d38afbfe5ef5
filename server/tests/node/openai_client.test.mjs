// `ember serve` driven by the official OpenAI Node.js client: chat, streaming, stop strings,
// sampling penalties and logit bias, prefix reuse, completions, JSON-schema output and errors. Run: EMBER_CLI=... EMBER_MODEL=... node --test
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startServer } from "../serve_process.mjs";

const KEY = "test-key-123";
let server;
let client;

before(async () => {
  server = await startServer(["--slots", "2", "--api-key", KEY, "--alias", "stories"]);
  client = new OpenAI({ apiKey: KEY, baseURL: server.baseURL, maxRetries: 0, timeout: 60000 });
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, "graceful shutdown exits 0:\n" + server.log());
});

const messages = [{ role: "user", content: "Tell me a story about a cat." }];

async function streamText(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true });
  let text = "";
  const finish = [];
  let usage = null;
  let first = true;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    const choice = chunk.choices[0];
    if (first) assert.equal(choice.delta.role, "assistant");
    first = false;
    if (choice.delta.content) text += choice.delta.content;
    if (choice.finish_reason) finish.push(choice.finish_reason);
  }
  return { text, finish, usage };
}

// Streamed pieces, one per chunk: each chunk ends on a token boundary.
async function streamPieces(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true });
  const pieces = [];
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta?.content;
    if (content) pieces.push(content);
  }
  return pieces;
}

async function metric(name) {
  const res = await fetch(server.baseURL.replace(/\/v1$/, "") + "/metrics", { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(name + " "));
  assert.ok(line, `metric ${name}`);
  return Number(line.split(" ")[1]);
}

describe("ember serve with the OpenAI Node client", () => {
  it("lists the model under its alias", async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ["stories"]);
  });

  it("answers a chat with usage and finish_reason length", async () => {
    const r = await client.chat.completions.create({ model: "stories", messages, max_tokens: 24, temperature: 0 });
    assert.equal(r.object, "chat.completion");
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, "assistant");
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(r.usage.completion_tokens, 24);
    assert.ok(r.usage.prompt_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  it("is deterministic when greedy, and with the same seed", async () => {
    const greedy = { model: "stories", messages, max_tokens: 20, temperature: 0 };
    const a = await client.chat.completions.create(greedy);
    const b = await client.chat.completions.create(greedy);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    const seeded = { model: "stories", messages, max_tokens: 20, temperature: 1, seed: 42 };
    const c = await client.chat.completions.create(seeded);
    const d = await client.chat.completions.create(seeded);
    assert.equal(c.choices[0].message.content, d.choices[0].message.content);
  });

  it("streams the same text as the whole response, ending with usage", async () => {
    const params = { model: "stories", messages, max_tokens: 30, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const streamed = await streamText({ ...params, stream_options: { include_usage: true } });
    assert.equal(streamed.text, whole.choices[0].message.content);
    assert.deepEqual(streamed.finish, ["length"]);
    assert.deepEqual(streamed.usage, whole.usage);
  });

  it("stops at a stop string without emitting it, whole and streamed", async () => {
    const params = { model: "stories", messages, max_tokens: 60, temperature: 0 };
    const full = (await client.chat.completions.create(params)).choices[0].message.content;
    // A stop string from the middle of the greedy answer; the answer must end right before
    // its first occurrence. Two stops: the earliest in the text wins.
    const stop = full.slice(20, 24);
    const cut = full.indexOf(stop);
    assert.ok(cut >= 0 && cut <= 20);
    for (const stops of [stop, [stop], ["no such text ~~", stop]]) {
      const r = await client.chat.completions.create({ ...params, stop: stops });
      assert.equal(r.choices[0].message.content, full.slice(0, cut));
      assert.equal(r.choices[0].finish_reason, "stop");
      const s = await streamText({ ...params, stop: stops });
      assert.equal(s.text, full.slice(0, cut));
      assert.deepEqual(s.finish, ["stop"]);
    }
  });

  it("stops at a stop string that spans two tokens, never streaming any of it", async () => {
    // +100 on one token makes greedy decoding repeat it, so the token boundaries are known:
    // the stop string is the last character of one repetition and the first of the next.
    const params = { model: "stories", messages, max_tokens: 8, temperature: 0, logit_bias: { "300": 100 } };
    const full = (await client.chat.completions.create(params)).choices[0].message.content;
    const piece = full.slice(0, full.length / 8);
    assert.equal(full, piece.repeat(8));
    const stop = piece.slice(-1) + piece.slice(0, 1);
    assert.ok(piece.length >= 2 && !piece.includes(stop), JSON.stringify(piece));
    const cut = full.indexOf(stop);
    assert.ok(cut > 0 && cut < piece.length, "the first match starts inside the first token");
    const streamed = await streamPieces({ ...params, stop });
    assert.equal(streamed.join(""), full.slice(0, cut));
    for (const text of streamed) assert.ok(!text.includes(stop));
    const whole = await client.chat.completions.create({ ...params, stop });
    assert.equal(whole.choices[0].message.content, full.slice(0, cut));
    assert.equal(whole.choices[0].finish_reason, "stop");
    // The token cut by the stop string is not part of the answer.
    assert.equal(whole.usage.completion_tokens, 0);
  });

  it("accepts presence/frequency penalties and applies logit_bias", async () => {
    const params = { model: "stories", messages, max_tokens: 24, temperature: 0 };
    const plain = (await client.chat.completions.create(params)).choices[0].message.content;
    const penalized = await client.chat.completions.create({ ...params, presence_penalty: 2, frequency_penalty: 2 });
    assert.equal(penalized.usage.completion_tokens, 24);
    assert.notEqual(penalized.choices[0].message.content, plain, "penalties change a repetitive greedy answer");
    const again = await client.chat.completions.create({ ...params, presence_penalty: 2, frequency_penalty: 2 });
    assert.equal(again.choices[0].message.content, penalized.choices[0].message.content);
    // +100 on one token (ids as string keys, as OpenAI) makes greedy decoding repeat it.
    for (const id of ["300", "400"]) {
      const r = await client.chat.completions.create({ ...params, max_tokens: 5, logit_bias: { [id]: 100 } });
      const text = r.choices[0].message.content;
      assert.equal(r.usage.completion_tokens, 5);
      assert.ok(text.length % 5 === 0 && text === text.slice(0, text.length / 5).repeat(5), JSON.stringify(text));
    }
    await assert.rejects(client.chat.completions.create({ ...params, logit_bias: { 99999: 1 } }),
      (e) => e.status === 400 && e.param === "logit_bias");
    await assert.rejects(client.chat.completions.create({ ...params, presence_penalty: 2.5 }),
      (e) => e.status === 400 && e.param === "presence_penalty");
  });

  it("reuses the KV prefix of a re-sent conversation (usage and metrics)", async () => {
    const params = { model: "stories", max_tokens: 12, temperature: 0 };
    const turn1 = [{ role: "user", content: "Lily had a red ball." }];
    const first = await client.chat.completions.create({ ...params, messages: turn1 });
    const before = await metric("ember_prompt_tokens_reused_total");
    const turn2 = [...turn1, { role: "assistant", content: first.choices[0].message.content },
                   { role: "user", content: "What did she do with it?" }];
    const second = await client.chat.completions.create({ ...params, messages: turn2 });
    const cached = second.usage.prompt_tokens_details.cached_tokens;
    // At least the whole first prompt is shared; the new turn is evaluated.
    assert.ok(cached >= first.usage.prompt_tokens && cached < second.usage.prompt_tokens,
      `cached ${cached} of ${second.usage.prompt_tokens}, first prompt ${first.usage.prompt_tokens}`);
    assert.equal(await metric("ember_prompt_tokens_reused_total"), before + cached);
  });

  it("serves legacy completions, with echo", async () => {
    const r = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 10, temperature: 0 });
    assert.equal(r.object, "text_completion");
    assert.ok(r.choices[0].text.length > 0);
    assert.equal(r.usage.completion_tokens, 10);
    const e = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 10, temperature: 0, echo: true });
    assert.equal(e.choices[0].text, "Once upon a time" + r.choices[0].text);
  });

  it("serves concurrent requests on several slots", async () => {
    const params = { model: "stories", messages, max_tokens: 16, temperature: 0 };
    const results = await Promise.all([1, 2, 3, 4].map(() => client.chat.completions.create(params)));
    const texts = new Set(results.map((r) => r.choices[0].message.content));
    assert.equal(texts.size, 1, "the same greedy request gives the same text whatever runs beside it");
    assert.equal(new Set(results.map((r) => r.id)).size, 4);
  });

  it("survives a client that aborts mid-stream", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "stories", messages, max_tokens: 400, temperature: 0, stream: true },
      { signal: controller.signal });
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        ++chunks;
        controller.abort();  // the client may end the iteration quietly or throw
      }
    } catch (e) {
      assert.ok(e instanceof OpenAI.APIUserAbortError, String(e));
    }
    assert.ok(chunks >= 1);
    const r = await client.chat.completions.create({ model: "stories", messages, max_tokens: 4, temperature: 0 });
    assert.equal(r.usage.completion_tokens, 4);
  });

  it("reports OpenAI-shaped errors", async () => {
    await assert.rejects(client.chat.completions.create({ model: "stories", messages, n: 2 }), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal(e.status, 400);
      assert.equal(e.param, "n");
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: "stories", messages, temperature: 3 }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.param, "temperature");
      assert.equal(e.type, "invalid_request_error");
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: "stories", messages: [] }), (e) => e.status === 400);
    const wrongKey = new OpenAI({ apiKey: "wrong", baseURL: server.baseURL, maxRetries: 0 });
    await assert.rejects(wrongKey.chat.completions.create({ model: "stories", messages }), (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.code, "invalid_api_key");
      return true;
    });
  });

  // response_format: constrained decoding by the library's JSON grammars, so even a tiny
  // story model answers with schema-valid JSON.
  it("answers json_schema requests with JSON that validates", async () => {
    const schema = {
      type: "object",
      properties: {
        color: { enum: ["red", "green", "blue"] },
        count: { type: "integer", minimum: 0, maximum: 99 },
        name: { type: "string", maxLength: 12 },
      },
      required: ["color", "count", "name"],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: "stories", messages, seed, temperature: 1, max_tokens: 400,
        response_format: { type: "json_schema", json_schema: { name: "pick", schema } },
      });
      const text = r.choices[0].message.content;
      assert.equal(r.choices[0].finish_reason, "stop", text);
      const value = JSON.parse(text);
      assert.deepEqual(Object.keys(value), ["color", "count", "name"], text);
      assert.ok(["red", "green", "blue"].includes(value.color), text);
      assert.ok(Number.isInteger(value.count) && value.count >= 0 && value.count <= 99, text);
      assert.equal(typeof value.name, "string");
      assert.ok([...value.name].length <= 12, text);
    }
  });

  it("answers json_object requests with (the start of) a JSON object", async () => {
    const r = await client.chat.completions.create({
      model: "stories", messages, seed: 5, max_tokens: 64, response_format: { type: "json_object" },
    });
    const text = r.choices[0].message.content;
    assert.ok(text.trimStart().startsWith("{"), text);
    if (r.choices[0].finish_reason === "stop") assert.equal(typeof JSON.parse(text), "object");
  });

  it("refuses a schema the library cannot enforce with the library's reason", async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: "stories", messages, response_format: {
          type: "json_schema", json_schema: { name: "x", schema: { type: "object", not: { type: "null" } } },
        },
      }),
      (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.type, "invalid_request_error");
        assert.equal(e.param, "response_format.json_schema.schema");
        assert.match(e.message, /not/);
        return true;
      });
  });
});
