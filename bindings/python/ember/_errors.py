"""Status codes (ember.h, "Status codes and errors") and the exception every failed call raises."""
from __future__ import annotations

import enum
from typing import Any, Optional

from ember._native import load

lib, library_path = load()


class Status(enum.IntEnum):
    """ember_status values. They never change; a newer library may return values not listed
    here, which EmberError keeps as plain ints."""
    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    INVALID_MODEL = 3
    UNSUPPORTED = 4
    OUT_OF_MEMORY = 5
    CONTEXT_FULL = 6
    CANCELLED = 7
    INVALID_TOKEN = 8
    INVALID_UTF8 = 9
    BUFFER_TOO_SMALL = 10
    INTERNAL = 11
    BAD_STATE = 12


def status_name(status: int) -> str:
    """The library's name for a status: "EMBER_OK", "EMBER_ERR_IO", ... ("EMBER_ERR_UNKNOWN"
    for a value the library does not know)."""
    return lib.ember_status_name(int(status)).decode("ascii")


class EmberError(RuntimeError):
    """A failed ember call.

    status  -- the ember_status (a Status when this binding knows the value, else an int);
    name    -- the library's name for it, e.g. "EMBER_ERR_CONTEXT_FULL";
    message -- ember_last_error() of the failed call.
    result  -- for a generation that failed part-way (cancelled, context full), what it
               produced before it stopped (a GenerateResult); else None.
    """

    def __init__(self, status: int, message: str, result: Optional[Any] = None) -> None:
        try:
            self.status: int = Status(status)
        except ValueError:
            self.status = status
        self.name: str = status_name(status)
        self.message: str = message
        self.result = result
        super().__init__(f"{self.name}: {message}")


def last_error() -> str:
    """ember_last_error() of the calling thread."""
    return lib.ember_last_error().decode("utf-8", "replace")


def check(status: int) -> None:
    """Raises EmberError for a non-zero status, with the calling thread's last error message."""
    if status != 0:
        raise EmberError(status, last_error())
