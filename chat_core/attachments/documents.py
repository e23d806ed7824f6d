"""Documents as text: a PDF's text extracted with pypdf, a text file decoded.

pypdf is pure Python (no native library to build on Community Cloud) and maintained by
the py-pdf project. A document's text is cut at the per-file token budget; the cut is said
in the text itself, so the model and the person both see that something is missing.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from chat_core.errors import ValidationError

MAX_PDF_PAGES = 500  # pages past this are not read: the text budget is long spent by then

# pypdf logs each oddity of a damaged file at WARNING: noise for a file we refuse or read.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_text(name: str, data: bytes) -> str:
    """The text of a PDF's pages; ValidationError naming the file when corrupt or encrypted."""
    try:
        reader = PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted with an empty user password (only editing is locked):
        # those open; one that needs a password is refused.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValidationError(name, f"{name}: the PDF is encrypted; send an unlocked copy")
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except ValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise ValidationError(name, f"{name}: the PDF could not be read (damaged?)") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def decode_text(name: str, data: bytes) -> str:
    """A text file's content (UTF-8, with or without a BOM); ValidationError when binary."""
    if b"\x00" in data:
        raise ValidationError(name, f"{name}: the file is not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(name, f"{name}: the file is not UTF-8 text") from exc


def truncate(name: str, text: str, max_chars: int, tokens: int) -> str:
    """``text`` cut to ``max_chars``, with a note of how much was cut."""
    if len(text) <= max_chars:
        return text
    cut = len(text) - max_chars
    return (
        f"{text[:max_chars]}\n[{name}: {cut:,} more characters cut: "
        f"over the {tokens:,}-token budget per file]"
    )
