"""eval_batch: several sessions in one forward pass, each bit-identical to itself alone."""
import unittest

from _support import OTHER_MODEL, STORIES, ember


class EvalBatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def session(self, prompt):
        s = self.model.session(n_ctx=64)
        s.eval(self.model.tokenize(prompt))
        return s

    def test_each_session_matches_itself_alone(self):
        with self.session("Once upon a time") as a, self.session("The cat") as b:
            with a.clone() as alone_a, b.clone() as alone_b:
                alone_a.eval([5])
                alone_b.eval([7, 9, 11])
                statuses = ember.eval_batch([(a, [5]), (b, [7, 9, 11])])
                self.assertEqual(statuses, [ember.Status.OK, ember.Status.OK])
                self.assertEqual(a.logits, alone_a.logits)  # exact float equality
                self.assertEqual(b.logits, alone_b.logits)
                self.assertEqual(b.n_past, alone_b.n_past)

    def test_a_failing_session_is_unchanged_and_the_others_run(self):
        with self.session("Once") as a, self.session("Lily") as b:
            before = (b.tokens, b.logits)
            statuses = ember.eval_batch([(a, [5]), (b, [self.model.n_vocab])])
            self.assertEqual(statuses, [ember.Status.OK, ember.Status.INVALID_TOKEN])
            self.assertEqual((b.tokens, b.logits), before)

    def test_malformed_calls_raise_and_touch_nothing(self):
        with self.session("Once") as a, ember.Model(OTHER_MODEL) as other:
            n_past = a.n_past
            with self.assertRaises(ember.EmberError) as e:
                ember.eval_batch([(a, [5]), (a, [6])])
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
            with other.session() as c, self.assertRaises(ember.EmberError):
                ember.eval_batch([(a, [5]), (c, [6])])
            with self.assertRaises(ember.EmberError):
                ember.eval_batch([])
            self.assertEqual(a.n_past, n_past)


if __name__ == "__main__":
    unittest.main()
