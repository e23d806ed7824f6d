"""A long prompt is previewed by its first lines; short ones are shown whole."""

from __future__ import annotations

from chat_core import prompt_preview


def test_short_prompts_are_shown_whole() -> None:
    assert prompt_preview("hello\nthere") is None
    assert prompt_preview("x" * 1200) is None


def test_a_long_prompt_keeps_its_first_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(500))
    preview = prompt_preview(text)
    assert preview is not None
    assert preview.startswith("line 0\nline 1") and preview.endswith("…")
    assert "line 11" in preview and "line 12" not in preview


def test_one_huge_line_is_cut_at_a_word_and_a_cut_code_fence_is_closed() -> None:
    preview = prompt_preview("word " * 4000)
    assert preview is not None and len(preview) <= 1_210
    assert preview.rstrip("…\n").endswith("word")
    fenced = prompt_preview("```python\n" + "\n".join(["x = 1"] * 40) + "\n```")
    assert fenced is not None and fenced.count("```") == 2
