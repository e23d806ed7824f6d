"""Images decoded and re-encoded with Pillow: what is sent and stored is a clean image.

Re-encoding from the pixels drops every metadata block (EXIF with its GPS position, XMP,
comments, text chunks); the EXIF orientation is applied first, so the picture still stands
the right way up. A GIF keeps its first frame (OpenAI takes only non-animated GIFs). The
longest side is capped at ``MAX_IMAGE_SIDE_PX``. Decompression bombs are refused from the
header alone, before any pixel is decoded: Pillow's ``MAX_IMAGE_PIXELS`` guard is a
warning below twice its limit, so the size is checked here against a lower cap.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from chat_core.attachments.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE_PX
from chat_core.errors import LimitError, ValidationError


def clean_image(
    name: str,
    data: bytes,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side_px: int = MAX_IMAGE_SIDE_PX,
) -> tuple[bytes, str, int, int]:
    """(bytes, mime, width, height) of a clean copy; ValidationError/LimitError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise LimitError(
                        name,
                        f"{name}: {width} x {height} px is over the "
                        f"{max_pixels // 1_000_000} megapixel limit",
                    )
                image.seek(0)  # a GIF's (or an animated WebP's) first frame
                upright = ImageOps.exif_transpose(image)
                return _encode(upright, image.format or "PNG", max_side_px)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitError(name, f"{name}: the image is too large to decode safely") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated or corrupt files as OSError, SyntaxError or ValueError.
        raise ValidationError(name, f"{name}: the image could not be read") from exc


def _encode(
    image: Image.Image, source_format: str, max_side_px: int
) -> tuple[bytes, str, int, int]:
    if max(image.size) > max_side_px:
        image = image.copy()
        image.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if source_format == "JPEG":  # a photo stays a JPEG: as PNG it would be several times larger
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
        mime = "image/jpeg"
    else:
        mode = "RGBA" if image.mode in ("RGBA", "LA", "PA", "P") else "RGB"
        if image.mode == "P" and "transparency" not in image.info:
            mode = "RGB"
        image.convert(mode).save(out, "PNG", optimize=True)
        mime = "image/png"
    return out.getvalue(), mime, image.width, image.height


def thumbnail(data: bytes, max_side_px: int = 320) -> bytes:
    """A small PNG/JPEG of an already clean image, for the page (the browser gets a few kB,
    not the 2048 px image, on every draw of the chat)."""
    with Image.open(io.BytesIO(data)) as image:
        if max(image.size) <= max_side_px:
            return data
        small = image.copy()
    small.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if small.mode in ("RGBA", "LA", "P"):
        small.convert("RGBA").save(out, "PNG", optimize=True)
    else:
        small.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()
