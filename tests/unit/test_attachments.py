"""Attachments, pure: sniffing by content, Pillow cleaning, pypdf text, caps, parts, wire."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from chat_core.attachments import (
    DEFAULT_LIMITS,
    AttachmentLimits,
    chat_content,
    describe,
    estimated_tokens,
    image_refusal_message,
    image_tokens,
    is_image_refusal,
    parse_limits,
    prepare_file,
    prepare_files,
    read_wire,
    responses_content,
    sniff,
    text_of,
    thumbnail,
    to_wire,
    without_images,
)
from chat_core.errors import ConfigError, LimitError, ValidationError
from chat_core.messages import ChatMessage, GenerationParams, build_conversation
from tests.support.files import (
    encrypted_pdf,
    gif,
    has_exif,
    pdf,
    photo,
    png_header_bomb,
)


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (photo(), "image/png"),
        (photo(fmt="JPEG"), "image/jpeg"),
        (gif(), "image/gif"),
        (photo(fmt="WEBP", exif=False), "image/webp"),
        (pdf(), "application/pdf"),
        (b"hello", None),
        (b"MZ\x90\x00", None),
    ],
)
def test_sniff_reads_the_first_bytes(data: bytes, mime: str | None) -> None:
    assert sniff(data) == mime


def test_an_image_is_re_encoded_without_exif_or_gps() -> None:
    original = photo(fmt="JPEG")
    assert has_exif(original)
    cleaned = prepare_file("holiday.jpg", original)
    assert (cleaned.mime, cleaned.width, cleaned.height) == ("image/jpeg", 64, 48)
    assert not has_exif(cleaned.data)
    assert b"SpyCam" not in cleaned.data


def test_a_png_loses_its_exif_too() -> None:
    cleaned = prepare_file("shot.png", photo())
    assert cleaned.mime == "image/png" and not has_exif(cleaned.data)


def test_the_longest_side_is_capped_at_2048_px() -> None:
    cleaned = prepare_file("wide.png", photo(4096, 1024, exif=False))
    assert (cleaned.width, cleaned.height) == (2048, 512)
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.size == (2048, 512)


def test_a_gif_keeps_its_first_frame() -> None:
    cleaned = prepare_file("anim.gif", gif())
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize("size", [(6_000, 6_000), (30_000, 30_000)])
def test_an_image_bomb_is_refused_from_its_header(size: tuple[int, int]) -> None:
    with pytest.raises(LimitError, match=r"bomb\.png: .*(megapixel|too large)"):
        prepare_file("bomb.png", png_header_bomb(*size))


def test_a_pdf_gives_its_text() -> None:
    attachment = prepare_file("notes.pdf", pdf("Quarterly numbers", pages=2))
    assert attachment.text == "Quarterly numbers\n\nQuarterly numbers"
    assert attachment.data.startswith(b"%PDF-")


def test_an_encrypted_pdf_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"locked\.pdf: the PDF is encrypted"):
        prepare_file("locked.pdf", encrypted_pdf())


def test_a_corrupt_pdf_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"broken\.pdf: the PDF could not be read"):
        prepare_file("broken.pdf", pdf()[:60])


def test_an_executable_named_png_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"cat\.png: its content is not a PNG file") as info:
        prepare_file("cat.png", b"MZ\x90\x00" + b"\x00" * 200)
    assert info.value.field == "cat.png"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ", "not accepted"),
        ("notes.txt", b"\x00\x01binary", "not text"),
        ("notes.txt", "caf\u00e9".encode("latin-1"), "not UTF-8"),
        ("paper.pdf", photo(), "not a PDF"),
        ("readme.md", pdf(), "not a text"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_bad_files_are_refused_by_name(name: str, data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        prepare_file(name, data)
    assert str(info.value).startswith(name)


def test_a_text_file_is_cut_at_its_token_budget_with_a_note() -> None:
    limits = AttachmentLimits(file_tokens=10)  # 40 characters
    attachment = prepare_file("log.txt", b"x" * 100, limits)
    assert attachment.text is not None
    assert attachment.text.startswith("x" * 40 + "\n")
    assert "60 more characters cut" in attachment.text
    assert "10-token budget" in attachment.text
    assert attachment.data == b"x" * 100  # the file itself is kept whole


def test_caps_per_file_message_chat_and_count() -> None:
    limits = AttachmentLimits(file_bytes=100, message_bytes=150, chat_bytes=300, files=2)
    with pytest.raises(LimitError, match=r"big\.txt is 101 B: over the 100 B limit per file"):
        prepare_files([("big.txt", b"a" * 101)], limits)
    with pytest.raises(LimitError, match="over the 150 B limit per message"):
        prepare_files([("a.txt", b"a" * 100), ("b.txt", b"b" * 100)], limits)
    with pytest.raises(LimitError, match="over the 300 B limit per chat"):
        prepare_files([("a.txt", b"a" * 100)], limits, chat_bytes=250)
    with pytest.raises(LimitError, match="3 files is too many: at most 2"):
        prepare_files([("a.txt", b"a")] * 3, limits)


def test_fifty_files_at_once_are_refused_before_any_is_read() -> None:
    with pytest.raises(LimitError, match="50 files is too many: at most 10"):
        prepare_files([("bomb.png", png_header_bomb())] * 50)


def test_limits_parse_from_the_setting() -> None:
    limits = parse_limits("file=2MB; message=3MB; chat=500kb; files=4; tokens=1000")
    assert limits == AttachmentLimits(2_000_000, 3_000_000, 500_000, 4, 1000)
    assert parse_limits("") == DEFAULT_LIMITS
    with pytest.raises(ConfigError, match="CHAT_ATTACHMENTS"):
        parse_limits("size=3")


def test_describe_names_type_size_and_pixels_or_characters() -> None:
    image = prepare_file("a.png", photo(exif=False))
    assert describe(image).startswith("a.png: PNG image, ")
    assert describe(image).endswith(", 64 x 48 px")
    doc = prepare_file("b.pdf", pdf("abc"))
    assert describe(doc) == f"b.pdf: PDF, {len(doc.data)} B, 3 characters of text"


def _prompt() -> ChatMessage:
    files = prepare_files([("a.png", photo(exif=False)), ("b.pdf", pdf("abc"))])
    return build_conversation("look", attachments=files).messages[-1]


def test_chat_completions_parts_carry_an_image_url_data_url() -> None:
    parts = chat_content(_prompt(), images=True)
    assert isinstance(parts, list)
    assert parts[0] == {"type": "text", "text": "look\n\n[file b.pdf]\nabc"}
    url = parts[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert len(parts) == 2  # the PDF as text: not OpenAI's own endpoint


def test_chat_completions_sends_a_pdf_as_a_file_part_on_openai() -> None:
    parts = chat_content(_prompt(), images=True, pdf_files=True)
    assert isinstance(parts, list)
    assert parts[0]["text"] == "look"
    assert parts[2]["type"] == "file"
    assert parts[2]["file"]["filename"] == "b.pdf"
    assert parts[2]["file"]["file_data"].startswith("data:application/pdf;base64,")


def test_responses_parts_are_input_image_and_input_file() -> None:
    parts = responses_content(_prompt(), images=True, pdf_files=True)
    assert isinstance(parts, list)
    assert [p["type"] for p in parts] == ["input_text", "input_image", "input_file"]
    assert parts[1]["image_url"].startswith("data:image/png;base64,")


def test_without_vision_images_become_notes() -> None:
    assert chat_content(_prompt(), images=False) == [
        {
            "type": "text",
            "text": "look\n\n[image a.png: not sent]\n\n[file b.pdf]\nabc",
        }
    ]


def test_without_images_keeps_documents_and_names_the_images() -> None:
    conversation = without_images(build_conversation("look", attachments=_prompt().attachments))
    last = conversation.messages[-1]
    assert [a.name for a in last.attachments] == ["b.pdf"]
    assert "[image a.png: not sent" in last.content


def test_a_plain_message_stays_a_string() -> None:
    message = ChatMessage("user", "hi")
    assert chat_content(message, images=True) == "hi"
    assert responses_content(message, images=True) == "hi"


def test_wire_round_trip_is_byte_identical() -> None:
    files = _prompt().attachments
    back = read_wire(to_wire(files))
    assert [(a.name, a.mime, a.data) for a in back] == [(a.name, a.mime, a.data) for a in files]


@pytest.mark.parametrize(
    ("items", "error", "field"),
    [
        ("x", ValidationError, "attachments"),
        ([1], ValidationError, "attachments[0]"),
        (
            [{"name": "a.png", "mime": "image/png", "data": "%%%"}],
            ValidationError,
            "attachments[0].data",
        ),
        (
            [{"name": "a.png", "mime": "image/png", "data": "QQ==", "x": 1}],
            ValidationError,
            "attachments[0]",
        ),
        (
            [{"name": "a.png", "mime": "image/png", "data": base64.b64encode(b"MZ").decode()}],
            ValidationError,
            "attachments[0].data",
        ),
        (
            [{"name": "a.txt", "mime": "text/plain", "data": "QUFB" * 2_000_000}],
            LimitError,
            "attachments[0].data",
        ),
    ],
)
def test_wire_refusals_name_the_field(items: object, error: type, field: str) -> None:
    with pytest.raises(error) as info:
        read_wire(items)
    assert type(info.value) is error
    assert info.value.field == field


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (500, "Unsupported content part type: image_url", True),
        (400, "The model is not a multimodal model", True),
        (415, "image input not supported", True),
        (500, "internal error", False),
        (401, "image", False),
    ],
)
def test_image_refusals_are_told_apart(status: int, body: str, refused: bool) -> None:
    assert is_image_refusal(status, body) is refused
    assert image_refusal_message().startswith("This model cannot read images.")


@pytest.mark.parametrize(
    ("size", "tokens"),
    [((1024, 1024), 765), ((2048, 4096), 1105), ((512, 512), 255), ((100, 100), 255)],
)
def test_image_tokens_follow_openai_s_tile_count(size: tuple[int, int], tokens: int) -> None:
    assert image_tokens(*size) == tokens  # the vision guide's worked examples


def test_the_estimate_counts_files() -> None:
    message = _prompt()
    assert estimated_tokens(message) == (len(text_of(message, images=True)) + 3) // 4 + 255


def test_a_thumbnail_is_small_and_a_small_image_is_kept() -> None:
    big = prepare_file("big.png", photo(1200, 600, exif=False))
    small = thumbnail(big.data, 320)
    with Image.open(io.BytesIO(small)) as image:
        assert image.size == (320, 160)
    tiny = prepare_file("tiny.png", photo(40, 30, exif=False))
    assert thumbnail(tiny.data, 320) == tiny.data


def test_view_code_shows_a_marker_not_the_file_s_base64() -> None:
    from chat_core.settings import Settings
    from chat_core.workbench.code import view_code

    noise = io.BytesIO()
    Image.effect_noise((300, 200), 80).convert("RGB").save(noise, "PNG")
    files = prepare_files([("noise.png", noise.getvalue())])
    assert len(files[0].data) > 50_000
    conversation = build_conversation("look", attachments=files)
    snippets = view_code(Settings(), conversation, GenerationParams())
    for snippet in snippets:
        assert "data:image/png;base64,<" in snippet.source
        assert "characters: the file>" in snippet.source
        assert len(snippet.source) < 4_000


def test_the_gateway_body_limit_follows_the_message_cap() -> None:
    from chat_core.gateway.config import MAX_BODY_BYTES, GatewayConfig
    from chat_core.settings import Settings

    default = GatewayConfig.from_settings(Settings(), env={}, dotenv_path=None, secrets={})
    assert default.max_body_bytes == MAX_BODY_BYTES
    assert default.attachments == DEFAULT_LIMITS
    bigger = GatewayConfig.from_settings(
        Settings(attachments="message=20MB"), env={}, dotenv_path=None, secrets={}
    )
    assert bigger.attachments.message_bytes == 20_000_000
    assert bigger.max_body_bytes == MAX_BODY_BYTES + 10_000_000 * 4 // 3
