"""Log sinks (ember.h, "Logging"): Python callables behind ember_log_callback."""
from __future__ import annotations

import enum
import sys
from typing import Callable, List, Optional

from ember._errors import lib
from ember._native import LOG_CALLBACK


class LogLevel(enum.IntEnum):
    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3


LogHandler = Callable[[LogLevel, str], None]


def make_log_callback(handler: LogHandler) -> LOG_CALLBACK:
    """Wraps `handler(level, message)` as a C callback. ember may call it from its worker
    threads (ctypes takes the GIL). An exception cannot cross into C: it is printed and
    dropped."""
    def trampoline(_user_data, level, message):
        try:
            handler(LogLevel(level) if 0 <= level <= 3 else level, message.decode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001 -- nothing may propagate into the library
            sys.excepthook(*sys.exc_info())
    return LOG_CALLBACK(trampoline)


# Every process-wide sink ever installed. ember holds the current one's address, and another
# thread may still be inside a replaced one, so none is ever released (they are tiny).
_installed: List[LOG_CALLBACK] = []


def set_log_callback(handler: Optional[LogHandler], min_level: int = LogLevel.WARN) -> None:
    """Installs `handler(level, message)` as the process-wide log sink (None silences ember
    again, its default). Messages below `min_level` are dropped."""
    callback = make_log_callback(handler) if handler is not None else LOG_CALLBACK()  # NULL: silence
    _installed.append(callback)
    lib.ember_set_log_callback(callback, None, int(min_level))
