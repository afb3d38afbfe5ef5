"""Basics of the binding against the bundled stories260K model and its reference outputs:
facts, tokenizer, greedy decoding, seeded generation, errors."""
import json
import os
import unittest

from _support import DATA, STORIES, ember


class BindingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)
        with open(os.path.join(DATA, "reference", "stories260K.short.json"), encoding="utf-8") as f:
            cls.ref = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def test_version_and_facts(self):
        self.assertRegex(ember.version(), r"^\d+\.\d+\.\d+$")
        major, minor, patch = (int(x) for x in ember.version().split("."))
        self.assertEqual(ember.version_number(), major * 1000000 + minor * 1000 + patch)
        self.assertGreaterEqual(ember.version_number(), ember.REQUIRED_VERSION_NUMBER)
        m = self.model
        self.assertEqual(m.n_vocab, 512)
        self.assertEqual(m.n_tokens, 512)
        self.assertGreater(m.n_ctx_train, 0)
        self.assertEqual(m.architecture, "llama")
        self.assertEqual((m.bos, m.eos), (1, 2))
        self.assertTrue(m.adds_bos)
        self.assertEqual(m.tokenize("Once", add_bos=None)[0], m.bos)

    def test_status_names_come_from_the_library(self):
        self.assertEqual(ember.status_name(0), "EMBER_OK")
        self.assertEqual(ember.status_name(ember.Status.CONTEXT_FULL), "EMBER_ERR_CONTEXT_FULL")
        self.assertEqual(ember.status_name(9999), "EMBER_ERR_UNKNOWN")
        for status in ember.Status:
            self.assertTrue(ember.status_name(status).endswith(status.name), status)

    def test_tokenize_matches_reference(self):
        m = self.model
        self.assertEqual(m.tokenize(self.ref["prompt"]), self.ref["prompt_token_ids"])
        self.assertEqual(m.detokenize(m.tokenize("Once upon", add_bos=False)), b" Once upon")
        self.assertEqual(m.tokenize(b"Once upon", add_bos=False), m.tokenize("Once upon", add_bos=False))
        self.assertEqual(m.tokenize("", add_bos=False), [])
        self.assertEqual(m.detokenize([]), b"")
        with_bos = m.tokenize("Hi", add_bos=True)
        self.assertEqual(m.detokenize(with_bos, skip_special=True), m.detokenize(with_bos[1:]))
        self.assertEqual(m.tokenize("<s>Hi", add_bos=False, parse_special=True)[0], m.bos)
        self.assertNotEqual(m.tokenize("<s>Hi", add_bos=False)[0], m.bos)

    def test_greedy_matches_reference(self):
        with self.model.session() as s:
            s.eval(self.ref["prompt_token_ids"])
            got = []
            for _ in range(8):
                t = s.sample()
                got.append(t)
                s.eval([t])
            self.assertEqual(got, self.ref["greedy"]["token_ids"][:8])

    def test_all_logits_rows_match_stepwise_logits(self):
        ids = self.ref["prompt_token_ids"]
        with self.model.session() as batch, self.model.session() as step:
            rows = batch.eval(ids, all_logits=True)
            self.assertEqual(len(rows), len(ids))
            self.assertEqual(rows[-1], batch.logits)
            stepwise = [step.eval([t]) for t in ids]
            for a, b in zip(rows, stepwise):
                self.assertEqual(len(a), self.model.n_vocab)
                for x, y in zip(a, b):
                    self.assertAlmostEqual(x, y, delta=1e-4)

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

    def test_session_facts_and_options(self):
        with self.model.session(n_ctx=64, n_threads=1, kv_type=ember.KvType.F16, context_shift=1) as s:
            self.assertEqual(s.n_ctx, 64)
            self.assertEqual(s.n_past, 0)
            s.eval(self.model.tokenize("Once upon a time"))
            self.assertGreater(s.kv_bytes, 0)
            s.reset()
            self.assertEqual(s.n_past, 0)
        with self.assertRaises(ember.EmberError) as e:
            self.model.session(max_kv_bytes=1)
        self.assertEqual(e.exception.status, ember.Status.OUT_OF_MEMORY)
        with self.assertRaises(TypeError):
            self.model.session(temprature=1.0)

    def test_errors_raise_with_status(self):
        with self.assertRaises(ember.EmberError) as e:
            ember.Model("/nonexistent/model.gguf")
        self.assertEqual(e.exception.status, ember.Status.IO)
        self.assertEqual(e.exception.name, "EMBER_ERR_IO")
        self.assertIn("/nonexistent/model.gguf", e.exception.message)
        self.assertTrue(str(e.exception).startswith("EMBER_ERR_IO: "))
        with self.model.session(n_ctx=4) as s:
            with self.assertRaises(ember.EmberError) as e:
                s.eval([1, 2, 3, 4, 5])
            self.assertEqual(e.exception.name, "EMBER_ERR_CONTEXT_FULL")
            with self.assertRaises(ember.EmberError) as e:
                s.eval([9999])
            self.assertEqual(e.exception.status, ember.Status.INVALID_TOKEN)
            self.assertEqual(s.n_past, 0)
            with self.assertRaises(ember.EmberError) as e:
                s.sample()  # nothing evaluated: no logits
            self.assertEqual(e.exception.status, ember.Status.BAD_STATE)
            with self.assertRaises(ember.EmberError) as e:
                s.logits
            self.assertEqual(e.exception.name, "EMBER_ERR_BAD_STATE")
        with self.assertRaises(ember.EmberError) as e:
            self.model.tokenize(b"\xff\xfe")
        self.assertEqual(e.exception.name, "EMBER_ERR_INVALID_UTF8")
        with self.assertRaises(ember.EmberError) as e:
            self.model.detokenize([100000])
        self.assertEqual(e.exception.status, ember.Status.INVALID_TOKEN)
        with self.assertRaises(ember.EmberError) as e:
            self.model.session(temperature=-1.0)
        self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)

    def test_closed_objects_raise_instead_of_passing_null(self):
        model = ember.Model(STORIES)
        session = model.session()
        model.close()  # ember defers the free: the session still works
        session.eval([1, 400])
        session.close()
        session.close()  # idempotent
        with self.assertRaises(ValueError):
            session.n_past
        with self.assertRaises(ValueError):
            model.n_vocab

    def test_log_callbacks(self):
        seen = []
        with ember.Model(STORIES, log=lambda level, msg: seen.append((level, msg)),
                         log_level=ember.LogLevel.DEBUG) as model:
            self.assertEqual(model.n_vocab, 512)
        self.assertIn(ember.LogLevel.INFO, [level for level, msg in seen if "stories260K.gguf" in msg])
        global_seen = []
        ember.set_log_callback(lambda level, msg: global_seen.append((level, msg)), ember.LogLevel.INFO)
        try:
            ember.Model(STORIES).close()
        finally:
            ember.set_log_callback(None)
        self.assertIn(ember.LogLevel.INFO, [level for level, msg in global_seen if "stories260K.gguf" in msg])
        quiet = len(global_seen)
        ember.Model(STORIES).close()  # silenced again
        self.assertEqual(len(global_seen), quiet)

    def test_weight_format(self):
        with ember.Model(STORIES, weight_format=ember.WeightFormat.Q8_0) as q8:
            with q8.session() as s:
                self.assertEqual(len(s.eval(q8.tokenize("Once"))), 512)
        with self.assertRaises(ember.EmberError) as e:
            ember.Model(STORIES, weight_format=77)
        self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
