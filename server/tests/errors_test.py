"""Error paths of `ember serve` through Python's standard HTTP client: malformed JSON, wrong
types, huge bodies, keys, unknown routes, a full queue, a client that goes away and the
request timeout. Run: EMBER_CLI=... EMBER_MODEL=... python3 errors_test.py"""
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_harness  # noqa: E402

KEY = "sekret"
AUTH = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
CHAT = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}
# A greedy completion of this prompt runs thousands of tokens without an end of sequence
# on stories260K, which keeps a slot busy for seconds.
LONG = {"prompt": "the the the the the the the the", "max_tokens": 8000, "temperature": 0}


def assert_openai_error(test, status, body, want_status, param=None):
    test.assertEqual(status, want_status, body)
    test.assertIsInstance(body, dict, body)
    err = body["error"]
    test.assertEqual(set(err), {"message", "type", "param", "code"})
    test.assertIsInstance(err["message"], str)
    test.assertTrue(err["message"])
    if param is not None:
        test.assertEqual(err["param"], param)


class ErrorPaths(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = serve_harness.from_env("--api-key", KEY, "-t", "1")

    @classmethod
    def tearDownClass(cls):
        cls.assertEqual(ErrorPaths(), cls.server.stop(), 0)

    def post(self, path, body, headers=AUTH):
        return self.server.request("POST", path, body, headers)

    def test_malformed_json(self):
        for body in ['{"messages": [', "not json", "", '{"a":1}{', b'{"messages": "\xff"}']:
            status, _, parsed = self.post("/v1/chat/completions", body)
            assert_openai_error(self, status, parsed, 400)

    def test_body_must_be_an_object(self):
        status, _, parsed = self.post("/v1/chat/completions", "[1,2]")
        assert_openai_error(self, status, parsed, 400)

    def test_wrong_types(self):
        cases = [
            ({"messages": "hi"}, "messages"),
            ({**CHAT, "max_tokens": "10"}, "max_tokens"),
            ({**CHAT, "max_tokens": 2.5}, "max_tokens"),
            ({**CHAT, "max_tokens": 0}, "max_tokens"),
            ({**CHAT, "temperature": "hot"}, "temperature"),
            ({**CHAT, "top_p": 1.5}, "top_p"),
            ({**CHAT, "stop": 5}, "stop"),
            ({**CHAT, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
            ({**CHAT, "stream": "yes"}, "stream"),
            ({**CHAT, "seed": "x"}, "seed"),
            ({**CHAT, "logit_bias": {"abc": 1}}, "logit_bias"),
            ({**CHAT, "logit_bias": {"5": 1000}}, "logit_bias.5"),
            ({**CHAT, "n": 3}, "n"),
            ({**CHAT, "stream_options": {"include_usage": True}}, "stream_options"),
            ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
            ({"messages": [{"role": "user"}]}, "messages[0].content"),
            ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content[0].type"),
        ]
        for body, param in cases:
            with self.subTest(body=body):
                status, _, parsed = self.post("/v1/chat/completions", body)
                assert_openai_error(self, status, parsed, 400, param)
        for body, param in [({"prompt": 5}, "prompt"), ({"prompt": ["a", "b"]}, "prompt"),
                            ({"prompt": [1, -2]}, "prompt[1]"), ({"prompt": [10**9]}, "prompt"),
                            ({"prompt": "x", "best_of": 2}, "best_of")]:
            with self.subTest(body=body):
                status, _, parsed = self.post("/v1/completions", body)
                assert_openai_error(self, status, parsed, 400, param)

    def test_prompt_longer_than_the_context(self):
        status, _, parsed = self.post("/v1/completions", {"prompt": "the " * 5000, "max_tokens": 1})
        assert_openai_error(self, status, parsed, 400, "prompt")
        self.assertEqual(parsed["error"]["code"], "context_length_exceeded")

    def test_huge_body_is_413(self):
        body = json.dumps({"messages": [{"role": "user", "content": "x" * (5 << 20)}]})
        status, _, parsed = self.post("/v1/chat/completions", body)
        assert_openai_error(self, status, parsed, 413)
        # The server still answers afterwards.
        self.assertEqual(self.server.request("GET", "/health")[0], 200)

    def test_keys(self):
        status, _, parsed = self.post("/v1/chat/completions", CHAT, {"Authorization": "Bearer nope"})
        assert_openai_error(self, status, parsed, 401)
        self.assertEqual(parsed["error"]["code"], "invalid_api_key")
        status, _, parsed = self.post("/v1/chat/completions", CHAT, {})
        assert_openai_error(self, status, parsed, 401)
        for path in ["/v1/models", "/metrics"]:
            status, _, parsed = self.server.request("GET", path)
            assert_openai_error(self, status, parsed, 401)
        self.assertEqual(self.server.request("GET", "/health"), (200, self.server.request("GET", "/health")[1], {"status": "ok"}))
        status, _, parsed = self.post("/v1/chat/completions", CHAT)
        self.assertEqual(status, 200, parsed)

    def test_unknown_route_is_404(self):
        for method, path in [("GET", "/v2/whatever"), ("POST", "/v1/embeddings"), ("GET", "/v1/chat/completions")]:
            status, _, parsed = self.server.request(method, path, headers=AUTH)
            assert_openai_error(self, status, parsed, 404)

    def test_chat_page_is_served(self):
        status, headers, page = self.server.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        self.assertIn("/v1/chat/completions", page)


class Queueing(unittest.TestCase):
    """One slot, one queue place: a third request is refused with 503; a client that goes
    away frees its slot at once."""

    def test_queue_full_and_disconnect(self):
        server = serve_harness.from_env("--slots", "1", "--max-queue", "1", "--ctx", "8192", "-t", "1")
        try:
            # A: a long streaming generation; once its first event arrives it holds the slot.
            a = socket.create_connection(("127.0.0.1", server.port))
            body = json.dumps({**LONG, "stream": True}).encode()
            a.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            received = b""
            while b"data: " not in received:
                data = a.recv(65536)
                self.assertTrue(data, received)
                received += data
            # B waits in the queue (seen in /metrics), so C finds it full.
            b = server.connection()
            b.request("POST", "/v1/completions", json.dumps({"prompt": "Once", "max_tokens": 3, "temperature": 0}),
                      {"Content-Type": "application/json"})
            while server.metric("ember_queue_depth") < 1:
                time.sleep(0.02)
            status, headers, parsed = server.request("POST", "/v1/completions", {"prompt": "x", "max_tokens": 1})
            assert_openai_error(self, status, parsed, 503)
            self.assertEqual(parsed["error"]["code"], "queue_full")
            self.assertIn("Retry-After", headers)
            # A disconnects: its generation is cancelled, B runs and completes.
            a.close()
            rb = b.getresponse()
            self.assertEqual(rb.status, 200)
            self.assertEqual(json.loads(rb.read())["usage"]["completion_tokens"], 3)
            # A was cut short: it did not run its 8000 tokens before B got the slot.
            self.assertLess(server.metric("ember_completion_tokens_total"), 8000)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_timeout_cuts_generation(self):
        server = serve_harness.from_env("--timeout", "1", "--ctx", "8192", "-t", "1")
        try:
            status, _, parsed = server.request("POST", "/v1/completions", LONG)
            self.assertEqual(status, 200, parsed)
            self.assertEqual(parsed["choices"][0]["finish_reason"], "length")
            self.assertLess(parsed["usage"]["completion_tokens"], 8000)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
