"""The stub's image dialects: a vision model that says what it received, and a server
without vision that fails as llama.cpp's does.

    keyword in the model name   behaviour
    vision                      reads ``image_url`` data URLs (Chat Completions) and
                                ``input_image`` (Responses); answers one line per image:
                                type, bytes, pixel size, whether it carries EXIF
    novision, llamacpp          any image part: HTTP 500 "Unsupported content part type:
                                image_url" (llama.cpp's server; vLLM says much the same)

So a test can check what really crossed the wire (an image without EXIF) through the
real ``openai`` SDK. Pure apart from decoding the images it is given.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from PIL import Image, UnidentifiedImageError

from chat_core.backends.offline import Plan, estimate_tokens, tokenize
from chat_core.events import Done, TextDelta, Usage

NO_VISION_ERROR = "Unsupported content part type: image_url"
_DATA_URL = re.compile(r"data:([\w/+.-]+);base64,(.*)", re.DOTALL)


def vision_kind(model: str) -> str | None:
    """``vision``, ``novision`` or None (a model that ignores images, as before)."""
    lowered = model.lower()
    if "novision" in lowered or "llamacpp" in lowered:
        return "novision"
    return "vision" if "vision" in lowered else None


def image_urls(body: object) -> list[str]:
    """Every image URL in a Chat Completions or Responses body, in order."""
    items: list[Any] = []
    if isinstance(body, dict):
        for key in ("messages", "input"):
            value = body.get(key)
            if isinstance(value, list):
                items += value
    urls: list[str] = []
    for item in items:
        content = item.get("content") if isinstance(item, dict) else None
        for part in content if isinstance(content, list) else ():
            if not isinstance(part, dict):
                continue
            if part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
                url = part["image_url"].get("url")
            elif part.get("type") == "input_image":
                url = part.get("image_url")
            else:
                continue
            if isinstance(url, str):
                urls.append(url)
    return urls


def describe_image(index: int, url: str) -> str:
    """One line about an image as received: its type, bytes, pixels and EXIF."""
    match = _DATA_URL.fullmatch(url)
    if match is None:
        return f"Image {index}: a URL, not fetched ({url[:40]})"
    try:
        data = base64.b64decode(match[2], validate=True)
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            exif = bool(image.getexif()) or "exif" in image.info
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        return f"Image {index}: {match[1]}, not a readable image"
    return (
        f"Image {index}: {match[1]}, {len(data)} bytes, {width} x {height} px, "
        f"EXIF {'present' if exif else 'none'}"
    )


def vision_plan(urls: list[str], prompt_text: str, tokens_per_second: float) -> Plan:
    """The vision model's answer: what it saw, at the offline model's pace."""
    lines = [f"I received {len(urls)} image{'s' if len(urls) != 1 else ''}."]
    lines += [describe_image(i, url) for i, url in enumerate(urls, 1)]
    tokens = tokenize("\n\n".join(lines))
    step = 1.0 / tokens_per_second
    plan: Plan = [(i * step, TextDelta(t)) for i, t in enumerate(tokens)]
    end = len(tokens) * step
    plan.append((end, Usage(estimate_tokens(prompt_text) + 85 * len(urls), len(tokens))))
    plan.append((end, Done("stop")))
    return plan
