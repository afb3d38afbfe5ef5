"""The size-query pattern of ember.h (tokenize, detokenize, state_save, tokens, chat_apply):
a call reports the size it needs and fails with EMBER_ERR_BUFFER_TOO_SMALL when the buffer
is short; ask, allocate, call again."""
from __future__ import annotations

import ctypes
from typing import Callable, Sequence

from ember._errors import Status, check

# call(buffer or None, capacity, pointer to the needed size) -> status
SizedCall = Callable[[object, int, object], int]


def read_sized(call: SizedCall, element: type) -> ctypes.Array:
    """Runs `call` until its output fits and returns exactly the elements it wrote."""
    capacity, buf = 0, None
    needed = ctypes.c_size_t()
    while True:  # a second round only if the size grew in between, which ember never does
        status = call(buf, capacity, ctypes.byref(needed))
        if status == 0:
            return (element * needed.value).from_buffer_copy(buf, 0) if needed.value else (element * 0)()
        if status != Status.BUFFER_TOO_SMALL:
            check(status)
        capacity = needed.value
        buf = (element * capacity)()


def read_bytes(call: SizedCall) -> bytes:
    return bytes(read_sized(call, ctypes.c_char))


def read_ids(call: SizedCall) -> list:
    return list(read_sized(call, ctypes.c_int32))


def id_array(ids: Sequence[int]) -> ctypes.Array:
    """ids as an int32_t array (at least one element, so its address is never NULL)."""
    ids = list(ids)
    return (ctypes.c_int32 * max(len(ids), 1))(*ids)
