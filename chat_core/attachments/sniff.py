"""What a file is, by its first bytes, not its name.

An executable named ``photo.png`` is refused because its bytes are not a PNG's, not
because of its name. Signatures: PNG (RFC 2083 section 3.1), JPEG (SOI marker ``FF D8 FF``),
GIF (``GIF87a``/``GIF89a``), WebP (a RIFF container of type ``WEBP``), PDF (``%PDF-``).
Text is accepted only under a text-like extension and only when it decodes as UTF-8 without
NUL bytes. Pure: no I/O.
"""

from __future__ import annotations

from pathlib import PurePosixPath

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PDF = "application/pdf"
TEXT = "text/plain"
# The extensions the chat input offers (st.chat_input's file_type) and the type each claims.
IMAGE_EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
TEXT_EXTENSIONS: tuple[str, ...] = (
    "txt",
    "md",
    "markdown",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "yaml",
    "yml",
    "toml",
    "xml",
    "html",
    "css",
    "log",
    "ini",
    "cfg",
    "py",
    "js",
    "ts",
    "tsx",
    "jsx",
    "java",
    "c",
    "h",
    "cpp",
    "hpp",
    "cs",
    "go",
    "rs",
    "rb",
    "php",
    "sh",
    "sql",
    "r",
    "swift",
    "kt",
    "scala",
    "lua",
)
ACCEPTED_EXTENSIONS: tuple[str, ...] = (*IMAGE_EXTENSIONS, "pdf", *TEXT_EXTENSIONS)
_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}
_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def sniff(data: bytes) -> str | None:
    """The image or PDF type the bytes start with; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:1024].lstrip(b"\r\n\t ").startswith(b"%PDF-"):
        return PDF
    return None


def extension(name: str) -> str:
    """The lower-case extension of a file name, without the dot; ``""`` when none."""
    return PurePosixPath(name).suffix.lower().lstrip(".")


def looks_executable(data: bytes) -> bool:
    """Windows, Linux and macOS executables and scripts (refused under any name)."""
    return data.startswith(_EXECUTABLES)


def type_name(mime: str) -> str:
    """``image/png`` -> ``PNG``; a PDF -> ``PDF``; text -> ``text``."""
    return _NAMES.get(mime, "PDF" if mime == PDF else "text")


def claimed_type(name: str) -> str | None:
    """The type a file's extension claims; None for an extension not accepted."""
    ext = extension(name)
    if ext in IMAGE_EXTENSIONS:
        return IMAGE_EXTENSIONS[ext]
    if ext == "pdf":
        return PDF
    return TEXT if ext in TEXT_EXTENSIONS else None
