"""Batch invariance of `ember serve`'s continuous batching: a request's text does not depend
on what else is decoded with it. The same request with the same seed gives the same text
alone and among 16 other concurrent requests (other prompts, seeds, lengths, stop strings
and a JSON schema) on a server with 8 slots, where they join and leave the batch at
different steps, and whatever prefix of its prompt the prompt cache reuses.

Run: EMBER_CLI=... EMBER_MODEL=... python3 batch_invariance_test.py"""
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_harness  # noqa: E402

HEADERS = {"Content-Type": "application/json"}


def chat(content, seed, max_tokens, **extra):
    body = {"messages": [{"role": "user", "content": content}], "seed": seed, "temperature": 0.9,
            "max_tokens": max_tokens}
    body.update(extra)
    return body


PROBES = [
    ("/v1/chat/completions", chat("Tell me a story about a dog.", 7, 60)),
    ("/v1/completions", {"prompt": "Once upon a time", "seed": 11, "temperature": 0.8, "max_tokens": 48,
                         "stop": ["."]}),
    # Its prompt extends one of the others': the cache may hand it that slot's prefix.
    ("/v1/completions", {"prompt": "The little bird " * 3 + "sang to the old tree by the river", "seed": 5,
                         "temperature": 0.9, "max_tokens": 24}),
]


def others():
    reqs = []
    for i in range(16):
        if i % 4 == 3:
            reqs.append(("/v1/chat/completions", chat("Say something.", 100 + i, 80, response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "object", "properties": {
                    "n": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["n"],
                    "additionalProperties": False}}})))
        elif i % 2:
            reqs.append(("/v1/completions", {"prompt": "The little bird " * (1 + i % 3), "seed": i,
                                             "temperature": 1.0, "max_tokens": 10 + 9 * i}))
        else:
            reqs.append(("/v1/chat/completions", chat("A tale number %d" % i, i, 5 + 7 * i, stop=["the"])))
    return reqs


def text_of(body):
    choice = body["choices"][0]
    return choice["message"]["content"] if "message" in choice else choice["text"]


class BatchInvariance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = serve_harness.from_env("--slots", "8", "-t", "1", "--max-queue", "64")

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual(BatchInvariance(), cls.server.stop(), 0)

    def post(self, path, body):
        status, _, parsed = self.server.request("POST", path, body, HEADERS)
        self.assertEqual(status, 200, parsed)
        return parsed

    def test_same_text_alone_and_among_sixteen_others(self):
        alone = [self.post(path, body) for path, body in PROBES]
        for _ in range(2):
            results = {}
            jobs = [("probe%d" % i, r) for i, r in enumerate(PROBES)] + \
                   [("other%d" % i, r) for i, r in enumerate(others())]
            n = len(PROBES)
            # The probes start among the others, not first: they join a running batch.
            jobs = jobs[n:n + 7] + jobs[:n] + jobs[n + 7:]

            def run(name, path, body):
                results[name] = self.server.request("POST", path, body, HEADERS)

            threads = [threading.Thread(target=run, args=(name, path, body)) for name, (path, body) in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for name, (status, _, body) in results.items():
                self.assertEqual(status, 200, (name, body))
            for i, want in enumerate(alone):
                got = results["probe%d" % i][2]
                self.assertEqual(text_of(got), text_of(want), "probe %d" % i)
                self.assertEqual(got["choices"][0]["finish_reason"], want["choices"][0]["finish_reason"])
                self.assertEqual(got["usage"]["completion_tokens"], want["usage"]["completion_tokens"])


if __name__ == "__main__":
    unittest.main()
