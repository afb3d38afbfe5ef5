"""Session state (save/load, to bytes and files), clone, truncate, tokens and eval_reuse."""
import os
import tempfile
import unittest

from _support import OTHER_MODEL, STORIES, ember

PROMPT = "Once upon a time, there was a little girl"


class StateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)
        cls.ids = cls.model.tokenize(PROMPT)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def sampled_session(self):
        s = self.model.session(temperature=0.9, seed=3)
        s.eval(self.ids)
        s.sample()  # moves the random generator: the state must carry its position
        return s

    def continuation(self, s, n=6):
        return s.complete(max_tokens=n, ignore_eos=True).tokens

    def test_save_load_continues_identically(self):
        with self.sampled_session() as a:
            blob = a.save_state()
            self.assertIsInstance(blob, bytes)
            logits = a.logits
            with self.model.session(temperature=0.9, seed=999, n_ctx=128) as b:
                b.load_state(blob)
                self.assertEqual(b.tokens, self.ids)
                self.assertEqual(b.logits, logits)
                self.assertEqual(self.continuation(b), self.continuation(a))
            self.assertGreater(len(a.save_state()), len(blob))  # the size follows the session
        with self.model.session() as empty:
            empty.load_state(self.model.session().save_state())
            self.assertEqual(empty.n_past, 0)

    def test_save_load_file(self):
        with self.sampled_session() as a, tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.bin")
            a.save_state_file(path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), a.save_state())
            with self.model.session(temperature=0.9, seed=3) as b:
                b.load_state_file(path)
                self.assertEqual(self.continuation(b), self.continuation(a))
            with self.assertRaises(ember.EmberError) as e:
                a.load_state_file(os.path.join(tmp, "missing.bin"))
            self.assertEqual(e.exception.status, ember.Status.IO)
            self.assertIn("missing.bin", e.exception.message)
            with self.assertRaises(ember.EmberError) as e:
                a.save_state_file(os.path.join(tmp, "no-such-dir", "state.bin"))
            self.assertEqual(e.exception.status, ember.Status.IO)
            self.assertEqual(os.listdir(tmp), ["state.bin"])  # no temporary left behind

    def test_bad_blobs_are_rejected_and_change_nothing(self):
        with self.sampled_session() as a:
            blob = a.save_state()
        with self.model.session() as target:
            target.eval([1, 400, 401])
            before = (target.tokens, target.logits)
            flipped = bytearray(blob)
            flipped[len(flipped) // 2] ^= 0x01
            cases = {"flipped byte": bytes(flipped), "truncated": blob[:-1], "empty": b"",
                     "not a state": b"hello world" * 10}
            for name, bad in cases.items():
                with self.assertRaises(ember.EmberError, msg=name) as e:
                    target.load_state(bad)
                self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT, name)
                self.assertEqual((target.tokens, target.logits), before, name)
            with ember.Model(OTHER_MODEL) as other, other.session() as o:
                o.eval(other.tokenize("Hello"))
                with self.assertRaises(ember.EmberError) as e:
                    target.load_state(o.save_state())  # saved from another model
                self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
                self.assertEqual((target.tokens, target.logits), before)
        with self.model.session(n_ctx=4) as small:
            with self.assertRaises(ember.EmberError) as e:
                small.load_state(blob)  # more tokens than its context
            self.assertEqual(e.exception.status, ember.Status.CONTEXT_FULL)

    def test_clone_is_independent(self):
        with self.sampled_session() as a:
            with a.clone() as b:
                self.assertIs(b.model, a.model)
                self.assertEqual(b.tokens, a.tokens)
                self.assertEqual(self.continuation(b), self.continuation(a))  # same sampler position
                b.complete("and", max_tokens=3, ignore_eos=True)
                self.assertNotEqual(b.n_past, a.n_past)
            self.assertEqual(a.n_past, len(self.ids) + 6)

    def test_truncate(self):
        with self.model.session() as s:
            s.eval(self.ids)
            s.truncate(len(self.ids))  # nothing dropped: logits stay
            s.logits
            s.truncate(4)
            self.assertEqual(s.n_past, 4)
            self.assertEqual(s.tokens, self.ids[:4])
            with self.assertRaises(ember.EmberError) as e:
                s.logits  # dropped with the tokens
            self.assertEqual(e.exception.status, ember.Status.BAD_STATE)
            with self.model.session() as fresh:
                fresh.eval(self.ids[:4])
                fresh_logits = fresh.eval(self.ids[4:])
            self.assertEqual(len(s.eval(self.ids[4:])), len(fresh_logits))
            for x, y in zip(s.logits, fresh_logits):
                self.assertAlmostEqual(x, y, delta=1e-4)
            with self.assertRaises(ember.EmberError) as e:
                s.truncate(-1)
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
            self.assertEqual(s.tokens, self.ids)
            s.truncate(0)
            self.assertEqual(s.tokens, [])

    def test_tokens(self):
        with self.model.session() as s:
            self.assertEqual(s.tokens, [])
            s.eval(self.ids)
            r = s.complete(max_tokens=5, ignore_eos=True)
            self.assertEqual(s.tokens, self.ids + r.tokens)

    def test_eval_reuse_counts(self):
        with self.model.session() as s:
            self.assertEqual(s.eval_reuse(self.ids), 0)
            self.assertEqual(s.tokens, self.ids)
            logits = s.logits
            self.assertEqual(s.eval_reuse(self.ids), len(self.ids))  # already held, with logits
            self.assertEqual(s.logits, logits)
            longer = self.ids + self.model.tokenize(" who", add_bos=False)
            self.assertEqual(s.eval_reuse(longer), len(self.ids))
            self.assertEqual(s.tokens, longer)
            branch = self.ids[:5] + [300, 301]
            self.assertEqual(s.eval_reuse(branch), 5)
            self.assertEqual(s.tokens, branch)
            with self.model.session() as fresh:
                for x, y in zip(s.logits, fresh.eval(branch)):
                    self.assertAlmostEqual(x, y, delta=1e-4)
            with self.assertRaises(ember.EmberError) as e:
                s.eval_reuse(self.ids[:3] + [100000])
            self.assertEqual(e.exception.status, ember.Status.INVALID_TOKEN)
            self.assertEqual(s.tokens, branch)  # unchanged on error
            self.assertEqual(s.eval_reuse([]), 0)
            self.assertEqual(s.n_past, 0)
        with self.model.session(n_ctx=4) as small:
            with self.assertRaises(ember.EmberError) as e:
                small.eval_reuse(self.ids)
            self.assertEqual(e.exception.status, ember.Status.CONTEXT_FULL)


if __name__ == "__main__":
    unittest.main()
