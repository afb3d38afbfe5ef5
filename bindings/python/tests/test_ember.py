"""Tests of the Python binding against the bundled stories260K model and its reference."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import ember  # noqa: E402

DATA = os.environ.get("EMBER_TEST_DATA_DIR",
                      os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "data"))
MODEL = os.path.join(DATA, "models", "stories260K.gguf")


class BindingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(MODEL)
        with open(os.path.join(DATA, "reference", "stories260K.short.json"), encoding="utf-8") as f:
            cls.ref = json.load(f)

    def test_version_and_facts(self):
        self.assertRegex(ember.version(), r"^\d+\.\d+\.\d+$")
        self.assertEqual(self.model.n_vocab, 512)
        self.assertEqual(self.model.architecture, "llama")

    def test_tokenize_matches_reference(self):
        self.assertEqual(self.model.tokenize(self.ref["prompt"]), self.ref["prompt_token_ids"])
        self.assertEqual(self.model.detokenize(self.model.tokenize("Once upon", add_bos=False)), b" Once upon")

    def test_greedy_matches_reference(self):
        with self.model.session() as s:
            s.eval(self.ref["prompt_token_ids"])
            got = []
            for _ in range(8):
                t = s.sample()
                got.append(t)
                s.eval([t])
            self.assertEqual(got, self.ref["greedy"]["token_ids"][:8])

    def test_generate_is_seeded_and_streams(self):
        texts = []
        for _ in range(2):
            with self.model.session(temperature=0.8, seed=5) as s:
                streamed = []
                out = s.generate("Once upon a time", max_tokens=30, on_text=streamed.append, ignore_eos=True)
                self.assertEqual("".join(streamed), out)
                texts.append(out)
        self.assertEqual(texts[0], texts[1])
        self.assertGreater(len(texts[0]), 20)

    def test_errors_raise_with_status(self):
        with self.assertRaises(ember.EmberError) as e:
            ember.Model("/nonexistent/model.gguf")
        self.assertEqual(e.exception.name, "IO")
        with self.model.session(n_ctx=4) as s:
            with self.assertRaises(ember.EmberError) as e:
                s.eval([1, 2, 3, 4, 5])
            self.assertEqual(e.exception.name, "CONTEXT_FULL")
            with self.assertRaises(ember.EmberError) as e:
                s.eval([9999])
            self.assertEqual(e.exception.name, "INVALID_TOKEN")
            self.assertEqual(s.n_past, 0)
        with self.assertRaises(ember.EmberError) as e:
            self.model.tokenize(b"\xff\xfe")
        self.assertEqual(e.exception.name, "INVALID_UTF8")


if __name__ == "__main__":
    unittest.main()
