"""Attachments: files sent with a prompt, checked by content, cleaned, and put in each API's shape.

    limits     caps (per file, message, chat, count, text tokens) and ``CHAT_ATTACHMENTS``
    sniff      what a file is by its first bytes
    images     Pillow: re-encoded without metadata, longest side capped, bombs refused
    documents  pypdf text, text files, the per-file text budget
    prepare    a prompt's files -> ``Attachment`` values, or one refusal naming file and limit
    parts      Chat Completions / Responses content parts, the text fallback
    wire       wire v1's ``attachments`` field, both ways
    refusal    telling "this model cannot read images" from other refusals
    resend     a back end seen without images (Resend without images)

Pure except for decoding the bytes it is given; no Streamlit, no network.
"""

from chat_core.attachments.images import thumbnail
from chat_core.attachments.limits import (
    DEFAULT_LIMITS,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE_PX,
    AttachmentLimits,
    parse_limits,
    size_text,
)
from chat_core.attachments.parts import (
    chat_content,
    data_url,
    describe,
    estimated_tokens,
    has_images,
    image_tokens,
    responses_content,
    text_of,
    without_images,
)
from chat_core.attachments.prepare import check_sizes, check_stored, prepare_file, prepare_files
from chat_core.attachments.refusal import IMAGES_REFUSED, image_refusal_message, is_image_refusal
from chat_core.attachments.resend import WithoutImages
from chat_core.attachments.sniff import ACCEPTED_EXTENSIONS, sniff
from chat_core.attachments.wire import read_wire, to_wire
from chat_core.messages import Attachment

VISION_CHOICES = ("auto", "on", "off")

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "DEFAULT_LIMITS",
    "IMAGES_REFUSED",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE_PX",
    "VISION_CHOICES",
    "Attachment",
    "AttachmentLimits",
    "WithoutImages",
    "chat_content",
    "check_sizes",
    "check_stored",
    "data_url",
    "describe",
    "estimated_tokens",
    "has_images",
    "image_refusal_message",
    "image_tokens",
    "is_image_refusal",
    "parse_limits",
    "prepare_file",
    "prepare_files",
    "read_wire",
    "responses_content",
    "size_text",
    "sniff",
    "text_of",
    "thumbnail",
    "to_wire",
    "without_images",
]
