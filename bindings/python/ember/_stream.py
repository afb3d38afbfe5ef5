"""Session.stream(): a generation as a Python iterator of text pieces.

ember's generate calls back into the host for each token, while an iterator must return to
its consumer for each piece. So the generation runs on a worker thread, and each token's
callback hands its piece to the consumer and then waits for the consumer's next move:
asking for the next piece lets generation go on, closing the stream stops it. The model
thus never runs ahead of the consumer, and a stream closed early leaves in the session
exactly the tokens whose text was handed out. Only the worker uses the session while the
stream is open (one thread at a time, as ember requires)."""
from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Tuple

if TYPE_CHECKING:
    from ember._session import GenerateResult, Session

_TEXT, _DONE, _ERROR = 0, 1, 2  # worker -> consumer
_NEXT, _CLOSE = 0, 1  # consumer -> worker


def _generate(session: "Session", prompt: Any, kwargs: Dict[str, Any],
              to_consumer: "queue.Queue[Tuple[int, Any]]", to_worker: "queue.Queue[int]") -> None:
    # Holds the queues, not the TextStream, so dropping the stream unblocks this thread.
    def hand_over(piece: str) -> bool:
        to_consumer.put((_TEXT, piece))
        return to_worker.get() == _CLOSE  # True stops the generation after this token

    try:
        to_consumer.put((_DONE, session.complete(prompt, on_text=hand_over, **kwargs)))
    except BaseException as e:  # noqa: BLE001 -- raised again in the consumer's thread
        to_consumer.put((_ERROR, e))


class TextStream(Iterator[str]):
    """Iterates over the pieces of text of one generation; .result is the GenerateResult
    once the iteration has ended. close() (also by leaving a `with` block or dropping the
    stream) stops the generation and waits for it to end; the result is then None."""

    def __init__(self, session: "Session", prompt: Any, kwargs: Dict[str, Any]) -> None:
        self._finished = True  # until the worker runs: close() then has nothing to stop
        if "on_text" in kwargs:
            raise TypeError("ember: stream() delivers the text itself; on_text is not accepted")
        self.result: Optional["GenerateResult"] = None
        self._to_consumer: "queue.Queue[Tuple[int, Any]]" = queue.Queue()
        self._to_worker: "queue.Queue[int]" = queue.Queue()
        self._holding_piece = False  # the worker waits for our move on the piece it handed out
        self._worker = threading.Thread(target=_generate, name="ember-stream", daemon=True,
                                        args=(session, prompt, kwargs, self._to_consumer, self._to_worker))
        self._worker.start()
        self._finished = False

    def __iter__(self) -> "TextStream":
        return self

    def __next__(self) -> str:
        if self._finished:
            raise StopIteration
        if self._holding_piece:
            self._to_worker.put(_NEXT)
        kind, value = self._to_consumer.get()
        self._holding_piece = kind == _TEXT
        if kind == _TEXT:
            return value
        self._finished = True
        self._worker.join()
        if kind == _ERROR:
            raise value
        self.result = value
        raise StopIteration

    def close(self) -> None:
        """Stops the generation (if it still runs) and waits for the worker to end."""
        if self._finished:
            return
        self._finished = True
        self._to_worker.put(_CLOSE)  # answers the piece held now, or the next one handed out
        while self._to_consumer.get()[0] == _TEXT:
            pass  # only the piece produced before the worker saw the close
        self._worker.join()

    def __enter__(self) -> "TextStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
