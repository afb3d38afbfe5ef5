"""Sampler and generation settings as Python values, and their ember option objects."""
from __future__ import annotations

import ctypes
import dataclasses
import enum
from contextlib import contextmanager
from typing import Iterator, Mapping, Optional, Sequence

from ember._buffers import id_array
from ember._errors import check, lib


@dataclasses.dataclass(frozen=True)
class Sampler:
    """How a session picks tokens (ember.h, "Sampler options"); the defaults are ember's:
    greedy, every filter and penalty off, seed 0.

    logit_bias maps token ids to a bias added to their logit (-math.inf forbids a token).
    grammar constrains the output (ember_sampler_options_set_grammar): GBNF text, a JSON
    Schema (text), or JSON mode; an invalid one raises EmberError when the options are made."""
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    repeat_penalty: float = 1.0
    repeat_last_n: int = 64
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logit_bias: Mapping[int, float] = dataclasses.field(default_factory=dict)
    seed: int = 0
    grammar_kind: "GrammarKind" = None  # type: ignore[assignment]
    grammar: str = ""


class GrammarKind(enum.IntEnum):
    """What Sampler.grammar holds (EMBER_GRAMMAR_*)."""
    NONE = 0
    GBNF = 1
    JSON_SCHEMA = 2
    JSON_OBJECT = 3


SAMPLER_FIELDS = frozenset(f.name for f in dataclasses.fields(Sampler))


@contextmanager
def sampler_options(sampler: Sampler) -> Iterator[ctypes.c_void_p]:
    """An ember_sampler_options holding `sampler`, freed on exit."""
    options = ctypes.c_void_p()
    check(lib.ember_sampler_options_create(ctypes.byref(options)))
    try:
        check(lib.ember_sampler_options_set_temperature(options, sampler.temperature))
        check(lib.ember_sampler_options_set_top_k(options, sampler.top_k))
        check(lib.ember_sampler_options_set_top_p(options, sampler.top_p))
        check(lib.ember_sampler_options_set_min_p(options, sampler.min_p))
        check(lib.ember_sampler_options_set_repeat_penalty(options, sampler.repeat_penalty, sampler.repeat_last_n))
        check(lib.ember_sampler_options_set_presence_penalty(options, sampler.presence_penalty))
        check(lib.ember_sampler_options_set_frequency_penalty(options, sampler.frequency_penalty))
        ids = list(sampler.logit_bias.keys())
        biases = (ctypes.c_float * max(len(ids), 1))(*[sampler.logit_bias[i] for i in ids])
        check(lib.ember_sampler_options_set_logit_bias(options, id_array(ids), biases, len(ids)))
        check(lib.ember_sampler_options_set_seed(options, sampler.seed))
        if sampler.grammar_kind:
            text = sampler.grammar.encode("utf-8")
            check(lib.ember_sampler_options_set_grammar(options, int(sampler.grammar_kind), text, len(text)))
        yield options
    finally:
        lib.ember_sampler_options_free(options)


class StopReason(enum.IntEnum):
    """Why a generation stopped (EMBER_STOP_*)."""
    NONE = 0
    EOS = 1
    STRING = 2
    MAX_TOKENS = 3
    CALLBACK = 4
    CANCELLED = 5
    CONTEXT_FULL = 6
    TOKEN = 7
    GRAMMAR = 8


@contextmanager
def generate_options(max_tokens: Optional[int], ignore_eos: bool, stop: Sequence[str],
                     stop_tokens: Sequence[int], lookup: int = 0, draft: Optional[ctypes.c_void_p] = None,
                     draft_n: int = 0) -> Iterator[ctypes.c_void_p]:
    """An ember_generate_options with these settings, freed on exit. lookup / draft (a session
    handle) with draft_n turn on speculative decoding (output unchanged, see ember.h)."""
    if isinstance(stop, (str, bytes)):
        stop = [stop]  # one stop string, not its characters
    options = ctypes.c_void_p()
    check(lib.ember_generate_options_create(ctypes.byref(options)))
    try:
        if max_tokens is not None:
            check(lib.ember_generate_options_set_max_tokens(options, max_tokens))
        check(lib.ember_generate_options_set_ignore_eos(options, 1 if ignore_eos else 0))
        encoded = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in stop]
        if any(b"\0" in s for s in encoded):
            raise ValueError("ember: a stop string cannot hold a NUL character")  # C would cut it there
        strings = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
        check(lib.ember_generate_options_set_stop_strings(options, strings, len(encoded)))
        check(lib.ember_generate_options_set_stop_tokens(options, id_array(stop_tokens), len(stop_tokens)))
        check(lib.ember_generate_options_set_lookup(options, lookup))
        check(lib.ember_generate_options_set_draft(options, draft, draft_n if draft is not None else 0))
        yield options
    finally:
        lib.ember_generate_options_free(options)
