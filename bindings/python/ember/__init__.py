"""Python bindings for ember, over the stable C ABI of libember (ctypes, no build step).

    import ember
    with ember.Model("stories260K.gguf") as model:
        with model.session(temperature=0.8, seed=1) as s:
            for piece in s.stream("Once upon a time", max_tokens=50, stop=["."]):
                print(piece, end="", flush=True)

The library is found through $EMBER_LIBRARY, else the build tree of this source checkout
(build/lib), else the dynamic loader's search path, else the lib directories of the Python
prefix and /usr/local. Importing fails with ImportError if the library is missing or of an
incompatible version. Every failed call raises EmberError (status, name, message).
"""
from ember._chat import Chat, apply_chat_template
from ember._errors import EmberError, Status, lib as _lib, library_path, status_name
from ember._logging import LogLevel, set_log_callback
from ember._model import Model, WeightFormat
from ember._native import REQUIRED_VERSION_NUMBER
from ember._options import GrammarKind, Sampler, StopReason
from ember._session import GenerateResult, KvType, Session, eval_batch
from ember._generator import Generator, step
from ember._stream import TextStream

__all__ = [
    "Chat", "EmberError", "GenerateResult", "Generator", "KvType", "LogLevel", "Model", "REQUIRED_VERSION_NUMBER",
    "GrammarKind", "Sampler", "Session", "Status", "StopReason", "TextStream", "WeightFormat", "apply_chat_template",
    "eval_batch", "library_path", "set_log_callback", "status_name", "step", "version", "version_number",
]
__version__ = "0.1.0"


def version() -> str:
    """The library's version string, e.g. "0.1.0"."""
    return _lib.ember_version().decode("ascii")


def version_number() -> int:
    """The library's version as MAJOR*1000000 + MINOR*1000 + PATCH."""
    return _lib.ember_version_number()
