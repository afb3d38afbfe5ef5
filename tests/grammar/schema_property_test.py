#!/usr/bin/env python3
"""Property-based tests of lib/grammar's JSON Schema compiler over generated schemas.

A seeded generator writes random schemas over the keywords lib/grammar/json_schema.h lists
(type and type lists, properties in definition order, required, additionalProperties,
enum, const, items, prefixItems, minItems/maxItems, minLength/maxLength, minimum/maximum
and the exclusive bounds, pattern in the regex subset, formats, anyOf, oneOf in the forms
it supports, allOf, $ref to #/$defs and #/definitions with siblings and recursion), with
escapes and non-ASCII text in keys, values and patterns. For each schema it draws
instances and keeps those that Debian's python3-jsonschema (Draft202012Validator with its
format checker, independent of lib/grammar) accepts; each is serialized compactly (ASCII or
raw UTF-8) and `ember grammar-check --json-schema` must say accepted and complete. Then it
mutates them (wrong type, missing required, extra property, out of range, too long/short,
enum miss, pattern miss, truncated or damaged text) and keeps the mutants the validator
rejects: for those ember must never say accepted and complete. A schema ember refuses with
an error naming an unsupported keyword is counted (and must stay rare); any other refusal
is a failure. Finally `ember generate --json-schema` runs on some schemas with a trained
and a random model at temperatures 0, 0.7 and 1.5: whenever it stops by "grammar" or "eos"
the text must parse and validate ("length" claims nothing).

On a failure the schema and the text are written to a temporary folder, printed with the
command that reproduces the verdict, and the run's seed is printed (EMBER_PROPERTY_SEED=S
reruns the same cases; EMBER_PROPERTY_SCHEMAS=N runs more schemas).

Usage: schema_property_test.py EMBER_CLI MODELS_DIR"""
import concurrent.futures
import copy
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import jsonschema

VALIDATOR_CLASS = jsonschema.Draft202012Validator
FORMAT_CHECKER = VALIDATOR_CLASS.FORMAT_CHECKER

DEFAULT_SEED = 20261205
DEFAULT_SCHEMAS = 80
VALID_PER_SCHEMA = 4
MUTANTS_PER_SCHEMA = 5
GENERATION_SCHEMAS = 6  # of the schemas, the first few that compile get generation runs
GENERATION_MODELS = ["stories260K.gguf", "tiny-phi2.f32.gguf"]
GENERATION_RUNS = [("0", 0), ("0.7", 1), ("0.7", 2), ("1.5", 3), ("1.5", 4)]
GENERATION_TOKENS = 160
CHECK_MODEL = "stories260K.gguf"
WORKERS = 2

# ---------------------------------------------------------------------------------------
# Text material: ASCII, the characters JSON must escape, non-ASCII of 2, 3 and 4 UTF-8
# bytes (an astral character is a surrogate pair in \u spelling), separators and DEL.
PLAIN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;!?+*()[]{}<>=#%&'~^|$@`"
SPECIAL_CHARS = "\"\\/\n\t\r\b\f\x00\x01\x1f\x7f"
UNICODE_CHARS = "éüßñçØπλжЖкя中文日本語한국\u00a0\u2028\u2029\ufeff\u200b€✓😀🎉𝄞\U0010FFFD"
ALL_CHARS = PLAIN_CHARS + SPECIAL_CHARS + UNICODE_CHARS
KEY_POOL = ["id", "name", "age", "tags", "a", "b", "x", "y", "value", "items", "type", "$ref", "properties",
            "", "a b", "ключ", "名前", "émoji😀", "q\"uote", "back\\slash", "sl/ash", "tab\tkey", "new\nline",
            "zero\u0000", "ünï", "k1", "k2", "k3", "nested", "list", "flag", "kind", "€", "\u2028"]


def rand_string(rng, lo=0, hi=8, alphabet=None):
    n = rng.randint(lo, hi)
    if alphabet is not None:
        return "".join(rng.choice(alphabet) for _ in range(n))
    out = []
    for _ in range(n):
        r = rng.random()
        pool = PLAIN_CHARS if r < 0.6 else SPECIAL_CHARS if r < 0.75 else UNICODE_CHARS
        out.append(rng.choice(pool))
    return "".join(out)


def rand_number(rng):
    r = rng.random()
    if r < 0.4:
        return rng.randint(-1000, 1000)
    if r < 0.5:
        return rng.choice([0, -1, 1, 2**31, -(2**31), 2**53, 10**20, -(10**18)])
    if r < 0.85:
        return round(rng.uniform(-1000, 1000), rng.randint(0, 4))
    return rng.choice([1e-7, -2.5e-9, 1.5e300, -3e+20, 0.1, 123456789.125, 1e16])


