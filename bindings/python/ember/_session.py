"""ember_session: a KV cache plus sampler on a model; evaluation, sampling, generation,
saved state, forks and prefix reuse."""
from __future__ import annotations

import ctypes
import dataclasses
import enum
import os
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from ember._handle import OwnedHandle
from ember._buffers import id_array, read_bytes, read_ids
from ember._errors import EmberError, Status, check, last_error, lib
from ember._model import Model, PathLike, Text, tokenize_flags, utf8
from ember._native import TOKEN_CALLBACK
from ember._options import SAMPLER_FIELDS, Sampler, StopReason, generate_options, sampler_options

# on_text(piece) -> truthy to stop after this token.
TextCallback = Callable[[str], Optional[bool]]


class KvType(enum.IntEnum):
    """Element type of the KV cache (EMBER_KV_*)."""
    F32 = 0
    F16 = 1
    BF16 = 2


@dataclasses.dataclass
class GenerateResult:
    """What a generation produced.

    text        -- everything streamed (the text before a stop string, never the stop string);
    tokens      -- the ids of the tokens reported with an id, i.e. those the session gained
                   after the prompt (len(tokens) is ember's n_generated);
    stop_reason -- why it stopped."""
    text: str
    tokens: List[int]
    stop_reason: StopReason


class _Streamer:
    """The C token callback of one generate call: collects the pieces, forwards them to the
    host's on_text, and keeps any exception of on_text to re-raise after the call (an
    exception cannot cross the C frames; the callback then asks ember to stop)."""

    def __init__(self, on_text: Optional[TextCallback]) -> None:
        self.on_text = on_text
        self.pieces: List[str] = []
        self.tokens: List[int] = []
        self.error: Optional[BaseException] = None
        self.c_callback = TOKEN_CALLBACK(self._call)  # kept alive by self for the whole call

    def _call(self, _user_data: Any, token: int, text: Any, length: int) -> int:
        try:
            piece = ctypes.string_at(text, length).decode("utf-8") if length else ""
            self.pieces.append(piece)
            if token >= 0:  # -1: the text before a stop string inside its first token
                self.tokens.append(token)
            return 1 if (self.on_text is not None and self.on_text(piece)) else 0
        except BaseException as e:  # noqa: BLE001 -- re-raised by finish()
            self.error = e
            return 1

    def finish(self, status: int, stop_reason: int) -> GenerateResult:
        result = GenerateResult("".join(self.pieces), self.tokens, StopReason(stop_reason))
        if self.error is not None:
            raise self.error
        if status != 0:
            raise EmberError(status, last_error(), result)
        return result


