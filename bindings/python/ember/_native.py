"""Finds and opens libember, declares the C signatures, and checks the library's version.

Every function of include/ember/ember.h is declared here, once, with its exact C types:
ctypes then converts and checks arguments, and a missing symbol fails at import instead of
at first use. tests/test_coverage.py checks that this table covers the header.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Dict, List, Optional, Tuple

# The oldest library this binding works with: every function below exists from 0.1.0 on.
# Within one major version the C ABI is only ever extended (ember.h, "Version"), so any
# later library of the same major version works too.
REQUIRED_VERSION_NUMBER = 1000  # 0.1.0, as MAJOR*1000000 + MINOR*1000 + PATCH
REQUIRED_MAJOR = REQUIRED_VERSION_NUMBER // 1000000

c_int32, c_uint32, c_uint64 = ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint64
c_size, c_float, c_void_p, c_char_p = ctypes.c_size_t, ctypes.c_float, ctypes.c_void_p, ctypes.c_char_p
P = ctypes.POINTER

# ember_token_callback and ember_log_callback. `text` is declared as a char pointer, not
# c_char_p, because it is not NUL-terminated: the callback reads text_len bytes from it.
TOKEN_CALLBACK = ctypes.CFUNCTYPE(c_int32, c_void_p, c_int32, P(ctypes.c_char), c_size)
LOG_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_int32, c_char_p)

# name -> (result type, argument types), in the order of ember.h.
SIGNATURES: Dict[str, Tuple[Optional[type], List[type]]] = {
    # Version, status codes, errors, logging.
    "ember_version": (c_char_p, []),
    "ember_version_number": (c_int32, []),
    "ember_status_name": (c_char_p, [c_int32]),
    "ember_last_error": (c_char_p, []),
    "ember_set_log_callback": (None, [LOG_CALLBACK, c_void_p, c_int32]),
    # Model options and models.
    "ember_model_options_create": (c_int32, [P(c_void_p)]),
    "ember_model_options_free": (None, [c_void_p]),
    "ember_model_options_set_log_callback": (c_int32, [c_void_p, LOG_CALLBACK, c_void_p, c_int32]),
    "ember_model_options_set_weight_format": (c_int32, [c_void_p, c_int32]),
    "ember_model_load": (c_int32, [c_char_p, c_void_p, P(c_void_p)]),
    "ember_model_free": (None, [c_void_p]),
    "ember_model_n_vocab": (c_int32, [c_void_p]),
    "ember_model_n_tokens": (c_int32, [c_void_p]),
    "ember_model_n_ctx_train": (c_int32, [c_void_p]),
    "ember_model_token_bos": (c_int32, [c_void_p]),
    "ember_model_token_eos": (c_int32, [c_void_p]),
    "ember_model_architecture": (c_char_p, [c_void_p]),
    "ember_model_adds_bos": (c_int32, [c_void_p]),
    "ember_model_token_is_eog": (c_int32, [c_void_p, c_int32]),
    # Tokenizer.
    "ember_tokenize": (c_int32, [c_void_p, c_char_p, c_size, c_uint32, P(c_int32), c_size, P(c_size)]),
    "ember_detokenize": (c_int32, [c_void_p, P(c_int32), c_size, c_uint32, P(ctypes.c_char), c_size,
                                   P(c_size)]),
    # Sampler options.
    "ember_sampler_options_create": (c_int32, [P(c_void_p)]),
    "ember_sampler_options_free": (None, [c_void_p]),
    "ember_sampler_options_set_temperature": (c_int32, [c_void_p, c_float]),
    "ember_sampler_options_set_top_k": (c_int32, [c_void_p, c_int32]),
    "ember_sampler_options_set_top_p": (c_int32, [c_void_p, c_float]),
    "ember_sampler_options_set_min_p": (c_int32, [c_void_p, c_float]),
    "ember_sampler_options_set_repeat_penalty": (c_int32, [c_void_p, c_float, c_int32]),
    "ember_sampler_options_set_seed": (c_int32, [c_void_p, c_uint64]),
    "ember_sampler_options_set_presence_penalty": (c_int32, [c_void_p, c_float]),
    "ember_sampler_options_set_frequency_penalty": (c_int32, [c_void_p, c_float]),
    "ember_sampler_options_set_logit_bias": (c_int32, [c_void_p, P(c_int32), P(c_float), c_size]),
    "ember_sampler_options_set_grammar": (c_int32, [c_void_p, c_int32, c_char_p, c_size]),
    # Session options.
    "ember_session_options_create": (c_int32, [P(c_void_p)]),
    "ember_session_options_free": (None, [c_void_p]),
    "ember_session_options_set_n_ctx": (c_int32, [c_void_p, c_int32]),
    "ember_session_options_set_n_threads": (c_int32, [c_void_p, c_int32]),
    "ember_session_options_set_max_kv_bytes": (c_int32, [c_void_p, c_uint64]),
    "ember_session_options_set_context_shift": (c_int32, [c_void_p, c_int32, c_int32]),
    "ember_session_options_set_kv_type": (c_int32, [c_void_p, c_int32]),
    "ember_session_options_set_sampler": (c_int32, [c_void_p, c_void_p]),
    # Sessions.
    "ember_session_create": (c_int32, [c_void_p, c_void_p, P(c_void_p)]),
    "ember_session_free": (None, [c_void_p]),
    "ember_session_reset": (c_int32, [c_void_p]),
    "ember_session_n_past": (c_int32, [c_void_p]),
    "ember_session_n_ctx": (c_int32, [c_void_p]),
    "ember_session_kv_bytes": (c_uint64, [c_void_p]),
    "ember_session_eval": (c_int32, [c_void_p, P(c_int32), c_size, P(c_float), c_size]),
    "ember_session_logits": (c_int32, [c_void_p, P(P(c_float)), P(c_size)]),
    "ember_session_sample": (c_int32, [c_void_p, P(c_int32)]),
    "ember_session_set_sampler": (c_int32, [c_void_p, c_void_p]),
    "ember_session_generate": (c_int32, [c_void_p, c_char_p, c_size, c_uint32, c_int32, c_uint32,
                                         TOKEN_CALLBACK, c_void_p, P(c_int32)]),
    # Generation with stop conditions.
    "ember_generate_options_create": (c_int32, [P(c_void_p)]),
    "ember_generate_options_free": (None, [c_void_p]),
    "ember_generate_options_set_max_tokens": (c_int32, [c_void_p, c_int32]),
    "ember_generate_options_set_ignore_eos": (c_int32, [c_void_p, c_int32]),
    "ember_generate_options_set_stop_strings": (c_int32, [c_void_p, P(c_char_p), c_size]),
    "ember_generate_options_set_stop_tokens": (c_int32, [c_void_p, P(c_int32), c_size]),
    "ember_session_generate_ex": (c_int32, [c_void_p, c_char_p, c_size, c_uint32, c_void_p,
                                            TOKEN_CALLBACK, c_void_p, P(c_int32), P(c_int32)]),
    "ember_session_cancel": (c_int32, [c_void_p]),
    # Session state, forks and prefix reuse.
    "ember_session_state_save": (c_int32, [c_void_p, c_void_p, c_size, P(c_size)]),
    "ember_session_state_load": (c_int32, [c_void_p, c_void_p, c_size]),
    "ember_session_state_save_file": (c_int32, [c_void_p, c_char_p]),
    "ember_session_state_load_file": (c_int32, [c_void_p, c_char_p]),
    "ember_session_clone": (c_int32, [c_void_p, P(c_void_p)]),
    "ember_session_truncate": (c_int32, [c_void_p, c_int32]),
    "ember_session_tokens": (c_int32, [c_void_p, P(c_int32), c_size, P(c_size)]),
    "ember_session_eval_reuse": (c_int32, [c_void_p, P(c_int32), c_size, P(c_size)]),
    # Chat templates.
    "ember_chat_create": (c_int32, [P(c_void_p)]),
    "ember_chat_free": (None, [c_void_p]),
    "ember_chat_add": (c_int32, [c_void_p, c_char_p, c_size, c_char_p, c_size]),
    "ember_chat_apply": (c_int32, [c_void_p, c_void_p, c_char_p, c_size, c_uint32, P(ctypes.c_char), c_size,
                                   P(c_size)]),
    "ember_chat_apply_json": (c_int32, [c_void_p, c_char_p, c_size, c_char_p, c_size, P(ctypes.c_char), c_size,
                                        P(c_size)]),
    "ember_model_chat_template": (c_char_p, [c_void_p]),
    # Stepped generation.
    "ember_generator_create": (c_int32, [c_void_p, c_void_p, TOKEN_CALLBACK, c_void_p, P(c_void_p)]),
    "ember_generator_step": (c_int32, [P(c_void_p), c_size, P(c_int32)]),
    "ember_generator_done": (c_int32, [c_void_p]),
    "ember_generator_stop_reason": (c_int32, [c_void_p]),
    "ember_generator_n_generated": (c_int32, [c_void_p]),
    "ember_generator_error": (c_char_p, [c_void_p]),
    "ember_generator_free": (None, [c_void_p]),
    # Batched evaluation.
    "ember_session_eval_batch": (c_int32, [P(c_void_p), c_size, P(c_int32), P(c_size), P(c_int32)]),
    "ember_session_options_set_batch_invariant": (c_int32, [c_void_p, c_int32]),
    "ember_generate_options_set_lookup": (c_int32, [c_void_p, c_int32]),
    "ember_generate_options_set_draft": (c_int32, [c_void_p, c_void_p, c_int32]),
    "ember_session_speculation_stats": (c_int32, [c_void_p, P(c_int32), P(c_int32)]),
}


def _library_names() -> List[str]:
    if sys.platform == "darwin":
        return ["libember.0.dylib", "libember.dylib"]
    if sys.platform == "win32":
        return ["ember.dll", "libember.dll"]
    return ["libember.so.0", "libember.so"]


def candidate_paths() -> List[str]:
    """Where the library is looked for, in order: $EMBER_LIBRARY; the build tree next to this
    source tree (`build/lib`); the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig);
    the lib directories of the Python prefix and of /usr/local (a `cmake --install`)."""
    explicit = os.environ.get("EMBER_LIBRARY")
    if explicit:
        return [explicit]  # an explicit choice must not silently fall back to another library
    here = os.path.dirname(os.path.abspath(__file__))
    source_root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    paths = [os.path.join(source_root, "build", "lib", name) for name in _library_names()]
    paths = [p for p in paths if os.path.exists(p)]
    paths += _library_names()  # bare names: the loader's search path
    found = ctypes.util.find_library("ember")
    if found:
        paths.append(found)
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix, "/usr/local", "/usr"]):
        for libdir in ("lib", "lib64", os.path.join("lib", "x86_64-linux-gnu"), os.path.join("lib", "aarch64-linux-gnu")):
            for name in _library_names():
                path = os.path.join(prefix, libdir, name)
                if os.path.exists(path):
                    paths.append(path)
    return paths


def load() -> Tuple[ctypes.CDLL, str]:
    """Opens the first library that loads, declares SIGNATURES on it and checks its version."""
    errors = []
    for path in candidate_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
            continue
        _declare(lib, path)
        _check_version(lib, path)
        return lib, path
    raise ImportError("ember: cannot load libember; set EMBER_LIBRARY to the library's path "
                      "(tried " + "; ".join(errors) + ")")


def _declare(lib: ctypes.CDLL, path: str) -> None:
    for name, (result, args) in SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(f"ember: {path} lacks {name}; it is older than this binding needs "
                              f"(version number >= {REQUIRED_VERSION_NUMBER})") from None
        fn.restype, fn.argtypes = result, args


def _check_version(lib: ctypes.CDLL, path: str) -> None:
    number = lib.ember_version_number()
    if number // 1000000 != REQUIRED_MAJOR or number < REQUIRED_VERSION_NUMBER:
        raise ImportError(f"ember: {path} is version {lib.ember_version().decode()} ({number}); this binding "
                          f"needs major version {REQUIRED_MAJOR}, at least {REQUIRED_VERSION_NUMBER}")
