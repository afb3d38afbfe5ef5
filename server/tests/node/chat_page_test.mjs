// The chat page at `/` (server/page.html) in headless Chromium, driven over the DevTools
// protocol by playwright-core: type a message, press Enter, and watch the assistant's answer
// stream into the page. Then the API-key path: without the key the page shows the server's
// error; with the key typed into the header box the same question streams.
//
// Run: EMBER_CLI=... EMBER_MODEL=... node chat_page_test.mjs
// Browser: $EMBER_CHROMIUM, else `chromium` on PATH (Debian's package, installed by
// scripts/setup.sh). Without one the test exits 77, which ctest reports as skipped; with
// EMBER_REQUIRE_CHROMIUM=1 a missing browser is a failure instead.
import assert from "node:assert/strict";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "../serve_process.mjs";

const SKIP = 77;

function findChromium() {
  if (process.env.EMBER_CHROMIUM) return process.env.EMBER_CHROMIUM;
  for (const dir of (process.env.PATH || "").split(delimiter)) {
    const candidate = join(dir || ".", "chromium");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

// Records every text the assistant bubbles show, in order, from inside the page: the page
// replaces a bubble's text on each streamed delta, so a streamed answer leaves a chain of
// growing prefixes here. Independent of timing: each assignment is its own mutation record.
function recordAssistantTexts() {
  window.emberAssistantTexts = [];
  new MutationObserver((records) => {
    for (const record of records) {
      const bubble = record.target.nodeType === Node.TEXT_NODE ? record.target.parentNode : record.target;
      if (!bubble || !bubble.classList || !bubble.classList.contains("assistant")) continue;
      if (record.type === "characterData") {
        window.emberAssistantTexts.push(record.target.data);
      } else {
        for (const node of record.addedNodes) {
          if (node.nodeType === Node.TEXT_NODE) window.emberAssistantTexts.push(node.data);
        }
      }
    }
  }).observe(document.getElementById("log"), { childList: true, characterData: true, subtree: true });
}

// Types `text` into the message box key by key, sends it with Enter and waits until the
// latest bubble is finished: an assistant answer (data-done) or an error.
async function ask(page, text) {
  const streamed = page.waitForResponse((r) => r.url().endsWith("/v1/chat/completions"));
  await page.locator("#input").pressSequentially(text);
  await page.locator("#input").press("Enter");
  const response = await streamed;
  await page.waitForSelector("#log .msg:last-child:is(.assistant[data-done='1'], .error)", { timeout: 120000 });
  return response;
}

async function checkStreamedAnswer(page, question) {
  await page.evaluate(recordAssistantTexts);
  const response = await ask(page, question);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^text\/event-stream/);
  const sent = response.request().postDataJSON();
  assert.equal(sent.stream, true);
  assert.equal(sent.messages.at(-1).content, question);

  const bubbles = await page.$$eval("#log .msg", (all) => all.map((b) => ({ cls: b.className, text: b.textContent })));
  assert.deepEqual(bubbles.at(-2), { cls: "msg user", text: question });
  const answer = bubbles.at(-1);
  assert.equal(answer.cls, "msg assistant", `the page shows an error: ${answer.text}`);
  assert.ok(answer.text.length > 0, "the final answer is empty");

  // Streaming: the bubble grew through at least two non-empty texts, each a prefix of the
  // next, ending at the final answer.
  const texts = (await page.evaluate(() => window.emberAssistantTexts)).filter((t) => t.length > 0);
  assert.ok(texts.length >= 2, `the answer appeared in ${texts.length} step(s), not streamed: ${JSON.stringify(texts)}`);
  for (let i = 1; i < texts.length; ++i) {
    assert.ok(texts[i].length > texts[i - 1].length && texts[i].startsWith(texts[i - 1]),
              `step ${i} does not extend step ${i - 1}: ${JSON.stringify(texts[i - 1])} -> ${JSON.stringify(texts[i])}`);
  }
  assert.equal(texts.at(-1), answer.text);

  assert.equal(await page.inputValue("#input"), "", "the message box is cleared after sending");
  assert.equal(await page.isEnabled("#send"), true, "Send is enabled again after the answer");
  return texts.length;
}

async function openPage(browser, server) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.port}/`);
  assert.equal(await page.title(), "ember chat");
  return { page, errors };
}

async function withServer(args, body) {
  const server = await startServer(args);
  try {
    await body(server);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0, "graceful shutdown exits 0:\n" + server.log());
  }
}

async function main() {
  const executablePath = findChromium();
  if (!executablePath) {
    const message = "chat page test: no Chromium (install Debian's `chromium`: scripts/setup.sh does, or set EMBER_CHROMIUM)";
    if (process.env.EMBER_REQUIRE_CHROMIUM === "1") throw new Error(message);
    console.log("SKIPPED: " + message);
    process.exit(SKIP);
  }
  // --disable-dev-shm-usage: containers often give /dev/shm only 64 MB.
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--disable-dev-shm-usage"] });
  try {
    await withServer([], async (server) => {
      const { page, errors } = await openPage(browser, server);
      // The header shows the served model once /v1/models answered.
      await page.waitForFunction(() => document.getElementById("model").textContent.length > 0);
      assert.equal(await page.textContent("#model"), "stories260K.gguf");
      const steps = await checkStreamedAnswer(page, "Tell me a story about a cat.");
      assert.deepEqual(errors, []);
      console.log(`chat page: answer streamed in ${steps} steps`);
    });

    await withServer(["--api-key", "page-key-42"], async (server) => {
      const { page, errors } = await openPage(browser, server);
      await ask(page, "Hello");
      const failed = await page.$eval("#log .msg:last-child", (b) => ({ cls: b.className, text: b.textContent }));
      assert.equal(failed.cls, "msg error");
      assert.match(failed.text, /^Error: .*API key/);

      await page.fill("#key", "page-key-42");
      await page.dispatchEvent("#key", "change");
      assert.equal(await page.evaluate(() => localStorage.getItem("ember-api-key")), "page-key-42");
      await checkStreamedAnswer(page, "Hello");
      assert.deepEqual(errors, []);
    });
  } finally {
    await browser.close();
  }
  console.log("chat_page_test: ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
