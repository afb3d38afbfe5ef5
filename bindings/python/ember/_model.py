"""ember_model: a loaded model, its facts, and its tokenizer."""
from __future__ import annotations

import ctypes
import enum
import os
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Union

from ember._handle import OwnedHandle
from ember._buffers import id_array, read_bytes, read_ids
from ember._errors import check, lib
from ember._logging import LogHandler, LogLevel, make_log_callback

if TYPE_CHECKING:
    from ember._session import Session

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Text = Union[str, bytes]

_TOKENIZE_ADD_BOS, _TOKENIZE_NO_BOS, _TOKENIZE_PARSE_SPECIAL = 1, 2, 4
_DETOKENIZE_SKIP_SPECIAL = 1


class WeightFormat(enum.IntEnum):
    """How float weights are held in memory (ember_model_options_set_weight_format)."""
    AS_STORED = 0
    Q8_0 = 1
    Q4_0 = 2


def utf8(text: Text) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def tokenize_flags(add_bos: Optional[bool], parse_special: bool) -> int:
    flags = 0 if add_bos is None else (_TOKENIZE_ADD_BOS if add_bos else _TOKENIZE_NO_BOS)
    return flags | (_TOKENIZE_PARSE_SPECIAL if parse_special else 0)


class Model(OwnedHandle):
    """A loaded model (a GGUF file or a Hugging Face directory). Immutable once loaded: share
    it between threads and sessions freely. Sessions keep their model alive.

        with ember.Model("stories260K.gguf") as model: ...
    """

    def __init__(self, path: PathLike, *, weight_format: int = WeightFormat.AS_STORED,
                 log: Optional[LogHandler] = None, log_level: int = LogLevel.WARN) -> None:
        """Loads `path`. weight_format quantizes float weights at load time; `log` receives
        this model's log messages (level, text) at log_level and above."""
        self._handle: Optional[ctypes.c_void_p] = None  # so close() works if loading fails
        # ember calls the log sink until the model's memory is released, which may be after
        # close() (sessions defer it), so the callback lives as long as this object.
        self._log_callback = make_log_callback(log) if log is not None else None
        options, handle = ctypes.c_void_p(), ctypes.c_void_p()
        check(lib.ember_model_options_create(ctypes.byref(options)))
        try:
            check(lib.ember_model_options_set_weight_format(options, int(weight_format)))
            if self._log_callback is not None:
                check(lib.ember_model_options_set_log_callback(options, self._log_callback, None, int(log_level)))
            check(lib.ember_model_load(os.fsencode(path), options, ctypes.byref(handle)))
        finally:
            lib.ember_model_options_free(options)
        self._handle = handle

    _what = "model"

    def _free(self, handle: ctypes.c_void_p) -> None:
        lib.ember_model_free(handle)

    # Facts.
    @property
    def n_vocab(self) -> int:
        """Rows of the output layer: the length of every logits vector."""
        return lib.ember_model_n_vocab(self.handle)

    @property
    def n_tokens(self) -> int:
        """Entries of the tokenizer (may be fewer than n_vocab)."""
        return lib.ember_model_n_tokens(self.handle)

    @property
    def n_ctx_train(self) -> int:
        return lib.ember_model_n_ctx_train(self.handle)

    @property
    def bos(self) -> int:
        """The BOS token id, or -1."""
        return lib.ember_model_token_bos(self.handle)

    @property
    def eos(self) -> int:
        """The EOS token id, or -1."""
        return lib.ember_model_token_eos(self.handle)

    @property
    def architecture(self) -> str:
        return lib.ember_model_architecture(self.handle).decode("utf-8")

    @property
    def adds_bos(self) -> bool:
        """Whether tokenize() adds BOS by default."""
        return bool(lib.ember_model_adds_bos(self.handle))

    @property
    def chat_template(self) -> str:
        """The chat template stored in the model, or "" (ember then uses its default)."""
        return lib.ember_model_chat_template(self.handle).decode("utf-8")

    def token_is_eog(self, token: int) -> bool:
        """Whether sampling `token` ends a generation (EOS, <|im_end|>, <|eot_id|>, ...)."""
        return bool(lib.ember_model_token_is_eog(self.handle, token))

    # Tokenizer.
    def tokenize(self, text: Text, add_bos: Optional[bool] = None, parse_special: bool = False) -> List[int]:
        """Token ids of `text` (str, or UTF-8 bytes). add_bos None follows the model's default;
        parse_special makes text that spells a control token become that token."""
        data, flags = utf8(text), tokenize_flags(add_bos, parse_special)
        return read_ids(lambda buf, cap, n: lib.ember_tokenize(self.handle, data, len(data), flags, buf, cap, n))

    def detokenize(self, ids: Sequence[int], skip_special: bool = False) -> bytes:
        """The bytes the ids spell (bytes, not str: ids may split a UTF-8 character)."""
        arr, count = id_array(ids), len(ids)
        flags = _DETOKENIZE_SKIP_SPECIAL if skip_special else 0
        return read_bytes(lambda buf, cap, n: lib.ember_detokenize(self.handle, arr, count, flags, buf, cap, n))

    def session(self, **kwargs: Any) -> "Session":
        """A new Session on this model; see Session for the keyword arguments."""
        from ember._session import Session
        return Session(self, **kwargs)
