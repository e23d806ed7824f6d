"""An endpoint that cannot read images, told apart from other refusals.

OpenAI-compatible servers without vision refuse an image part with a 400, 415, 422 or
even a 500 whose message names it: llama.cpp's server answers 500 "Unsupported content
part type: image_url", vLLM a 400 saying the model is not multimodal. Such a refusal is
the same on every try, so it is not retried; the page offers to resend without images.
"""

from __future__ import annotations

import re

IMAGE_REFUSAL_STATUSES = (400, 415, 422, 500)
IMAGES_REFUSED = "This model cannot read images."
_NAMES_IMAGES = re.compile(r"image_url|input_image|image|vision|multimodal|multi-modal", re.I)


def is_image_refusal(status: int, body: str) -> bool:
    """True when an HTTP refusal of a request that carried images is about the images."""
    return status in IMAGE_REFUSAL_STATUSES and _NAMES_IMAGES.search(body) is not None


def image_refusal_message() -> str:
    """What the person reads (the page tells it apart by its first sentence)."""
    return f"{IMAGES_REFUSED} Resend without images, or choose a model that reads them."
