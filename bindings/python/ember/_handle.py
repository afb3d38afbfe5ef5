"""The one lifecycle of every ember object Python owns (model, session, chat): `handle`
refuses a closed object instead of passing NULL to C, close() frees it exactly once, and
`with` and garbage collection both close it."""
from __future__ import annotations

import ctypes
from typing import Any, Optional


class OwnedHandle:
    _what = "object"  # the name in the "closed" error
    _handle: Optional[ctypes.c_void_p] = None

    def _free(self, handle: ctypes.c_void_p) -> None:
        """Calls the matching ember_*_free."""
        raise NotImplementedError

    @property
    def handle(self) -> ctypes.c_void_p:
        """The C pointer, for calls this binding does not wrap."""
        if not self._handle:
            raise ValueError(f"ember: the {self._what} is closed")
        return self._handle

    def close(self) -> None:
        """Frees the C object. Idempotent."""
        if self._handle:
            self._free(self._handle)
            self._handle = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
