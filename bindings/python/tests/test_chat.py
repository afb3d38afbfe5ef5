"""Chat templates: Chat (ember_chat_create/add/apply), apply_chat_template
(ember_chat_apply_json) and Model.chat_template, checked against the `ember template` CLI
and the conformance corpus in tests/data/chat."""
import json
import os
import tempfile
import unittest

from _support import DATA, MODELS, STORIES, ember, run_cli

CHAT_DATA = os.path.join(DATA, "chat")
MESSAGES = [("system", "You are terse."), ("user", "Hello, ünïcode ✓"), ("assistant", "Hi."),
            ("user", "Tell me a story")]
# A template of our own for a model directory that carries one.
OWN_TEMPLATE = ("{{ bos_token }}{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}"
                "{% if add_generation_prompt %}[ASSISTANT]{% endif %}")


def context(add_generation_prompt):
    return {"messages": [{"role": r, "content": c} for r, c in MESSAGES],
            "add_generation_prompt": add_generation_prompt}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ChatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = ember.Model(STORIES)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.model.close()
        cls.tmp.cleanup()

    def cli_template(self, ctx, *args):
        path = os.path.join(self.tmp.name, "context.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(ctx, f, ensure_ascii=False)
        return run_cli("template", "-j", path, *args).decode("utf-8")

    def model_with_template(self):
        """tiny-llama2's HF directory with a chat_template in tokenizer_config.json."""
        src = os.path.join(MODELS, "tiny-llama2")
        dst = os.path.join(self.tmp.name, "tiny-llama2-chat")
        if not os.path.isdir(dst):
            os.mkdir(dst)
            for name in os.listdir(src):
                if name != "tokenizer_config.json":
                    os.symlink(os.path.join(src, name), os.path.join(dst, name))
            with open(os.path.join(src, "tokenizer_config.json"), encoding="utf-8") as f:
                config = json.load(f)
            config["chat_template"] = OWN_TEMPLATE
            with open(os.path.join(dst, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump(config, f)
        return dst

    def test_default_template_equals_cli(self):
        self.assertEqual(self.model.chat_template, "")  # stories260K has none: ChatML default
        for gen in (False, True):
            with ember.Chat(MESSAGES) as chat:
                self.assertEqual(len(chat), len(MESSAGES))
                rendered = chat.apply(self.model, add_generation_prompt=gen)
            self.assertEqual(rendered, self.cli_template(context(gen), "-m", STORIES))
            self.assertEqual(rendered, ember.apply_chat_template(context(gen), self.model))
            self.assertIn("<|im_start|>user\nHello, ünïcode ✓<|im_end|>\n", rendered)
            self.assertEqual(rendered.endswith("<|im_start|>assistant\n"), gen)

    def test_template_file_equals_cli(self):
        path = os.path.join(CHAT_DATA, "templates", "HuggingFaceH4-zephyr-7b-beta.jinja")
        source = read(path)
        with ember.Chat() as chat:
            for role, content in MESSAGES:
                chat.add(role, content)
            self.assertEqual(chat.messages, MESSAGES)
            rendered = chat.apply(self.model, template=source, add_generation_prompt=True)
            self.assertEqual(rendered, self.cli_template(context(True), "-t", path, "-m", STORIES))
            without_model = chat.apply(None, template=source, add_generation_prompt=True)
        # Without a model, ember_chat_apply sets bos_token and eos_token to "" while
        # ember_chat_apply_json leaves them to the context (zephyr's template needs eos_token).
        with self.assertRaises(ember.EmberError) as e:
            ember.apply_chat_template(context(True), template=source)
        self.assertIn("eos_token", e.exception.message)
        empty_specials = dict(context(True), bos_token="", eos_token="")
        self.assertEqual(without_model, self.cli_template(empty_specials, "-t", path))
        self.assertEqual(without_model, ember.apply_chat_template(empty_specials, template=source))

    def test_model_template_equals_cli(self):
        directory = self.model_with_template()
        with ember.Model(directory) as model:
            self.assertEqual(model.chat_template, OWN_TEMPLATE)
            with ember.Chat([{"role": "user", "content": "Hi"}]) as chat:
                rendered = chat.apply(model, add_generation_prompt=True)
            self.assertEqual(rendered, "<s>[USER] Hi\n[ASSISTANT]")
            ctx = {"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": True}
            self.assertEqual(rendered, self.cli_template(ctx, "-m", directory))
            ctx["bos_token"] = "<BOS>"  # the context's own bos_token wins over the model's
            self.assertEqual(ember.apply_chat_template(ctx, model), "<BOS>[USER] Hi\n[ASSISTANT]")
            # The rendered text spells control tokens: parse them back to ids.
            ids = model.tokenize(rendered, add_bos=False, parse_special=True)
            self.assertEqual(ids[0], model.bos)

    def test_conformance_cases(self):
        with open(os.path.join(CHAT_DATA, "cases.jsonl"), encoding="utf-8") as f:
            cases = [json.loads(line) for line in f if line.strip()]
        checked = 0
        for case in cases[::7]:  # a spread of the corpus; the C++ tests run all of it
            source = read(os.path.join(CHAT_DATA, case["template"]))
            if case.get("error"):
                with self.assertRaises(ember.EmberError, msg=case["name"]) as e:
                    ember.apply_chat_template(case["context"], template=source)
                self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT, case["name"])
            else:
                self.assertEqual(ember.apply_chat_template(case["context"], template=source), case["expected"],
                                 case["name"])
                as_text = json.dumps(case["context"], ensure_ascii=False)
                self.assertEqual(ember.apply_chat_template(as_text, template=source), case["expected"])
            checked += 1
        self.assertGreater(checked, 10)

    def test_errors(self):
        with ember.Chat() as chat:
            chat.add("user", "Hi")
            with self.assertRaises(ember.EmberError) as e:
                chat.add("user", b"\xff\xfe")
            self.assertEqual(e.exception.status, ember.Status.INVALID_UTF8)
            self.assertEqual(len(chat), 1)  # unchanged
            with self.assertRaises(ember.EmberError) as e:
                chat.apply(None)  # neither a model nor a template
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
            with self.assertRaises(ember.EmberError) as e:
                chat.apply(self.model, template="{% for %}")
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT)
            with self.assertRaises(ember.EmberError) as e:
                chat.apply(self.model, template="{{ raise_exception('roles must alternate') }}")
            self.assertIn("roles must alternate", e.exception.message)
            with self.assertRaises(ember.EmberError) as e:
                chat.apply(self.model, template=b"\xff{{ x }}")
            self.assertEqual(e.exception.status, ember.Status.INVALID_UTF8)
            self.assertEqual(chat.apply(None, template=""), "")
        for bad in ("[1, 2]", "{not json", "3"):
            with self.assertRaises(ember.EmberError, msg=bad) as e:
                ember.apply_chat_template(bad, self.model)
            self.assertEqual(e.exception.status, ember.Status.INVALID_ARGUMENT, bad)
        with self.assertRaises(ValueError):
            ember.apply_chat_template({"x": float("nan")}, self.model)
        chat = ember.Chat()
        chat.close()
        with self.assertRaises(ValueError):
            chat.add("user", "late")


if __name__ == "__main__":
    unittest.main()
