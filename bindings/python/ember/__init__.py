"""Python bindings for ember, over the stable C ABI of libember.so.0 (ctypes, no build step).

    import ember
    with ember.Model("stories260K.gguf") as model:
        with model.session(temperature=0.8, seed=1) as s:
            print(s.generate("Once upon a time", max_tokens=50))

The shared library is found through $EMBER_LIBRARY, then the system's library path.
Errors raise ember.EmberError with the status name and ember_last_error()'s message.
"""
import ctypes
import ctypes.util
import os
import struct

__all__ = ["EmberError", "Model", "Session", "version"]

_STATUS_NAMES = {
    1: "INVALID_ARGUMENT", 2: "IO", 3: "INVALID_MODEL", 4: "UNSUPPORTED", 5: "OUT_OF_MEMORY",
    6: "CONTEXT_FULL", 7: "CANCELLED", 8: "INVALID_TOKEN", 9: "INVALID_UTF8",
    10: "BUFFER_TOO_SMALL", 11: "INTERNAL",
}
_BUFFER_TOO_SMALL = 10
_TOKENIZE_ADD_BOS, _TOKENIZE_NO_BOS, _TOKENIZE_PARSE_SPECIAL = 1, 2, 4
_GENERATE_IGNORE_EOS = 1


class EmberError(RuntimeError):
    """A failed ember call: `status` is the numeric ember_status, `name` its short name."""

    def __init__(self, status, message):
        self.status = status
        self.name = _STATUS_NAMES.get(status, "UNKNOWN")
        super().__init__(f"EMBER_ERR_{self.name}: {message}")


def _load_library():
    path = os.environ.get("EMBER_LIBRARY") or ctypes.util.find_library("ember") or "libember.so.0"
    lib = ctypes.CDLL(path)
    c_int32, c_size, c_void, c_float = ctypes.c_int32, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_float
    p_i32 = ctypes.POINTER(c_int32)
    sigs = {
        "ember_version": (ctypes.c_char_p, []),
        "ember_last_error": (ctypes.c_char_p, []),
        "ember_model_load": (c_int32, [ctypes.c_char_p, c_void, ctypes.POINTER(c_void)]),
        "ember_model_free": (None, [c_void]),
        "ember_model_n_vocab": (c_int32, [c_void]),
        "ember_model_token_eos": (c_int32, [c_void]),
        "ember_model_architecture": (ctypes.c_char_p, [c_void]),
        "ember_tokenize": (c_int32, [c_void, ctypes.c_char_p, c_size, ctypes.c_uint32, p_i32, c_size,
                                     ctypes.POINTER(c_size)]),
        "ember_detokenize": (c_int32, [c_void, p_i32, c_size, ctypes.c_uint32, ctypes.c_char_p, c_size,
                                       ctypes.POINTER(c_size)]),
        "ember_sampler_options_create": (c_int32, [ctypes.POINTER(c_void)]),
        "ember_sampler_options_free": (None, [c_void]),
        "ember_sampler_options_set_temperature": (c_int32, [c_void, c_float]),
        "ember_sampler_options_set_top_k": (c_int32, [c_void, c_int32]),
        "ember_sampler_options_set_top_p": (c_int32, [c_void, c_float]),
        "ember_sampler_options_set_seed": (c_int32, [c_void, ctypes.c_uint64]),
        "ember_session_options_create": (c_int32, [ctypes.POINTER(c_void)]),
        "ember_session_options_free": (None, [c_void]),
        "ember_session_options_set_n_ctx": (c_int32, [c_void, c_int32]),
        "ember_session_options_set_n_threads": (c_int32, [c_void, c_int32]),
        "ember_session_options_set_sampler": (c_int32, [c_void, c_void]),
        "ember_session_create": (c_int32, [c_void, c_void, ctypes.POINTER(c_void)]),
        "ember_session_free": (None, [c_void]),
        "ember_session_reset": (c_int32, [c_void]),
        "ember_session_n_past": (c_int32, [c_void]),
        "ember_session_eval": (c_int32, [c_void, p_i32, c_size, ctypes.POINTER(c_float), c_size]),
        "ember_session_logits": (c_int32, [c_void, ctypes.POINTER(ctypes.POINTER(c_float)), ctypes.POINTER(c_size)]),
        "ember_session_sample": (c_int32, [c_void, p_i32]),
        "ember_session_generate": (c_int32, [c_void, ctypes.c_char_p, c_size, ctypes.c_uint32, c_int32,
                                             ctypes.c_uint32, c_void, c_void, p_i32]),
        "ember_session_cancel": (c_int32, [c_void]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


_lib = _load_library()
_TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_char),
                                   ctypes.c_size_t)


def _check(status):
    if status != 0:
        raise EmberError(status, _lib.ember_last_error().decode("utf-8", "replace"))


def version():
    """The library's version string, e.g. "0.1.0"."""
    return _lib.ember_version().decode()


