"""A prompt with attachments as each API's message content. Pure: no I/O.

- Chat Completions: ``text`` parts, images as ``image_url`` parts with a data URL, PDFs as
  ``file`` parts (``file_data`` data URL) only where the endpoint is OpenAI's: other
  servers take no file parts, so they get the PDF's text.
- Responses API: ``input_text``, ``input_image`` (``image_url`` data URL) and ``input_file``
  (it refuses Chat Completions' part types with a 400).
- Text only (a model without vision, ``vision=off``, the offline model's view): each
  document as ``[file NAME]`` and its text, each image as a line naming it.
"""

from __future__ import annotations

import base64
import math
from dataclasses import replace
from typing import Any

from chat_core.attachments.limits import size_text
from chat_core.attachments.sniff import PDF, type_name
from chat_core.messages import Attachment, ChatMessage, Conversation


def data_url(attachment: Attachment) -> str:
    """``data:MIME;base64,...`` of the attachment's bytes."""
    return f"data:{attachment.mime};base64,{base64.b64encode(attachment.data).decode('ascii')}"


def describe(attachment: Attachment) -> str:
    """One line for people and the offline model: name, type, size, pixels or characters."""
    kind = type_name(attachment.mime)
    what = f"{kind} image" if attachment.is_image else kind if kind == "PDF" else "text file"
    line = f"{attachment.name}: {what}, {size_text(len(attachment.data))}"
    if attachment.width is not None and attachment.height is not None:
        return f"{line}, {attachment.width} x {attachment.height} px"
    return f"{line}, {len(attachment.text or ''):,} characters of text"


def document_block(attachment: Attachment) -> str:
    """A document in the prompt's text: its name, then its (maybe cut) text."""
    return f"[file {attachment.name}]\n{attachment.text or ''}"


def image_note(attachment: Attachment) -> str:
    """What stands for an image that is not sent."""
    return f"[image {attachment.name}: not sent]"  # vision off, refused, or a GET request


def text_of(message: ChatMessage, *, images: bool = False, pdf_files: bool = False) -> str:
    """The prompt's text with its documents appended (and image notes unless ``images``)."""
    blocks = [message.content] if message.content.strip() else []
    for a in message.attachments:
        if a.is_image:
            if not images:
                blocks.append(image_note(a))
        elif not (pdf_files and a.mime == PDF):
            blocks.append(document_block(a))
    return "\n\n".join(blocks)


def chat_content(
    message: ChatMessage, *, images: bool, pdf_files: bool = False
) -> str | list[dict[str, Any]]:
    """A message's ``content`` for Chat Completions: a string, or parts with attachments."""
    if not message.attachments:
        return message.content
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": text_of(message, images=images, pdf_files=pdf_files)}
    ]
    for a in message.attachments:
        if a.is_image and images:
            parts.append({"type": "image_url", "image_url": {"url": data_url(a)}})
        elif a.mime == PDF and pdf_files:
            parts.append({"type": "file", "file": {"filename": a.name, "file_data": data_url(a)}})
    return parts


def responses_content(
    message: ChatMessage, *, images: bool, pdf_files: bool = False
) -> str | list[dict[str, Any]]:
    """A message's ``content`` for the Responses API: a string, or ``input_*`` parts."""
    if not message.attachments or message.role != "user":
        return message.content
    text = text_of(message, images=images, pdf_files=pdf_files)
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": text}]
    for a in message.attachments:
        if a.is_image and images:
            parts.append({"type": "input_image", "image_url": data_url(a), "detail": "auto"})
        elif a.mime == PDF and pdf_files:
            parts.append({"type": "input_file", "filename": a.name, "file_data": data_url(a)})
    return parts


def without_images(conversation: Conversation) -> Conversation:
    """The conversation with every image replaced by its note (Resend without images)."""
    messages = tuple(
        replace(
            m,
            content=text_of(replace(m, attachments=tuple(a for a in m.attachments if a.is_image))),
            attachments=tuple(a for a in m.attachments if not a.is_image),
        )
        if any(a.is_image for a in m.attachments)
        else m
        for m in conversation.messages
    )
    return Conversation(messages)


def has_images(conversation: Conversation) -> bool:
    """True when any message carries an image."""
    return any(a.is_image for m in conversation.messages for a in m.attachments)


def image_tokens(width: int, height: int) -> int:
    """OpenAI's count for an image at ``detail: high`` (its vision guide): fit in 2048 x 2048,
    shortest side down to 768, then 170 tokens per 512 px tile plus 85."""
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def estimated_tokens(message: ChatMessage) -> int:
    """A message's tokens as sent, files included (about four characters a token), for
    budgets and estimates where the provider reports none."""
    text = text_of(message, images=True)
    pixels = [a for a in message.attachments if a.width and a.height]
    return (len(text) + 3) // 4 + sum(image_tokens(a.width or 0, a.height or 0) for a in pixels)