def rand_json(rng, depth=0):
    r = rng.random()
    if depth >= 2 or r < 0.6:
        k = rng.randrange(5)
        if k == 0:
            return rand_string(rng)
        if k == 1:
            return rand_number(rng)
        if k == 2:
            return rng.choice([True, False])
        if k == 3:
            return None
        return rand_string(rng, 0, 3, UNICODE_CHARS + SPECIAL_CHARS)
    if r < 0.8:
        return [rand_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rand_key(rng): rand_json(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def rand_key(rng):
    return rng.choice(KEY_POOL) if rng.random() < 0.7 else rand_string(rng, 0, 6)


# ---------------------------------------------------------------------------------------
# Patterns: a small regex AST in the subset lib/grammar/regex.h supports, written so that
# Python's re and ECMA-262 read it the same way, with a generator of matching strings.
REGEX_META = set(".^$|?*+()[]{}\\/")
LITERAL_CHOICES = list("abcxyzABC019 _-,:;@#%&~'!") + list("\"") + ["é", "中", "😀", "ж", "\u00a0"] + list(".+()[]{}|?*$^\\/")
DOT_POOL = [c for c in ALL_CHARS if c not in "\n\r\u2028\u2029"]


class Pattern:
    """Nodes: ('lit', c, spelling) ('set', chars, spelling) ('seq', [nodes]) ('alt', [seqs])
    ('rep', node, lo, hi) where hi None is unbounded."""

    def __init__(self, rng):
        self.rng = rng

    def atom(self, depth):
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            c = rng.choice(LITERAL_CHOICES)
            k = rng.random()
            if c in REGEX_META:
                spelling = "\\" + c
            elif k < 0.15 and ord(c) < 0x10000:
                spelling = "\\u%04x" % ord(c)
            elif k < 0.2 and ord(c) < 0x100:
                spelling = "\\x%02X" % ord(c)
            else:
                spelling = c
            return ("lit", c, spelling)
        if r < 0.45:
            c, spelling = rng.choice([("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r"), ("\f", "\\f"), ("\x0b", "\\v")])
            return ("lit", c, spelling)
        if r < 0.7:
            kind = rng.randrange(6)
            if kind == 0:
                return ("set", "abcdefghijklmnopqrstuvwxyz", "[a-z]")
            if kind == 1:
                return ("set", "0123456789ABCDEF", "[0-9A-F]")
            if kind == 2:
                return ("set", "éü中😀-_", "[éü中😀\\-_]")
            if kind == 3:
                # Negated: anything but these (a sample of such characters is drawn).
                excluded = "abc\"\\\n"
                return ("set", "".join(c for c in ALL_CHARS if c not in excluded), "[^abc\"\\\\\\n]")
            if kind == 4:
                return ("set", "0123456789", "\\d")
            return ("set", "abcXYZ019_", "\\w")
        if r < 0.78:
            kind = rng.randrange(4)
            if kind == 0:
                return ("set", " \t\n\r\x0b\x0c", "\\s")
            if kind == 1:
                return ("set", "".join(c for c in PLAIN_CHARS + "\"\\/\x01" if not c.isdigit()), "\\D")
            if kind == 2:
                return ("set", " -.,:;!\"\\/\x01\x7f", "\\W")
            return ("set", "aZ9.\"\\é中😀\x01", "\\S")
        if r < 0.85:
            return ("set", "".join(DOT_POOL), ".")
        if depth < 2:
            alts = [self.seq(depth + 1, 1, 3) for _ in range(rng.randint(1, 3))]
            return ("alt", alts)
        return ("lit", "q", "q")

    def quantified(self, depth):
        node = self.atom(depth)
        r = self.rng.random()
        if r < 0.6:
            return node
        lo, hi = self.rng.choice([(0, 1), (0, None), (1, None), (2, 2), (1, 3), (0, 2), (2, None)])
        return ("rep", node, lo, hi)

    def seq(self, depth, lo=1, hi=5):
        return ("seq", [self.quantified(depth) for _ in range(self.rng.randint(lo, hi))])

    def spell(self, node):
        kind = node[0]
        if kind == "lit" or kind == "set":
            return node[2]
        if kind == "seq":
            return "".join(self.spell(n) for n in node[1])
        if kind == "alt":
            group = self.rng.choice(["(", "(?:"])
            return group + "|".join(self.spell(s) for s in node[1]) + ")"
        inner = self.spell(node[1])
        if node[1][0] == "seq" and len(node[1][1]) != 1:
            inner = "(?:" + inner + ")"
        lo, hi = node[2], node[3]
        if (lo, hi) == (0, 1):
            q = "?"
        elif (lo, hi) == (0, None):
            q = "*"
        elif (lo, hi) == (1, None):
            q = "+"
        elif hi is None:
            q = "{%d,}" % lo
        elif lo == hi:
            q = "{%d}" % lo
        else:
            q = "{%d,%d}" % (lo, hi)
        return inner + q

    def sample(self, node, rng):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "set":
            return rng.choice(node[1])
        if kind == "seq":
            return "".join(self.sample(n, rng) for n in node[1])
        if kind == "alt":
            return self.sample(rng.choice(node[1]), rng)
        lo, hi = node[2], node[3]
        n = rng.randint(lo, hi if hi is not None else lo + 3)
        return "".join(self.sample(node[1], rng) for _ in range(n))


def make_pattern(rng):
    """(pattern text, model) where the model draws matching strings."""
    p = Pattern(rng)
    n_alts = 1 if rng.random() < 0.8 else 2
    alts = []
    for _ in range(n_alts):
        body = p.seq(0, 1, 4)
        start = rng.random() < 0.75
        end = rng.random() < 0.75
        alts.append((start, end, body))
    text = "|".join(("^" if s else "") + p.spell(b) + ("$" if e else "") for s, e, b in alts)
    return text, {"alts": alts, "gen": p}


def sample_pattern(model, rng):
    start, end, body = rng.choice(model["alts"])
    s = model["gen"].sample(body, rng)
    if not start and rng.random() < 0.5:
        s = rand_string(rng, 0, 3) + s
    if not end and rng.random() < 0.5:
        s = s + rand_string(rng, 0, 3)
    return s


# ---------------------------------------------------------------------------------------
# Formats, drawn within what both the format checker and lib/grammar accept.
def sample_format(fmt, rng):
    def date():
        y = rng.randint(1, 9999)
        m = rng.randint(1, 12)
        days = [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return "%04d-%02d-%02d" % (y, m, rng.randint(1, days))

    def time_():
        t = "%02d:%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        if rng.random() < 0.3:
            t += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.5:
            t += rng.choice("Zz")
        else:
            t += "%s%02d:%02d" % (rng.choice("+-"), rng.randint(0, 23), rng.randint(0, 59))
        return t

    if fmt == "date":
        return date()
    if fmt == "time":
        return time_()
    if fmt == "date-time":
        return date() + rng.choice("Tt") + time_()
    if fmt == "uuid":
        h = "0123456789abcdefABCDEF"
        return "-".join("".join(rng.choice(h) for _ in range(n)) for n in (8, 4, 4, 4, 12))
    if fmt == "email":
        local = rand_string(rng, 1, 6, "abcxyz019._+-é")
        return local + "@" + rand_string(rng, 1, 6, "abcdxyz-") + "." + rng.choice(["com", "org", "de", "中国"])
    raise AssertionError(fmt)


# ---------------------------------------------------------------------------------------
# Schemas. Each generator returns (written, model): `written` goes into the schema file,
# `model` is an equivalent plain description the instance generator follows (allOf split
# back into one schema, $ref through `models`, patterns as ASTs).
class SchemaGen:
    def __init__(self, rng):
        self.rng = rng
        self.defs = {}
        self.definitions = {}
        self.models = {}
        self.n_defs = 0

    def root(self):
        written, model = self.schema(0)
        if isinstance(written, dict) and (self.defs or self.definitions):
            written = dict(written)
            if self.defs:
                written["$defs"] = self.defs
            if self.definitions:
                written["definitions"] = self.definitions
        if isinstance(written, dict) and self.rng.random() < 0.2:
            written = dict(written)
            written["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            written["title"] = "generated"
            written["description"] = "ünï\"code"
        return written, model

    def schema(self, depth):
        rng = self.rng
        kinds = ["string", "integer", "number", "boolean", "null", "types", "enum", "const"]
        weights = [5, 4, 3, 1, 1, 2, 2, 1]
        if depth < 3:
            kinds += ["object", "array", "anyOf", "oneOf", "allOf", "ref", "ref_sibling", "recursive", "any"]
            weights += [9 if depth == 0 else 4, 4, 2, 2, 2, 2, 1, 1 if depth == 0 else 0, 1]
        kind = rng.choices(kinds, weights)[0]
        return getattr(self, "gen_" + kind)(depth)

    # -- scalars
    def gen_string(self, depth):
        rng = self.rng
        s = {"type": "string"}
        r = rng.random()
        if r < 0.3:
            lo = rng.randint(0, 4)
            if rng.random() < 0.7:
                s["minLength"] = lo
            if rng.random() < 0.7:
                s["maxLength"] = lo + rng.randint(0, 6)
        elif r < 0.55:
            text, pmodel = make_pattern(rng)
            s["pattern"] = text
            m = dict(s)
            m["_pattern"] = pmodel
            return s, m
        elif r < 0.7:
            s["format"] = rng.choice(["date", "time", "date-time", "uuid", "email"])
        return s, dict(s)

    def int_bounds(self, s, integral_only):
        rng = self.rng
        lo = rng.randint(-50, 50)
        hi = lo + rng.randint(0, 60)

        def bound(v):
            if not integral_only and rng.random() < 0.3:
                return v + 0.5
            return v

        if rng.random() < 0.6:
            s["exclusiveMinimum" if rng.random() < 0.3 else "minimum"] = bound(lo)
        if rng.random() < 0.6:
            s["exclusiveMaximum" if rng.random() < 0.3 else "maximum"] = bound(hi)
        if rng.random() < 0.1:
            s.pop("minimum", None)
            s.pop("exclusiveMinimum", None)
            s["minimum"] = rng.choice([-(10**15), 10**12])

    def gen_integer(self, depth):
        s = {"type": "integer"}
        if self.rng.random() < 0.6:
            self.int_bounds(s, integral_only=False)
        return s, dict(s)

    def gen_number(self, depth):
        s = {"type": "number"}
        if self.rng.random() < 0.6:
            self.int_bounds(s, integral_only=True)
        return s, dict(s)

    def gen_boolean(self, depth):
        return {"type": "boolean"}, {"type": "boolean"}

    def gen_null(self, depth):
        return {"type": "null"}, {"type": "null"}

    def gen_any(self, depth):
        s = self.rng.choice([{}, True, {"description": "anything"}])
        return s, {}

    def gen_types(self, depth):
        rng = self.rng
        types = rng.sample(["string", "integer", "null", "boolean", "array", "object", "number"], rng.randint(2, 3))
        if "number" in types and "integer" in types:
            types.remove("integer")
        s = {"type": types}
        if "string" in types and rng.random() < 0.5:
            s["maxLength"] = rng.randint(1, 5)
        if ("integer" in types or "number" in types) and rng.random() < 0.5:
            s["minimum"] = rng.randint(-5, 5)
        if "array" in types and rng.random() < 0.5:
            s["maxItems"] = rng.randint(0, 3)
        return s, dict(s)

    def literal(self):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return rand_string(rng, 0, 6)
        if r < 0.65:
            return rng.randint(-100, 100)
        if r < 0.72:
            return rng.choice([1.5, -0.25, 3.0, 1e-7, 2.5e+20])
        if r < 0.8:
            return rng.choice([True, False, None])
        if r < 0.9:
            return [rand_json(rng, 2) for _ in range(rng.randint(0, 2))]
        return {rand_key(rng): rand_json(rng, 2) for _ in range(rng.randint(0, 2))}

    def gen_enum(self, depth):
        values = []
        for _ in range(self.rng.randint(1, 4)):
            v = self.literal()
            if not any(json_equal(v, w) for w in values):
                values.append(v)
        s = {"enum": values}
        return s, dict(s)

    def gen_const(self, depth):
        s = {"const": self.literal()}
        return s, dict(s)

    # -- containers
    def gen_object(self, depth, closed=None):
        rng = self.rng
        keys = []
        for _ in range(rng.randint(0, 4)):
            k = rand_key(rng)
            if k not in keys:
                keys.append(k)
        written_props, model_props = {}, {}
        for k in keys:
            if rng.random() < 0.05:
                written_props[k] = model_props[k] = False
                continue
            w, m = self.schema(depth + 1)
            written_props[k], model_props[k] = w, m
        s = {"type": "object"}
        if written_props or rng.random() < 0.5:
            s["properties"] = written_props
        required = [k for k in keys if written_props.get(k) is not False and rng.random() < 0.5]
        r = rng.random()
        if closed is None:
            closed = r < 0.4
        add_w = add_m = None
        if closed:
            add_w = add_m = False
        elif r < 0.55:
            add_w = add_m = True
        elif r < 0.75:
            add_w, add_m = self.schema(depth + 1)
        if add_w is not None:
            s["additionalProperties"] = add_w
        if add_w is not False and rng.random() < 0.15:
            extra = rand_key(rng)
            if extra not in keys:
                required.append(extra)  # required but undeclared: additionalProperties validates it
        if required or rng.random() < 0.2:
            s["required"] = required
        model = {"type": "object", "properties": model_props, "required": list(required),
                 "additionalProperties": add_m if add_m is not None else True}
        return s, model

    def gen_array(self, depth):
        rng = self.rng
        s = {"type": "array"}
        m = {"type": "array"}
        r = rng.random()
        if r < 0.35:
            prefix = [self.schema(depth + 1) for _ in range(rng.randint(1, 3))]
            s["prefixItems"] = [w for w, _ in prefix]
            m["prefixItems"] = [mm for _, mm in prefix]
            k = rng.random()
            if k < 0.4:
                s["items"] = m["items"] = False
            elif k < 0.7:
                s["items"], m["items"] = self.schema(depth + 1)
        elif r < 0.85:
            s["items"], m["items"] = self.schema(depth + 1)
        if rng.random() < 0.5:
            lo = rng.randint(0, 3)
            if rng.random() < 0.7:
                s["minItems"] = m["minItems"] = lo
            if rng.random() < 0.7:
                s["maxItems"] = m["maxItems"] = lo + rng.randint(0, 3)
        if rng.random() < 0.1:
            s["uniqueItems"] = False
        return s, m

    # -- combinators
    def gen_anyOf(self, depth):
        rng = self.rng
        r = rng.random()
        if r < 0.25:
            # Sibling keywords apply to every branch: integer ranges.
            branches = []
            for _ in range(rng.randint(2, 3)):
                lo = rng.randint(-30, 30)
                branches.append({"minimum": lo, "maximum": lo + rng.randint(0, 10)})
            return ({"type": "integer", "anyOf": branches},
                    {"anyOf": [dict(b, type="integer") for b in branches]})
        if r < 0.5:
            # An object whose branches each require something else.
            w, m = self.gen_object(depth)
            keys = [k for k, v in m["properties"].items() if v is not False]
            if len(keys) >= 2:
                picks = rng.sample(keys, 2)
                w = dict(w, anyOf=[{"required": [k]} for k in picks])
                return w, {"anyOf": [dict(m, required=m["required"] + [k]) for k in picks]}
        branches = [self.schema(depth + 1) for _ in range(rng.randint(2, 3))]
        return {"anyOf": [w for w, _ in branches]}, {"anyOf": [m for _, m in branches]}

    def gen_oneOf(self, depth):
        rng = self.rng
        if rng.random() < 0.5:
            # Branches of different types.
            makers = rng.sample([self.gen_string, self.gen_integer, self.gen_boolean, self.gen_null,
                                 lambda d: self.gen_object(d + 1), self.gen_array], rng.randint(2, 3))
            branches = [mk(depth + 1) for mk in makers]
        else:
            # Objects told apart by a const (or enum) discriminator.
            tags = rng.sample(["cat", "dog", "ünï", "a\"b", 1, 2, True, None], rng.randint(2, 3))
            branches = []
            for tag in tags:
                w, m = self.gen_object(depth + 1)
                disc = {"const": tag} if rng.random() < 0.7 else {"enum": [tag]}
                w = dict(w)
                w["properties"] = dict({"kind": disc}, **{k: v for k, v in w.get("properties", {}).items() if k != "kind"})
                w["required"] = ["kind"] + [k for k in w.get("required", []) if k != "kind"]
                m = dict(m)
                m["properties"] = dict({"kind": disc}, **{k: v for k, v in m["properties"].items() if k != "kind"})
                m["required"] = ["kind"] + [k for k in m["required"] if k != "kind"]
                branches.append((w, m))
        return {"oneOf": [w for w, _ in branches]}, {"oneOf": [m for _, m in branches]}

    def gen_allOf(self, depth):
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            # An object split in two: the first part declares every key (those of the
            # second part as true, so that a closed object stays closed to the rest only).
            w, m = self.gen_object(depth)
            props = w.get("properties", {})
            keys = list(props)
            cut = rng.randint(0, len(keys))
            first = {"type": "object", "properties": {k: (props[k] if i < cut else True) for i, k in enumerate(keys)}}
            second = {"properties": {k: props[k] for k in keys[cut:]}}
            if "additionalProperties" in w:
                first["additionalProperties"] = w["additionalProperties"]
            req = w.get("required", [])
            if req:
                first["required"] = [k for k in req if k in keys[:cut]] or req[:1]
                second["required"] = [k for k in req if k not in first["required"]]
                if not second["required"]:
                    del second["required"]
            parts = [first, second]
            if rng.random() < 0.3:
                name = self.new_def_name()
                self.defs[name] = first
                parts[0] = {"$ref": "#/$defs/" + pointer_token(name)}
            return {"allOf": parts}, m
        if r < 0.6:
            # The same property constrained by both parts.
            lo = rng.randint(-20, 20)
            hi = lo + rng.randint(0, 15)
            key = rand_key(rng)
            first = {"type": "object", "properties": {key: {"type": "integer", "minimum": lo}}, "required": [key]}
            second = {"properties": {key: {"maximum": hi}}}
            if rng.random() < 0.5:
                second["additionalProperties"] = False
            m = {"type": "object", "properties": {key: {"type": "integer", "minimum": lo, "maximum": hi}},
                 "required": [key], "additionalProperties": second.get("additionalProperties", True)}
            return {"allOf": [first, second]}, m
        if r < 0.8:
            w, m = self.gen_integer(depth)
            first = {"type": "integer"}
            second = {k: v for k, v in w.items() if k != "type"}
            if "minimum" in second and rng.random() < 0.5:
                first["minimum"] = second.pop("minimum")
            return {"allOf": [first, second] if second else [first]}, m
        lo = rng.randint(0, 3)
        hi = lo + rng.randint(0, 4)
        m = {"type": "string", "minLength": lo, "maxLength": hi}
        return {"allOf": [{"type": "string", "minLength": lo}, {"maxLength": hi}]}, m

    def new_def_name(self):
        self.n_defs += 1
        return self.rng.choice(["def", "Thing", "ünï", "a~b", "p/q", "x y"]) + str(self.n_defs)

    def ref_to(self, written, model):
        name = self.new_def_name()
        pointer_name = pointer_token(name)
        if self.rng.random() < 0.6:
            self.defs[name] = written
            ref = "#/$defs/" + pointer_name
        else:
            self.definitions[name] = written
            ref = "#/definitions/" + pointer_name
        self.models[ref] = model
        return ref

    def gen_ref(self, depth):
        w, m = self.schema(depth + 1)
        ref = self.ref_to(w, m)
        return {"$ref": ref}, {"$ref": ref}

    def gen_ref_sibling(self, depth):
        # $ref next to assertions: both apply.
        w, m = self.gen_object(depth + 1, closed=False)
        ref = self.ref_to(w, m)
        declared = [k for k, v in m["properties"].items() if v is not False and k not in m["required"]]
        if not declared:
            return {"$ref": ref}, {"$ref": ref}
        k = self.rng.choice(declared)
        m2 = copy.copy(m)
        m2["required"] = m["required"] + [k]
        return {"$ref": ref, "required": [k]}, m2

    def gen_recursive(self, depth):
        name = self.new_def_name()
        ref = "#/$defs/" + pointer_token(name)
        w = {"type": "object",
             "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 99},
                            "children": {"type": "array", "items": {"$ref": ref}, "maxItems": 2}},
             "required": ["value"], "additionalProperties": False}
        m = {"type": "object",
             "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 99},
                            "children": {"type": "array", "items": {"$ref": ref}, "maxItems": 2}},
             "required": ["value"], "additionalProperties": False}
        self.defs[name] = w
        self.models[ref] = m
        return {"$ref": ref}, {"$ref": ref}


def pointer_token(name):
    """A $defs name as a JSON pointer token inside a URI fragment."""
    return name.replace("~", "~0").replace("/", "~1").replace(" ", "%20")


def json_equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------
# Instances meant to be valid (the validator has the last word).
class InstanceGen:
    def __init__(self, rng, models):
        self.rng = rng
        self.models = models

    def value(self, m, depth=0):
        rng = self.rng
        if depth > 12:
            raise RecursionError
        if m is True or m == {}:
            return rand_json(rng)
        if m is False:
            return None
        if "$ref" in m:
            return self.value(self.models[m["$ref"]], depth + 1)
        if "anyOf" in m:
            return self.value(rng.choice(m["anyOf"]), depth + 1)
        if "oneOf" in m:
            return self.value(rng.choice(m["oneOf"]), depth + 1)
        if "const" in m:
            return copy.deepcopy(m["const"])
        if "enum" in m:
            return copy.deepcopy(rng.choice(m["enum"]))
        t = m.get("type")
        if isinstance(t, list):
            t = rng.choice(t)
        if t is None:
            return rand_json(rng)
        return getattr(self, "v_" + t)(m, depth)

    def v_null(self, m, depth):
        return None

    def v_boolean(self, m, depth):
        return self.rng.choice([True, False])

    def bounds(self, m):
        lo = -10**6
        hi = 10**6
        if "minimum" in m:
            lo = m["minimum"]
        if "exclusiveMinimum" in m:
            lo = max(lo, m["exclusiveMinimum"])
        if "maximum" in m:
            hi = m["maximum"]
        if "exclusiveMaximum" in m:
            hi = min(hi, m["exclusiveMaximum"])
        return lo, hi

    def v_integer(self, m, depth, as_number=False):
        lo, hi = self.bounds(m)
        a, b = math.ceil(lo), math.floor(hi)
        if a > b:
            return a
        r = self.rng.random()
        v = self.rng.choice([a, b, a + 1, b - 1]) if r < 0.4 else self.rng.randint(a, min(b, a + 10**7))
        if as_number and r > 0.8:
            # 5.0; not for "type": "integer", which lib/grammar keeps to integer spellings
            # on purpose (json_schema.h).
            return float(v)
        return v

    def v_number(self, m, depth):
        lo, hi = self.bounds(m)
        r = self.rng.random()
        if r < 0.3:
            return self.v_integer(m, depth, as_number=True)
        if r < 0.4 and lo == -10**6 and hi == 10**6:
            return rand_number(self.rng)
        x = round(self.rng.uniform(max(lo, -10**4), min(hi, 10**4)), self.rng.randint(1, 4))
        return x

    def v_string(self, m, depth):
        rng = self.rng
        if "_pattern" in m:
            return sample_pattern(m["_pattern"], rng)
        if "format" in m:
            return sample_format(m["format"], rng)
        lo = m.get("minLength", 0)
        hi = m.get("maxLength", lo + 8)
        return rand_string(rng, lo, max(lo, hi))

    def v_array(self, m, depth):
        rng = self.rng
        prefix = m.get("prefixItems", [])
        items = m.get("items", True)
        lo = m.get("minItems", 0)
        hi = m.get("maxItems", max(lo, len(prefix)) + 2)
        if items is False:
            hi = min(hi, len(prefix))
        n = rng.randint(min(lo, hi), hi) if hi >= lo else lo
        out = []
        for i in range(n):
            out.append(self.value(prefix[i] if i < len(prefix) else items, depth + 1))
        return out

    def v_object(self, m, depth):
        rng = self.rng
        props = m.get("properties", {})
        required = m.get("required", [])
        additional = m.get("additionalProperties", True)
        out = {}
        for k, sub in props.items():
            if sub is False:
                continue
            if k in required or rng.random() < 0.5:
                out[k] = self.value(sub, depth + 1)
        for k in required:  # undeclared required ones, after the declared
            if k not in out:
                out[k] = self.value(additional, depth + 1)
        if additional is not False:
            for _ in range(rng.randint(0, 2)):
                k = rand_key(rng)
                if k not in out and k not in props:
                    out[k] = self.value(additional, depth + 1)
        return out


# ---------------------------------------------------------------------------------------
# Mutants: changes that usually break validity (kept only when the validator says so).
def mutate_value(rng, v):
    r = rng.random()
    if isinstance(v, bool) or v is None:
        return rng.choice([0, "true", [], {}, 1.5, not v if isinstance(v, bool) else False])
    if isinstance(v, (int, float)):
        return rng.choice([v + 1, v - 1, v + 0.5, v - 0.5, v * 1000 + 7, -v - 1, str(v), None, 10**16, -(10**16)])
    if isinstance(v, str):
        if r < 0.25:
            return v + rand_string(rng, 1, 4)
        if r < 0.45:
            return v[:-1] if v else 5
        if r < 0.6:
            return rand_string(rng, 0, 6)
        if r < 0.75 and v:
            i = rng.randrange(len(v))
            return v[:i] + rng.choice(ALL_CHARS) + v[i + 1:]
        return rng.choice([0, None, [v], {"v": v}])
    if isinstance(v, list):
        if r < 0.3:
            return v + [copy.deepcopy(v[-1]) if v else rand_json(rng)]
        if r < 0.5:
            return v[:-1]
        if r < 0.6:
            return {"0": v}
        if v:
            i = rng.randrange(len(v))
            w = list(v)
            w[i] = mutate_value(rng, w[i])
            return w
        return [rand_json(rng)]
    if isinstance(v, dict):
        keys = list(v)
        if r < 0.25 and keys:
            w = dict(v)
            del w[rng.choice(keys)]
            return w
        if r < 0.5:
            w = dict(v)
            w[rand_key(rng)] = rand_json(rng)
            return w
        if r < 0.6:
            return [v]
        if keys:
            w = dict(v)
            k = rng.choice(keys)
            w[k] = mutate_value(rng, w[k])
            return w
        return {rand_key(rng): rand_json(rng)}
    return v


def mutate_text(rng, text):
    r = rng.random()
    if r < 0.5 and len(text) > 1:
        return text[:rng.randrange(1, len(text))]  # truncated
    if r < 0.7:
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(["}", "]", ",", "\"", ":", "x", "\\", "\n\n", "00", "-"]) + text[i:]
    if len(text) > 1:
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1:]
    return text + text


def serialize(rng, instance):
    """Compact, ASCII-only or raw UTF-8; now and then with the spaces or indentation the
    grammar's bounded whitespace allows."""
    ascii_only = rng.random() < 0.5
    r = rng.random()
    if r < 0.1:
        return json.dumps(instance, ensure_ascii=ascii_only, allow_nan=False)
    if r < 0.15:
        return json.dumps(instance, indent=2, ensure_ascii=ascii_only, allow_nan=False)
    return json.dumps(instance, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)


# ---------------------------------------------------------------------------------------
class Runner:
    def __init__(self, cli, models_dir, workdir):
        self.cli = cli
        self.models_dir = models_dir
        self.workdir = workdir
        self.counter = itertools.count()

    def write(self, name, text):
        path = os.path.join(self.workdir, "%05d-%s" % (next(self.counter), name))
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return path

    def check(self, schema_path, text_path):
        cmd = [self.cli, "grammar-check", "-m", os.path.join(self.models_dir, CHECK_MODEL),
               "--json-schema", schema_path, "--text-file", text_path]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        return cmd, proc

    def generate(self, schema_path, model, temp, seed):
        cmd = [self.cli, "generate", "-m", os.path.join(self.models_dir, model), "-p", "JSON:",
               "--json-schema", schema_path, "-n", str(GENERATION_TOKENS), "--temp", temp, "--seed", str(seed),
               "--output", "json"]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        return cmd, proc


def main():
    cli, models_dir = sys.argv[1:3]
    seed = int(os.environ.get("EMBER_PROPERTY_SEED", DEFAULT_SEED))
    n_schemas = int(os.environ.get("EMBER_PROPERTY_SCHEMAS", DEFAULT_SCHEMAS))
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="ember-schema-props-")
    runner = Runner(cli, models_dir, workdir)
    started = time.monotonic()
    stats = {"schemas": 0, "refused": 0, "instances": 0, "mutants": 0, "generations": 0, "generations_checked": 0,
             "empty": 0}
    failures = []
    refusals = []

    def fail(what, schema_path, text, cmd=None, detail=""):
        text_path = runner.write("failing.json", text)
        failures.append("%s\n  schema: %s\n  text:   %s (%r)\n  %s%s" % (
            what, schema_path, text_path, text[:300], ("command: " + " ".join(cmd) + "\n  ") if cmd else "", detail))

    # Draw every case first (one random stream, so a seed names the same cases), then run.
    cases = []
    for i in range(n_schemas):
        gen = SchemaGen(random.Random(rng.getrandbits(64)))
        written, model = gen.root()
        VALIDATOR_CLASS.check_schema(written)
        validator = VALIDATOR_CLASS(written, format_checker=FORMAT_CHECKER)
        crng = random.Random(rng.getrandbits(64))
        igen = InstanceGen(crng, gen.models)
        valid, seen = [], set()
        for _ in range(VALID_PER_SCHEMA * 4):
            if len(valid) >= VALID_PER_SCHEMA:
                break
            try:
                inst = igen.value(model)
            except RecursionError:
                continue
            if not validator.is_valid(inst):
                continue
            text = serialize(crng, inst)
            if text not in seen:
                seen.add(text)
                valid.append((inst, text))
        mutants = []
        for _ in range(MUTANTS_PER_SCHEMA * 4):
            if len(mutants) >= MUTANTS_PER_SCHEMA or not valid:
                break
            inst, text = crng.choice(valid)
            if crng.random() < 0.6:
                mutant = mutate_value(crng, copy.deepcopy(inst))
                if validator.is_valid(mutant):
                    continue
                mtext = serialize(crng, mutant)
            else:
                mtext = mutate_text(crng, text)
                try:
                    parsed = json.loads(mtext)
                    if validator.is_valid(parsed):
                        continue
                except ValueError:
                    pass
            if mtext not in seen:
                seen.add(mtext)
                mutants.append(mtext)
        schema_text = json.dumps(written, ensure_ascii=crng.random() < 0.5, indent=1)
        schema_path = runner.write("schema-%d.json" % i, schema_text)
        cases.append((i, schema_path, valid, mutants))

    def run_schema(case):
        i, schema_path, valid, mutants = case
        out = {"refused": None, "empty": False, "errors": [], "instances": 0, "mutants": 0}
        texts = [(t, True) for _, t in valid] + [(t, False) for t in mutants]
        if not texts:
            texts = [("null", None)]  # the schema must still compile (or be refused properly)
        for text, should_pass in texts:
            text_path = runner.write("text.json", text)
            cmd, proc = runner.check(schema_path, text_path)
            msg = proc.stderr.decode("utf-8", "replace").strip()
            if proc.returncode == 1 and "JSON Schema at" in msg and "unsupported" in msg:
                out["refused"] = msg  # names the keyword and where it is
                return out
            if proc.returncode == 1 and "matches nothing" in msg and not valid:
                out["empty"] = True  # no instance validates either
                return out
            if proc.returncode == 1:
                out["errors"].append(("ember refuses a generated schema: " + msg, schema_path, text, cmd))
                return out
            if proc.returncode != 0:
                out["errors"].append(("grammar-check exit %d: %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace")),
                                      schema_path, text, cmd))
                return out
            verdict = json.loads(proc.stdout)
            ok = verdict["accepted"] and verdict["complete"]
            if should_pass is True:
                out["instances"] += 1
                if not ok:
                    out["errors"].append(("valid instance not accepted+complete: %s" % proc.stdout.decode().strip(),
                                          schema_path, text, cmd))
            elif should_pass is False:
                out["mutants"] += 1
                if ok:
                    out["errors"].append(("INVALID instance accepted+complete: %s" % proc.stdout.decode().strip(),
                                          schema_path, text, cmd))
        return out

    compiled = []
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for case, res in zip(cases, pool.map(run_schema, cases)):
            stats["schemas"] += 1
            stats["instances"] += res["instances"]
            stats["mutants"] += res["mutants"]
            if res["refused"]:
                stats["refused"] += 1
                refusals.append("%s: %s" % (case[1], res["refused"]))
            elif res["empty"]:
                stats["empty"] += 1
            elif not res["errors"]:
                compiled.append(case)
            for what, schema_path, text, cmd in res["errors"]:
                fail(what, schema_path, text, cmd)

        # Constrained generation on the first schemas that compiled.
        jobs = []
        # Structured schemas first (objects, arrays, combinators): their grammars say most.
        def structured(case):
            with open(case[1], encoding="utf-8") as f:
                text = f.read()
            return any(k in text for k in ('"properties"', '"items"', '"anyOf"', '"oneOf"', '"allOf"'))

        chosen = ([c for c in compiled if structured(c)] + [c for c in compiled if not structured(c)])[:GENERATION_SCHEMAS]
        for case in chosen:
            for model in GENERATION_MODELS:
                for temp, s in GENERATION_RUNS:
                    jobs.append((case, model, temp, s))

        def run_generation(job):
            case, model, temp, s = job
            return job, runner.generate(case[1], model, temp, s)

        for (case, model, temp, s), (cmd, proc) in pool.map(run_generation, jobs):
            stats["generations"] += 1
            schema_path = case[1]
            if proc.returncode != 0:
                fail("generate exit %d: %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace")), schema_path, "", cmd)
                continue
            out = json.loads(proc.stdout.decode("utf-8"))
            if out["stop_reason"] == "length":
                continue  # a prefix: no claim
            if out["stop_reason"] not in ("grammar", "eos"):
                fail("generate stop_reason %r" % out["stop_reason"], schema_path, out["text"], cmd)
                continue
            stats["generations_checked"] += 1
            with open(schema_path, encoding="utf-8") as f:
                validator = VALIDATOR_CLASS(json.load(f), format_checker=FORMAT_CHECKER)
            try:
                instance = json.loads(out["text"])
            except ValueError as e:
                fail("generated text (%s) is not JSON: %s" % (out["stop_reason"], e), schema_path, out["text"], cmd)
                continue
            errors = [e.message for e in validator.iter_errors(instance)]
            if errors:
                fail("generated text (%s) does not validate: %s" % (out["stop_reason"], errors[:3]),
                     schema_path, out["text"], cmd)

    elapsed = time.monotonic() - started
    for r in refusals:
        print("REFUSED", r)
    for f in failures:
        print("FAIL", f)
    print("seed %d: %d schemas (%d refused with an unsupported-keyword error, %d with no instance), %d valid "
          "instances checked, %d invalid mutants checked, %d generations (%d ended by grammar/eos and were validated), "
          "%d failures, %.1f s"
          % (seed, stats["schemas"], stats["refused"], stats["empty"], stats["instances"], stats["mutants"],
             stats["generations"], stats["generations_checked"], len(failures), elapsed))
    if stats["refused"] * 10 > stats["schemas"]:
        print("FAIL more than 10% of the generated schemas were refused: the generator is meant to stay inside "
              "what lib/grammar supports")
        failures.append("refusals")
    if failures:
        print("reproduce with EMBER_PROPERTY_SEED=%d; files kept in %s" % (seed, workdir))
        return 1
    # Passed: the scratch files are of no use.
    for name in os.listdir(workdir):
        os.unlink(os.path.join(workdir, name))
    os.rmdir(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