class Model:
    """A loaded model (GGUF file or Hugging Face directory). Immutable; share it freely."""

    def __init__(self, path):
        self._handle = None  # so close() works if loading fails
        handle = ctypes.c_void_p()
        _check(_lib.ember_model_load(os.fsencode(path), None, ctypes.byref(handle)))
        self._handle = handle

    def close(self):
        if self._handle:
            _lib.ember_model_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def n_vocab(self):
        return _lib.ember_model_n_vocab(self._handle)

    @property
    def architecture(self):
        return _lib.ember_model_architecture(self._handle).decode()

    def tokenize(self, text, add_bos=None, parse_special=False):
        """Token ids of `text` (str or bytes). add_bos None follows the model's default."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        flags = (0 if add_bos is None else (_TOKENIZE_ADD_BOS if add_bos else _TOKENIZE_NO_BOS))
        flags |= _TOKENIZE_PARSE_SPECIAL if parse_special else 0
        n = ctypes.c_size_t()
        status = _lib.ember_tokenize(self._handle, data, len(data), flags, None, 0, ctypes.byref(n))
        if status not in (0, _BUFFER_TOO_SMALL):
            _check(status)
        ids = (ctypes.c_int32 * max(n.value, 1))()
        _check(_lib.ember_tokenize(self._handle, data, len(data), flags, ids, n.value, ctypes.byref(n)))
        return list(ids[: n.value])

    def detokenize(self, ids):
        """The bytes the ids spell (may split a UTF-8 character)."""
        arr = (ctypes.c_int32 * max(len(ids), 1))(*ids)
        n = ctypes.c_size_t()
        status = _lib.ember_detokenize(self._handle, arr, len(ids), 0, None, 0, ctypes.byref(n))
        if status not in (0, _BUFFER_TOO_SMALL):
            _check(status)
        buf = ctypes.create_string_buffer(max(n.value, 1))
        _check(_lib.ember_detokenize(self._handle, arr, len(ids), 0, buf, n.value, ctypes.byref(n)))
        return buf.raw[: n.value]

    def session(self, **kwargs):
        return Session(self, **kwargs)


class Session:
    """A KV cache plus sampler on a model; use from one thread at a time."""

    def __init__(self, model, n_ctx=None, n_threads=None, temperature=0.0, top_k=0, top_p=1.0, seed=0):
        self._handle = None  # so close() works if creation fails
        self._model = model  # keeps the model alive
        sampler, options, handle = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        _check(_lib.ember_sampler_options_create(ctypes.byref(sampler)))
        try:
            _check(_lib.ember_sampler_options_set_temperature(sampler, temperature))
            _check(_lib.ember_sampler_options_set_top_k(sampler, top_k))
            _check(_lib.ember_sampler_options_set_top_p(sampler, top_p))
            _check(_lib.ember_sampler_options_set_seed(sampler, seed))
            _check(_lib.ember_session_options_create(ctypes.byref(options)))
            if n_ctx is not None:
                _check(_lib.ember_session_options_set_n_ctx(options, n_ctx))
            if n_threads is not None:
                _check(_lib.ember_session_options_set_n_threads(options, n_threads))
            _check(_lib.ember_session_options_set_sampler(options, sampler))
            _check(_lib.ember_session_create(model._handle, options, ctypes.byref(handle)))
        finally:
            _lib.ember_session_options_free(options)
            _lib.ember_sampler_options_free(sampler)
        self._handle = handle

    def close(self):
        if self._handle:
            _lib.ember_session_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def n_past(self):
        return _lib.ember_session_n_past(self._handle)

    def reset(self):
        _check(_lib.ember_session_reset(self._handle))

    def eval(self, ids):
        """Feeds token ids; returns the last position's logits as a list of floats."""
        arr = (ctypes.c_int32 * max(len(ids), 1))(*ids)
        _check(_lib.ember_session_eval(self._handle, arr, len(ids), None, 0))
        ptr, n = ctypes.POINTER(ctypes.c_float)(), ctypes.c_size_t()
        _check(_lib.ember_session_logits(self._handle, ctypes.byref(ptr), ctypes.byref(n)))
        return ptr[: n.value]

    def sample(self):
        token = ctypes.c_int32()
        _check(_lib.ember_session_sample(self._handle, ctypes.byref(token)))
        return token.value

    def cancel(self):
        _check(_lib.ember_session_cancel(self._handle))

    def generate(self, prompt, max_tokens=128, on_text=None, ignore_eos=False):
        """Generates after `prompt`; calls on_text(str) per token (return True to stop).
        Returns the generated text."""
        data = prompt.encode("utf-8")
        pieces = []

        def callback(_user, _token, text, length):
            piece = ctypes.string_at(text, length).decode("utf-8")
            pieces.append(piece)
            return 1 if (on_text is not None and on_text(piece)) else 0

        cb = _TOKEN_CALLBACK(callback)
        n = ctypes.c_int32()
        _check(_lib.ember_session_generate(self._handle, data, len(data), 0, max_tokens,
                                           _GENERATE_IGNORE_EOS if ignore_eos else 0,
                                           ctypes.cast(cb, ctypes.c_void_p), None, ctypes.byref(n)))
        return "".join(pieces)
