"""Generation with stop conditions (ember_session_generate_ex and its options), the
end-of-generation set, the sampler additions (logit bias, presence/frequency penalties,
set_sampler), streaming, and token-for-token agreement with the `ember generate` CLI."""
import math
import threading
import json
import unittest

from _support import STORIES, ember, run_cli

PROMPT = "Once upon a time"


class GenerationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)
        cls.prompt_ids = cls.model.tokenize(PROMPT)
        # An unconstrained greedy continuation, to pick stop strings and tokens from.
        with cls.model.session() as s:
            cls.free_run = s.complete(PROMPT, max_tokens=60, ignore_eos=True)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def test_speculative_decoding_keeps_the_output(self):
        story = "Once upon a time there was a little girl. She liked to play. Once upon a time there was a"
        for seed, temperature in ((1, 0.0), (2, 0.8)):
            with self.model.session(temperature=temperature, seed=seed) as plain, \
                    self.model.session(temperature=temperature, seed=seed) as fast, \
                    self.model.session(temperature=temperature, seed=seed, batch_invariant=True) as drafted, \
                    self.model.session() as draft:
                want = plain.complete(story, max_tokens=40)
                got = fast.complete(story, max_tokens=40, lookup=5)
                self.assertEqual(got.tokens, want.tokens)
                self.assertEqual(got.text, want.text)
                self.assertEqual(plain.speculation_stats, (0, 0))
                n_drafted, n_accepted = fast.speculation_stats
                self.assertGreater(n_drafted, 0)
                self.assertLessEqual(n_accepted, n_drafted)
                by_model = drafted.complete(story, max_tokens=40, draft=draft, draft_n=3)
                self.assertEqual(by_model.tokens, want.tokens)
                self.assertGreater(drafted.speculation_stats[0], 0)
        with self.model.session() as s, self.assertRaises(ember.EmberError):
            s.complete(story, max_tokens=4, lookup=8)

    def test_json_schema_grammar_constrains_the_output(self):
        schema = '{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],' \
                 '"additionalProperties":false}'
        for seed in range(3):
            sampler = ember.Sampler(temperature=1.0, seed=seed, grammar_kind=ember.GrammarKind.JSON_SCHEMA,
                                    grammar=schema)
            with self.model.session(sampler=sampler) as s:
                r = s.complete(PROMPT, max_tokens=48)
            if r.stop_reason in (ember.StopReason.GRAMMAR, ember.StopReason.EOS):
                value = json.loads(r.text)
                self.assertEqual(list(value), ["n"], r.text)
                self.assertIsInstance(value["n"], int)
            else:
                self.assertEqual(r.stop_reason, ember.StopReason.MAX_TOKENS)

    def test_bad_grammar_raises_with_position(self):
        with self.assertRaises(ember.EmberError) as e:
            self.model.session(sampler=ember.Sampler(grammar_kind=ember.GrammarKind.GBNF, grammar="root ::= ("))
        self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
        self.assertIn("line 1", e.exception.message)
        with self.assertRaises(ember.EmberError) as e:
            self.model.session(sampler=ember.Sampler(grammar_kind=ember.GrammarKind.JSON_SCHEMA,
                                                     grammar='{"type":"string","not":{}}'))
        self.assertIn("not", e.exception.message)

    def test_token_is_eog(self):
        m = self.model
        self.assertTrue(m.token_is_eog(m.eos))
        self.assertFalse(m.token_is_eog(m.bos))
        self.assertFalse(m.token_is_eog(100))
        self.assertFalse(m.token_is_eog(-1))
        self.assertFalse(m.token_is_eog(m.n_vocab))
        self.assertEqual([t for t in range(m.n_vocab) if m.token_is_eog(t)], [m.eos])

    def test_max_tokens(self):
        with self.model.session() as s:
            r = s.complete(PROMPT, max_tokens=7, ignore_eos=True)
            self.assertEqual(r.stop_reason, ember.StopReason.MAX_TOKENS)
            self.assertEqual(len(r.tokens), 7)
            self.assertEqual(r.tokens, self.free_run.tokens[:7])
            self.assertEqual(s.tokens, self.prompt_ids + r.tokens)
            self.assertEqual(s.model.detokenize(r.tokens).decode(), r.text)
            r = s.complete(max_tokens=0)
            self.assertEqual((r.stop_reason, r.tokens, r.text), (ember.StopReason.MAX_TOKENS, [], ""))

    def test_eos_stops_unless_ignored(self):
        eos = self.model.eos
        with self.model.session(logit_bias={eos: 100.0}) as s:  # the bias makes EOS the greedy pick
            r = s.complete(PROMPT, max_tokens=5)
            self.assertEqual((r.stop_reason, r.tokens, r.text), (ember.StopReason.EOS, [], ""))
            self.assertEqual(s.n_past, len(self.prompt_ids))
        with self.model.session(logit_bias={eos: 100.0}) as s:
            r = s.complete(PROMPT, max_tokens=3, ignore_eos=True)
            self.assertEqual((r.stop_reason, r.tokens), (ember.StopReason.MAX_TOKENS, [eos] * 3))

    def test_stop_token_is_neither_reported_nor_kept(self):
        stop = self.free_run.tokens[4]
        first = self.free_run.tokens.index(stop)
        with self.model.session() as s:
            r = s.complete(PROMPT, max_tokens=60, ignore_eos=True, stop_tokens=[stop])
            self.assertEqual(r.stop_reason, ember.StopReason.TOKEN)
            self.assertEqual(r.tokens, self.free_run.tokens[:first])
            self.assertEqual(s.tokens, self.prompt_ids + r.tokens)

    def test_stop_string_never_reaches_the_text(self):
        text = self.free_run.text
        # A stop string that spans a token boundary: the middle of two neighbouring tokens.
        pieces = [self.model.detokenize([t]).decode() for t in self.free_run.tokens]
        start = len("".join(pieces[:10]))
        stop = text[start - 2:start + 2]
        cut = text.index(stop)
        for streaming in (False, True):
            with self.model.session() as s:
                seen = []
                if streaming:
                    stream = s.stream(PROMPT, max_tokens=60, ignore_eos=True, stop=[stop, "never-there"])
                    seen = list(stream)
                    r = stream.result
                else:
                    r = s.complete(PROMPT, max_tokens=60, ignore_eos=True, stop=[stop, "never-there"],
                                   on_text=seen.append)
                self.assertEqual(r.stop_reason, ember.StopReason.STRING)
                self.assertEqual(r.text, text[:cut])
                self.assertEqual("".join(seen), r.text)
                self.assertNotIn(stop, "".join(seen))
                self.assertTrue(all(stop not in p for p in seen))
                # The session ends right after the last token reported with an id.
                self.assertEqual(s.tokens, self.prompt_ids + r.tokens)
                self.assertTrue(text[:cut].startswith(self.model.detokenize(r.tokens).decode()))

    def test_stop_string_argument_errors(self):
        with self.model.session() as s:
            for stop, status in (([""], ember.Status.INVALID_ARGUMENT), ([b"\xff"], ember.Status.INVALID_UTF8)):
                with self.assertRaises(ember.EmberError) as e:
                    s.complete(PROMPT, stop=stop)
                self.assertEqual(e.exception.status, status)
            with self.assertRaises(ember.EmberError) as e:
                s.complete(PROMPT, stop_tokens=[-3])
            self.assertEqual(e.exception.status, ember.Status.INVALID_TOKEN)
            with self.assertRaises(ember.EmberError) as e:
                s.complete(PROMPT, max_tokens=-1)
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
            with self.assertRaises(ValueError):
                s.complete(PROMPT, stop=["a\0b"])
            self.assertEqual(s.n_past, 0)  # option errors happen before anything runs
            r = s.complete(PROMPT, max_tokens=2, stop="x" * 500)  # a single string is one stop string
            self.assertEqual(r.stop_reason, ember.StopReason.MAX_TOKENS)

    def test_callback_stop_exception_and_cancel(self):
        with self.model.session() as s:
            seen = []
            r = s.complete(PROMPT, ignore_eos=True, on_text=lambda p: seen.append(p) or len(seen) == 3)
            self.assertEqual((r.stop_reason, len(r.tokens), len(seen)), (ember.StopReason.CALLBACK, 3, 3))
            self.assertEqual(s.n_past, len(self.prompt_ids) + 3)

        def boom(piece):
            raise KeyError("from the callback")
        with self.model.session() as s:
            with self.assertRaises(KeyError):
                s.complete(PROMPT, max_tokens=10, on_text=boom)
            with self.assertRaises(KeyError):
                s.generate(PROMPT, max_tokens=10, on_text=boom)

        with self.model.session() as s:
            count = []

            def cancel_at_four(piece):
                count.append(piece)
                if len(count) == 4:
                    other = threading.Thread(target=s.cancel)  # cancel() is callable from any thread
                    other.start()
                    other.join()

            with self.assertRaises(ember.EmberError) as e:
                s.complete(PROMPT, ignore_eos=True, max_tokens=50, on_text=cancel_at_four)
            self.assertEqual(e.exception.status, ember.Status.CANCELLED)
            partial = e.exception.result
            self.assertEqual(partial.stop_reason, ember.StopReason.CANCELLED)
            self.assertEqual(s.tokens, self.prompt_ids + partial.tokens)
            s.cancel()  # no call running: ignored
            self.assertEqual(s.complete(max_tokens=1).stop_reason, ember.StopReason.MAX_TOKENS)

    def test_context_full_keeps_what_was_generated(self):
        with self.model.session(n_ctx=16) as s:
            with self.assertRaises(ember.EmberError) as e:
                s.complete(PROMPT, ignore_eos=True)
            self.assertEqual(e.exception.status, ember.Status.CONTEXT_FULL)
            partial = e.exception.result
            self.assertEqual(partial.stop_reason, ember.StopReason.CONTEXT_FULL)
            self.assertEqual(s.n_past, 16)
            self.assertEqual(s.tokens, self.prompt_ids + partial.tokens)
            with self.assertRaises(ember.EmberError) as e:
                list(s.stream(max_tokens=3))  # the stream raises in the consumer's thread
            self.assertEqual(e.exception.status, ember.Status.CONTEXT_FULL)

    def test_stream_matches_complete_and_stops_early(self):
        settings = dict(temperature=0.9, top_k=40, seed=11)
        with self.model.session(**settings) as s:
            whole = s.complete(PROMPT, max_tokens=40, ignore_eos=True)
        with self.model.session(**settings) as s:
            stream = s.stream(PROMPT, max_tokens=40, ignore_eos=True)
            self.assertIsInstance(stream, ember.TextStream)
            pieces = list(stream)
            self.assertEqual("".join(pieces), whole.text)
            self.assertEqual(stream.result, whole)
        with self.model.session(**settings) as s:
            with s.stream(PROMPT, max_tokens=40, ignore_eos=True) as stream:
                got = [next(stream) for _ in range(5)]
            self.assertEqual("".join(got), whole.text[:len("".join(got))])
            self.assertIsNone(stream.result)
            # Closing stops the generation: the session holds exactly what was handed out.
            self.assertEqual(s.tokens, self.prompt_ids + whole.tokens[:5])
            self.assertEqual(list(stream), [])
        with self.assertRaises(TypeError):
            self.model.session().stream(PROMPT, on_text=print)

    def test_logit_bias(self):
        greedy = self.free_run.tokens[0]
        with self.model.session(logit_bias={greedy: -math.inf}) as s:
            r = s.complete(PROMPT, max_tokens=1)
            self.assertNotEqual(r.tokens, [greedy])
        favoured = 300
        with self.model.session(logit_bias={favoured: 50.0}) as s:
            self.assertEqual(s.complete(PROMPT, max_tokens=3, ignore_eos=True).tokens, [favoured] * 3)
        for bias, status in (({512: 1.0}, ember.Status.INVALID_TOKEN), ({-1: 1.0}, ember.Status.INVALID_TOKEN),
                             ({5: math.inf}, ember.Status.INVALID_ARGUMENT),
                             ({5: math.nan}, ember.Status.INVALID_ARGUMENT)):
            with self.assertRaises(ember.EmberError, msg=bias) as e:
                self.model.session(logit_bias=bias)
            self.assertEqual(e.exception.status, status, bias)

    def test_presence_and_frequency_penalties(self):
        self.assertGreater(len(self.free_run.tokens), len(set(self.free_run.tokens)))  # greedy repeats
        for penalty in ("presence_penalty", "frequency_penalty"):
            with self.model.session(**{penalty: 100.0}) as s:
                r = s.complete(PROMPT, max_tokens=60, ignore_eos=True)
                self.assertEqual(len(r.tokens), len(set(r.tokens)), penalty)  # no token twice
            with self.assertRaises(ember.EmberError) as e:
                self.model.session(**{penalty: math.nan})
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
        with self.model.session(frequency_penalty=-100.0) as s:  # negative favours repeats
            r = s.complete(PROMPT, max_tokens=10, ignore_eos=True)
            self.assertEqual(r.tokens, [r.tokens[0]] * 10)

    def test_set_sampler(self):
        sampler = ember.Sampler(temperature=0.9, top_p=0.9, seed=21)
        with self.model.session(sampler=sampler) as fresh:
            fresh.eval(self.prompt_ids)
            expected = [fresh.sample() for _ in range(5)]
        with self.model.session() as s:
            s.eval(self.prompt_ids)
            s.set_sampler(sampler)
            self.assertEqual(s.n_past, len(self.prompt_ids))  # tokens and KV stay
            self.assertEqual([s.sample() for _ in range(5)], expected)
            with self.assertRaises(ember.EmberError) as e:
                s.set_sampler(logit_bias={100000: 1.0})
            self.assertEqual(e.exception.status, ember.Status.INVALID_TOKEN)
            s.set_sampler(temperature=0.9, top_p=0.9, seed=21)  # the same, by fields
            self.assertEqual([s.sample() for _ in range(5)], expected)
            s.set_sampler()  # ember's defaults: greedy
            self.assertEqual(s.sample(), self.free_run.tokens[0])

    def test_generate_ex_matches_the_cli(self):
        """`ember generate` and the binding, given the same settings and seed, write the same
        text: the CLI prints the prompt, the generated text and a newline."""
        cases = [
            dict(seed=7, n=48, stop=None),
            dict(seed=123, n=64, stop="."),
        ]
        for case in cases:
            args = ["generate", "-m", STORIES, "-p", PROMPT, "-n", str(case["n"]), "--seed", str(case["seed"]),
                    "--temp", "0.8", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05",
                    "--repeat-penalty", "1.1", "-t", "1"]
            if case["stop"]:
                args += ["--stop", case["stop"]]
            cli_out = run_cli(*args).decode("utf-8")
            sampler = ember.Sampler(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1,
                                    repeat_last_n=64, seed=case["seed"])
            with self.model.session(sampler=sampler, n_threads=1) as s:
                r = s.complete(PROMPT, max_tokens=case["n"], stop=[case["stop"]] if case["stop"] else [])
            self.assertEqual(cli_out, PROMPT + r.text + "\n", case)
            self.assertGreater(len(r.tokens), 5, case)
            if case["stop"]:
                self.assertEqual(r.stop_reason, ember.StopReason.STRING)


if __name__ == "__main__":
    unittest.main()
