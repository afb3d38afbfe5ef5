// Shared setup of the binding's tests: the test data and the `ember` CLI (ctest passes
// EMBER_TEST_DATA_DIR, EMBER_CLI and EMBER_LIBRARY; without them, the source tree's build/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sourceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const data = process.env.EMBER_TEST_DATA_DIR || path.join(sourceRoot, 'tests', 'data');
export const STORIES = path.join(data, 'models', 'stories260K.gguf');
export const PROMPT = 'Once upon a time';

// The sampler of the CLI comparisons: every flag the CLI gets, the binding gets too.
export const CLI_SAMPLER = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.1, repeatLastN: 64 };
const CLI_SAMPLER_FLAGS = ['--temp', '0.8', '--top-k', '40', '--top-p', '0.95', '--min-p', '0.05',
  '--repeat-penalty', '1.1', '--repeat-last-n', '64', '-t', '1'];

function cliPath() {
  const cli = process.env.EMBER_CLI || path.join(sourceRoot, 'build', 'cli', 'ember');
  if (!fs.existsSync(cli)) throw new Error(`the ember CLI is not built: build ember_cli or set EMBER_CLI (${cli})`);
  return cli;
}

/** `ember generate --output json` on the bundled model: {text, stop_reason, completion_tokens, ...}. */
export function cliGenerate({ seed, maxTokens, stop }) {
  const args = ['generate', '-m', STORIES, '-p', PROMPT, '-n', String(maxTokens), '--seed', String(seed),
    ...CLI_SAMPLER_FLAGS, '--output', 'json'];
  if (stop) args.push('--stop', stop);
  return JSON.parse(execFileSync(cliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8'));
}
