"""Attachments in wire v1: ``{"name", "mime", "data"}`` objects, ``data`` in base64.

A server reads them with ``read_wire`` before any upstream call: a malformed item is a
``ValidationError`` (422), an item over a cap a ``LimitError`` (413), both naming the field
(``attachments[1].data``). Sizes are checked on the base64 text's length first, so an
oversize file is refused before it is decoded. Each file is then checked and cleaned as
the app does (``prepare``): the server trusts no client's cleaning. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from chat_core.attachments.limits import DEFAULT_LIMITS, AttachmentLimits, size_text
from chat_core.attachments.prepare import check_sizes, prepare_file
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import Attachment

_KEYS = {"name", "mime", "data"}


def to_wire(attachments: Sequence[Attachment]) -> list[dict[str, str]]:
    """The ``attachments`` field of a wire v1 POST body."""
    return [
        {"name": a.name, "mime": a.mime, "data": base64.b64encode(a.data).decode("ascii")}
        for a in attachments
    ]


def read_wire(items: object, limits: AttachmentLimits = DEFAULT_LIMITS) -> tuple[Attachment, ...]:
    """Validated, cleaned attachments from a request's ``attachments`` field."""
    if items is None:
        return ()
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValidationError("attachments", "attachments must be a list of {name, mime, data}")
    if len(items) > limits.files:
        raise LimitError("attachments", f"at most {limits.files} attachments a message")
    files = [_item(i, item, limits) for i, item in enumerate(items)]
    try:
        check_sizes(files, limits)
    except LimitError as exc:
        raise LimitError("attachments", exc.message) from exc
    out = []
    for i, (name, data) in enumerate(files):
        try:
            out.append(prepare_file(name, data, limits))
        except LimitError as exc:
            raise LimitError(f"attachments[{i}].data", exc.message) from exc
        except ValidationError as exc:
            raise ValidationError(f"attachments[{i}].data", exc.message) from exc
    return tuple(out)


def _item(i: int, item: object, limits: AttachmentLimits) -> tuple[str, bytes]:
    where = f"attachments[{i}]"
    if not isinstance(item, Mapping):
        raise ValidationError(where, "each attachment must be an object {name, mime, data}")
    fields: Mapping[str, Any] = item
    extra = set(fields) - _KEYS
    if extra:
        raise ValidationError(where, f"unknown key {sorted(extra)[0]!r}")
    name, data = fields.get("name"), fields.get("data")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise ValidationError(f"{where}.name", "name must be 1 to 200 characters")
    if not isinstance(fields.get("mime"), str):
        raise ValidationError(f"{where}.mime", "mime must be a string")
    if not isinstance(data, str):
        raise ValidationError(f"{where}.data", "data must be base64 text")
    if len(data) * 3 // 4 > limits.file_bytes + 3:  # before decoding anything
        raise LimitError(
            f"{where}.data", f"{name} is over the {size_text(limits.file_bytes)} limit per file"
        )
    try:
        return name, base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"{where}.data", "data is not valid base64") from exc