class Session(OwnedHandle):
    """A KV cache plus sampler state on a model. Use it from one thread at a time; only
    cancel() may be called from another thread while a call runs.

        with model.session(n_ctx=256, temperature=0.8, seed=1) as s:
            print(s.complete("Once upon a time", max_tokens=40, stop=["."]).text)

    Keyword arguments: n_ctx, n_threads, max_kv_bytes, context_shift (None = off, else the
    number of leading tokens to keep when the context overflows), kv_type (KvType),
    batch_invariant (logits independent of how tokens are split into calls, see ember.h), and
    either sampler=Sampler(...) or Sampler's fields (temperature, top_k, top_p, min_p,
    repeat_penalty, repeat_last_n, presence_penalty, frequency_penalty, logit_bias, seed).
    """

    def __init__(self, model: Model, *, n_ctx: Optional[int] = None, n_threads: Optional[int] = None,
                 max_kv_bytes: Optional[int] = None, context_shift: Optional[int] = None,
                 kv_type: int = KvType.F32, batch_invariant: bool = False, sampler: Optional[Sampler] = None,
                 **sampler_fields: Any) -> None:
        self._handle: Optional[ctypes.c_void_p] = None  # so close() works if creation fails
        self.model = model  # keeps the model alive as long as the session
        sampler = _sampler_from(sampler, sampler_fields)
        options, handle = ctypes.c_void_p(), ctypes.c_void_p()
        with sampler_options(sampler) as c_sampler:
            check(lib.ember_session_options_create(ctypes.byref(options)))
            try:
                if n_ctx is not None:
                    check(lib.ember_session_options_set_n_ctx(options, n_ctx))
                if n_threads is not None:
                    check(lib.ember_session_options_set_n_threads(options, n_threads))
                if max_kv_bytes is not None:
                    check(lib.ember_session_options_set_max_kv_bytes(options, max_kv_bytes))
                if context_shift is not None:
                    check(lib.ember_session_options_set_context_shift(options, 1, context_shift))
                check(lib.ember_session_options_set_kv_type(options, int(kv_type)))
                check(lib.ember_session_options_set_batch_invariant(options, 1 if batch_invariant else 0))
                check(lib.ember_session_options_set_sampler(options, c_sampler))
                check(lib.ember_session_create(model.handle, options, ctypes.byref(handle)))
            finally:
                lib.ember_session_options_free(options)
        self._handle = handle

    @classmethod
    def _adopt(cls, model: Model, handle: ctypes.c_void_p) -> "Session":
        session = cls.__new__(cls)
        session.model, session._handle = model, handle
        return session

    _what = "session"

    def _free(self, handle: ctypes.c_void_p) -> None:
        lib.ember_session_free(handle)

    # Facts.
    @property
    def n_past(self) -> int:
        """Tokens the session holds (its position)."""
        return lib.ember_session_n_past(self.handle)

    @property
    def n_ctx(self) -> int:
        return lib.ember_session_n_ctx(self.handle)

    @property
    def kv_bytes(self) -> int:
        """Bytes of KV cache held right now."""
        return lib.ember_session_kv_bytes(self.handle)

    @property
    def tokens(self) -> List[int]:
        """The token ids the session holds, oldest first."""
        return read_ids(lambda buf, cap, n: lib.ember_session_tokens(self.handle, buf, cap, n))

    # Evaluation and sampling.
    def reset(self) -> None:
        """Forgets every token and re-seeds the sampler."""
        check(lib.ember_session_reset(self.handle))

    def eval(self, ids: Sequence[int], all_logits: bool = False) -> Union[List[float], List[List[float]]]:
        """Feeds token ids as one batch. Returns the last position's logits, or with
        all_logits=True one logits row per fed id. On error the session is unchanged."""
        ids = list(ids)
        arr = id_array(ids)
        if not all_logits:
            check(lib.ember_session_eval(self.handle, arr, len(ids), None, 0))
            return self.logits
        n_vocab = self.model.n_vocab
        rows = (ctypes.c_float * max(len(ids) * n_vocab, 1))()
        check(lib.ember_session_eval(self.handle, arr, len(ids), rows, len(ids) * n_vocab))
        return [rows[i * n_vocab:(i + 1) * n_vocab] for i in range(len(ids))]

    @property
    def logits(self) -> List[float]:
        """The logits after the last evaluated token (EmberError if there are none)."""
        ptr, n = ctypes.POINTER(ctypes.c_float)(), ctypes.c_size_t()
        check(lib.ember_session_logits(self.handle, ctypes.byref(ptr), ctypes.byref(n)))
        return ptr[:n.value]

    def sample(self) -> int:
        """Picks the next token with the session's sampler (does not feed it back)."""
        token = ctypes.c_int32()
        check(lib.ember_session_sample(self.handle, ctypes.byref(token)))
        return token.value

    def set_sampler(self, sampler: Optional[Sampler] = None, **sampler_fields: Any) -> None:
        """Replaces the sampler (a Sampler, or its fields; unnamed fields take ember's
        defaults). Tokens and KV cache stay; the random sequence restarts from the seed."""
        with sampler_options(_sampler_from(sampler, sampler_fields)) as c_sampler:
            check(lib.ember_session_set_sampler(self.handle, c_sampler))

    def cancel(self) -> None:
        """Stops the call running on this session (it raises EmberError CANCELLED). Callable
        from any thread; ignored when no call runs."""
        check(lib.ember_session_cancel(self.handle))

    # Generation.
    def generate(self, prompt: Text, max_tokens: int = 128, on_text: Optional[TextCallback] = None,
                 ignore_eos: bool = False, add_bos: Optional[bool] = None, parse_special: bool = False) -> str:
        """ember_session_generate: generates up to max_tokens after `prompt`, calling
        on_text(piece) per token (a truthy return stops). Returns the generated text."""
        data, streamer, n = utf8(prompt), _Streamer(on_text), ctypes.c_int32()
        status = lib.ember_session_generate(self.handle, data, len(data), tokenize_flags(add_bos, parse_special),
                                            max_tokens, 1 if ignore_eos else 0, streamer.c_callback, None,
                                            ctypes.byref(n))
        return streamer.finish(status, StopReason.NONE).text

    def complete(self, prompt: Text = "", *, max_tokens: Optional[int] = None, stop: Sequence[str] = (),
                 stop_tokens: Sequence[int] = (), ignore_eos: bool = False, on_text: Optional[TextCallback] = None,
                 add_bos: Optional[bool] = None, parse_special: bool = False, lookup: int = 0,
                 draft: Optional["Session"] = None, draft_n: int = 4) -> GenerateResult:
        """ember_session_generate_ex: generates after `prompt` until an end-of-generation
        token (unless ignore_eos), a stop string (never part of the text), a stop token,
        max_tokens (None = no limit), on_text returning truthy, or cancel(). Returns a
        GenerateResult. A cancelled or context-full run raises EmberError whose .result
        holds what was generated (it stays in the session). lookup (up to 7 draft tokens from
        the context) or draft (a Session on a smaller model with the same vocabulary, draft_n
        guesses a step) turn on speculative decoding: the same tokens, sooner when guesses hit;
        speculation_stats then says how many were drafted and confirmed."""
        data, streamer = utf8(prompt), _Streamer(on_text)
        n, reason = ctypes.c_int32(), ctypes.c_int32()
        draft_handle = draft.handle if draft is not None else None
        with generate_options(max_tokens, ignore_eos, stop, stop_tokens, lookup, draft_handle, draft_n) as options:
            status = lib.ember_session_generate_ex(self.handle, data, len(data),
                                                   tokenize_flags(add_bos, parse_special), options,
                                                   streamer.c_callback, None, ctypes.byref(n), ctypes.byref(reason))
        result = streamer.finish(status, reason.value)
        assert n.value == len(result.tokens), (n.value, result.tokens)
        return result

    @property
    def speculation_stats(self) -> Tuple[int, int]:
        """(drafted, confirmed) draft tokens of the last complete() call
        (ember_session_speculation_stats)."""
        drafted, accepted = ctypes.c_int32(), ctypes.c_int32()
        check(lib.ember_session_speculation_stats(self.handle, ctypes.byref(drafted), ctypes.byref(accepted)))
        return drafted.value, accepted.value

    def stream(self, prompt: Text = "", **kwargs: Any) -> "TextStream":
        """complete() as an iterator of text pieces, produced as the model generates them:

            for piece in session.stream("Once upon a time", max_tokens=50, stop=["."]):
                print(piece, end="")

        Takes complete()'s keyword arguments except on_text. After the loop, the stream's
        .result holds the GenerateResult; breaking out of the loop stops the generation.
        Do not use the session otherwise while the stream is open."""
        from ember._stream import TextStream
        return TextStream(self, prompt, kwargs)

    # State, forks and prefix reuse.
    def save_state(self) -> bytes:
        """The session's state (tokens, KV cache, logits, random-generator position, grammar
        parse state) as bytes."""
        return read_bytes(lambda buf, cap, n: lib.ember_session_state_save(self.handle, buf, cap, n))

    def load_state(self, state: bytes) -> None:
        """Replaces the session's state with one from save_state() of a session of the same
        model. All or nothing: a corrupted blob or one from another model raises EmberError
        and leaves the session unchanged."""
        state = bytes(state)
        check(lib.ember_session_state_load(self.handle, state, len(state)))

    def save_state_file(self, path: PathLike) -> None:
        """save_state() into a file, atomically (the file holds the old or the new state)."""
        check(lib.ember_session_state_save_file(self.handle, os.fsencode(path)))

    def load_state_file(self, path: PathLike) -> None:
        check(lib.ember_session_state_load_file(self.handle, os.fsencode(path)))

    def clone(self) -> "Session":
        """An independent copy (tokens, KV cache, logits, sampler and its position)."""
        handle = ctypes.c_void_p()
        check(lib.ember_session_clone(self.handle, ctypes.byref(handle)))
        return Session._adopt(self.model, handle)

    def truncate(self, n_keep: int) -> None:
        """Forgets every token after the first n_keep (their KV is reused). Unless nothing
        was dropped, the logits are dropped too until the next eval."""
        check(lib.ember_session_truncate(self.handle, n_keep))

    def eval_reuse(self, ids: Sequence[int]) -> int:
        """Makes the session hold exactly `ids`, evaluating only what follows the longest
        prefix it already holds. Returns the number of tokens kept."""
        ids = list(ids)
        reused = ctypes.c_size_t()
        check(lib.ember_session_eval_reuse(self.handle, id_array(ids), len(ids), ctypes.byref(reused)))
        return reused.value


