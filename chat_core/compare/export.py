"""A compare as JSON and as Markdown: each lane's settings, turns and metrics. Pure.

Lanes are named A-D with their settings beside them: the export is the owner's own
record, so it names the models even before a vote (the page hides them, not the file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from chat_core.compare.lanes import BLIND_NAMES, LaneSpec
from chat_core.compare.leaderboard import verdict_label
from chat_core.compare.running import LaneTurn

FORMAT = "chat-compare/1"


def compare_document(
    record_title: str | None,
    lanes: Sequence[LaneSpec],
    turns_by_lane: Sequence[Sequence[LaneTurn]],
    verdicts: dict[int, str],
) -> dict[str, Any]:
    """The compare as one JSON-ready object."""
    out_lanes = []
    for k, lane in enumerate(lanes):
        turns = []
        for turn in turns_by_lane[k]:
            answer = turn.answer
            turns.append(
                {
                    "prompt": turn.prompt.content if turn.prompt else None,
                    "answer": answer.content if answer else None,
                    "reasoning": (answer.reasoning or None) if answer else None,
                    "status": answer.status if answer else None,
                    "metrics": dict(answer.metrics) if answer else {},
                }
            )
        out_lanes.append({"name": BLIND_NAMES[k], "settings": lane.to_dict(), "turns": turns})
    return {
        "format": FORMAT,
        "title": record_title,
        "lanes": out_lanes,
        "votes": {str(turn): winner for turn, winner in sorted(verdicts.items())},
    }


def compare_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def compare_markdown(document: dict[str, Any]) -> str:
    """The compare for people: per turn, each lane's answer with its settings and metrics."""
    lines = [f"# {document.get('title') or 'Compare'}", ""]
    lanes = document["lanes"]
    names = [f"Lane {lane['name']}" for lane in lanes]
    for k, lane in enumerate(lanes):
        s = lane["settings"]
        system = f", system prompt: {s['system']!r}" if s.get("system") else ""
        effort = f", reasoning effort {s['reasoning_effort']}" if s.get("reasoning_effort") else ""
        lines.append(
            f"- **{names[k]}**: {s['backend']} · `{s['model']}`, temperature {s['temperature']}, "
            f"max tokens {s['max_tokens']}{effort}{system}"
        )
    turns = max((len(lane["turns"]) for lane in lanes), default=0)
    for t in range(turns):
        lines += ["", f"## Turn {t + 1}", ""]
        prompts = {lane["turns"][t]["prompt"] for lane in lanes if t < len(lane["turns"])}
        for prompt in sorted(p for p in prompts if p):
            lines += ["> " + line for line in prompt.splitlines()] + [""]
        for k, lane in enumerate(lanes):
            if t >= len(lane["turns"]):
                continue
            turn = lane["turns"][t]
            m = turn["metrics"]
            facts = [f"status {turn['status']}"]
            if m.get("first_token_s") is not None:
                facts.append(f"first token {m['first_token_s']:.2f} s")
            if m.get("tokens_per_s") is not None:
                facts.append(f"{m['tokens_per_s']:.0f} tok/s")
            if m.get("tokens") is not None:
                facts.append(f"{m['tokens']} tokens")
            if m.get("stalls"):
                facts.append(f"{m['stalls']} stalls")
            if m.get("error_message"):
                facts.append(f"error: {m['error_message']}")
            answer = turn["answer"] or "*(no text)*"
            lines += [f"### {names[k]}", "", answer, "", "*" + " · ".join(facts) + "*", ""]
        if (winner := document["votes"].get(str(t))) is not None:
            lines += [f"**Vote:** {verdict_label(winner, names)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def compare_filename(title: str | None, extension: str) -> str:
    """A safe file name from the title, e.g. ``why-is-the-sky-blue.compare.json``."""
    slug = "-".join(re.findall(r"[a-z0-9]+", (title or "").lower()))[:60].strip("-")
    return f"{slug or 'compare'}.compare.{extension}"


__all__ = ["FORMAT", "compare_document", "compare_filename", "compare_json", "compare_markdown"]
