"""ember_generator: a generation the host advances one token at a time, so that many
sessions of one model decode together with one batched forward pass per step (step())."""
from __future__ import annotations

import ctypes
from typing import Any, List, Optional, Sequence

from ember._errors import EmberError, check, lib
from ember._handle import OwnedHandle
from ember._options import StopReason, generate_options
from ember._session import GenerateResult, Session, TextCallback, _Streamer


class Generator(OwnedHandle):
    """A stepped Session.complete(): it starts from the session's current logits (evaluate
    the prompt first, e.g. with Session.eval or Session.eval_reuse) and produces exactly the
    same tokens and text, one token per step(). A session has at most one open generator;
    do not use the session otherwise until the generator is closed (cancel() excepted).

        session.eval_reuse(model.tokenize("Once upon a time"))
        with Generator(session, max_tokens=40, stop=["."]) as g:
            while not g.done:
                g.step()
            print(g.result.text)
    """
    _what = "generator"

    def __init__(self, session: Session, *, max_tokens: Optional[int] = None, stop: Sequence[str] = (),
                 stop_tokens: Sequence[int] = (), ignore_eos: bool = False,
                 on_text: Optional[TextCallback] = None) -> None:
        self.session = session  # the generator must not outlive its session
        self._streamer = _Streamer(on_text)
        handle = ctypes.c_void_p()
        with generate_options(max_tokens, ignore_eos, stop, stop_tokens) as options:
            check(lib.ember_generator_create(session.handle, options, self._streamer.c_callback, None,
                                             ctypes.byref(handle)))
        self._handle = handle

    def _free(self, handle: ctypes.c_void_p) -> None:
        lib.ember_generator_free(handle)

    @property
    def done(self) -> bool:
        return bool(lib.ember_generator_done(self.handle))

    @property
    def stop_reason(self) -> StopReason:
        return StopReason(lib.ember_generator_stop_reason(self.handle))

    @property
    def n_generated(self) -> int:
        return lib.ember_generator_n_generated(self.handle)

    @property
    def error(self) -> str:
        """The message of the error that ended the generation, "" if none."""
        return lib.ember_generator_error(self.handle).decode("utf-8", "replace")

    @property
    def result(self) -> GenerateResult:
        """What was generated so far (all of it once done)."""
        s = self._streamer
        return GenerateResult("".join(s.pieces), list(s.tokens), self.stop_reason)

    def step(self) -> int:
        """step([self]); returns this generator's status."""
        return step([self])[0]


def step(generators: Sequence[Generator]) -> List[int]:
    """ember_generator_step: advances every generator that is not done by one token, with one
    batched evaluation for all. Returns each generator's status (0 while it runs or after a
    normal end; the error code it ended with otherwise, see Generator.error). Raises
    EmberError for a malformed call (a generator twice, sessions of different models), and
    re-raises an exception raised by an on_text callback."""
    handles = [g.handle for g in generators]
    n = len(handles)
    array = (ctypes.c_void_p * max(n, 1))(*handles)
    statuses = (ctypes.c_int32 * max(n, 1))()
    check(lib.ember_generator_step(array, n, statuses))
    for g in generators:
        error: Optional[BaseException] = g._streamer.error
        if error is not None:
            g._streamer.error = None
            raise error
    return [statuses[i] for i in range(n)]


__all__: List[Any] = ["Generator", "step", "EmberError"]