def eval_batch(batch: Sequence[Tuple["Session", Sequence[int]]]) -> List[Status]:
    """Evaluates several sessions of one model in one forward pass (ember_session_eval_batch):
    each (session, ids) pair feeds its ids to its session, which reads the weights once for
    all of them. Returns one Status per pair: Status.OK, or the error eval() would have
    raised for that session, which is then unchanged. Each session's logits are
    bit-identical to evaluating it alone. Raises EmberError for a malformed call (empty
    batch, a session twice, sessions of different models); then no session is touched."""
    pairs = [(session, list(ids)) for session, ids in batch]
    n = len(pairs)
    handles = (ctypes.c_void_p * max(n, 1))(*[session.handle for session, _ in pairs])
    tokens = id_array([token for _, ids in pairs for token in ids])
    counts = (ctypes.c_size_t * max(n, 1))(*[len(ids) for _, ids in pairs])
    statuses = (ctypes.c_int32 * max(n, 1))()
    check(lib.ember_session_eval_batch(handles, n, tokens, counts, statuses))
    return [_status(statuses[i]) for i in range(n)]


def _status(value: int) -> Status:
    try:
        return Status(value)
    except ValueError:  # a status this binding does not know: keep the int
        return value  # type: ignore[return-value]


def _sampler_from(sampler: Optional[Sampler], fields: dict) -> Sampler:
    unknown = set(fields) - SAMPLER_FIELDS
    if unknown:
        raise TypeError(f"ember: unknown session argument(s): {', '.join(sorted(unknown))}")
    if sampler is None:
        return Sampler(**fields)
    return dataclasses.replace(sampler, **fields)
