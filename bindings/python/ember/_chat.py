"""Chat templates (ember.h, "Chat templates"): conversations rendered into prompt text."""
from __future__ import annotations

import ctypes
import json
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from ember._handle import OwnedHandle
from ember._buffers import read_bytes
from ember._errors import check, lib
from ember._model import Model, Text, utf8

_ADD_GENERATION_PROMPT = 1


def _template_args(template: Optional[Text]) -> Tuple[Optional[bytes], int]:
    if template is None:
        return None, 0  # NULL: the model's own template, else ember's default
    source = utf8(template)
    return source, len(source)


def _model_handle(model: Optional[Model]) -> Optional[ctypes.c_void_p]:
    return model.handle if model is not None else None


class Chat(OwnedHandle):
    """A conversation: an ordered list of (role, content) messages.

        with ember.Chat([("system", "Be brief."), ("user", "Hi")]) as chat:
            prompt = chat.apply(model, add_generation_prompt=True)
    """

    def __init__(self, messages: Iterable[Union[Tuple[Text, Text], Mapping[str, Text]]] = ()) -> None:
        """messages: (role, content) pairs or {"role": ..., "content": ...} mappings."""
        self._handle: Optional[ctypes.c_void_p] = None
        self._messages: List[Tuple[str, str]] = []
        handle = ctypes.c_void_p()
        check(lib.ember_chat_create(ctypes.byref(handle)))
        self._handle = handle
        for message in messages:
            if isinstance(message, Mapping):
                self.add(message["role"], message["content"])
            else:
                self.add(*message)

    _what = "chat"

    def _free(self, handle: ctypes.c_void_p) -> None:
        lib.ember_chat_free(handle)

    def add(self, role: Text, content: Text) -> None:
        """Appends a message (str, or UTF-8 bytes; invalid UTF-8 raises and adds nothing)."""
        role_bytes, content_bytes = utf8(role), utf8(content)
        check(lib.ember_chat_add(self.handle, role_bytes, len(role_bytes), content_bytes, len(content_bytes)))
        self._messages.append((role_bytes.decode("utf-8"), content_bytes.decode("utf-8")))

    @property
    def messages(self) -> List[Tuple[str, str]]:
        """A copy of the messages, as (role, content) pairs."""
        return list(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def apply(self, model: Optional[Model] = None, template: Optional[Text] = None,
              add_generation_prompt: bool = False) -> str:
        """The conversation rendered with `template` (a Jinja2 source), else the model's own
        template, else ember's default. `model` may be None only with a template; it also
        provides bos_token and eos_token. Template errors raise EmberError."""
        source, length = _template_args(template)
        flags = _ADD_GENERATION_PROMPT if add_generation_prompt else 0
        handle = _model_handle(model)
        return read_bytes(lambda buf, cap, n: lib.ember_chat_apply(handle, self.handle, source, length, flags,
                                                                    buf, cap, n)).decode("utf-8")


def apply_chat_template(context: Union[Mapping[str, Any], str, bytes], model: Optional[Model] = None,
                        template: Optional[Text] = None) -> str:
    """ember_chat_apply_json: renders a template with a whole variable set -- `context` is a
    mapping (serialized as JSON, key order kept) or JSON text holding `messages`, `tools`,
    `add_generation_prompt`, ... With a model, bos_token/eos_token come from it unless the
    context sets them; the template is `template`, else the model's, else the default."""
    data = utf8(context) if isinstance(context, (str, bytes)) else json.dumps(context, ensure_ascii=False, allow_nan=False).encode()
    source, length = _template_args(template)
    handle = _model_handle(model)
    return read_bytes(lambda buf, cap, n: lib.ember_chat_apply_json(handle, source, length, data, len(data),
                                                                     buf, cap, n)).decode("utf-8")
