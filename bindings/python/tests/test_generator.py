"""Stepped generation (ember_generator_*): Generator alone and ember.step over several
give exactly Session.complete's text, tokens and stop reason."""
import unittest

from _support import STORIES, ember

PROMPT = "Once upon a time"


class GeneratorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)
        cls.prompt_ids = cls.model.tokenize(PROMPT)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def reference(self, seed, **kwargs):
        with self.model.session(temperature=0.8, seed=seed) as s:
            return s.complete(PROMPT, **kwargs)

    def test_steps_like_complete_alone_and_together(self):
        configs = [dict(max_tokens=30, ignore_eos=True), dict(max_tokens=50, stop=["."]),
                   dict(max_tokens=12, ignore_eos=True)]
        want = [self.reference(seed, **kw) for seed, kw in enumerate(configs)]
        sessions = [self.model.session(temperature=0.8, seed=seed) for seed in range(len(configs))]
        generators = []
        for s, kw in zip(sessions, configs):
            s.eval(self.prompt_ids)
            generators.append(ember.Generator(s, **kw))
        while not all(g.done for g in generators):
            self.assertEqual(ember.step(generators), [0] * len(generators))
        for g, w in zip(generators, want):
            self.assertEqual(g.result, w)
            self.assertEqual(g.n_generated, len(w.tokens))
            self.assertEqual(g.error, "")
        for g in generators:
            g.close()
        for s in sessions:
            s.close()

    def test_errors(self):
        with self.model.session() as s:
            with self.assertRaises(ember.EmberError) as e:
                ember.Generator(s)  # nothing evaluated: no logits
            self.assertEqual(e.exception.name, "EMBER_ERR_BAD_STATE")
            s.eval(self.prompt_ids)
            with ember.Generator(s, max_tokens=3) as g:
                with self.assertRaises(ember.EmberError):
                    ember.step([g, g])
                with self.assertRaises(ember.EmberError):
                    ember.Generator(s)  # one live generator per session
                while not g.done:
                    g.step()
                self.assertEqual(g.stop_reason, ember.StopReason.MAX_TOKENS)


if __name__ == "__main__":
    unittest.main()
