"""A compare's lanes: what each sends to which model, checked before anything is stored or sent.

Pure. A lane is (back end, model, parameters); a compare has 2 to 4. Every refusal is a
``ValidationError`` naming the field, ``lanes[2].model`` or ``prompt``, the same for the
page's form and for a crafted request, so nothing half-valid reaches the store or a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS, GenerationParams
from chat_core.settings import DEFAULT_OFFLINE_MODEL

MIN_LANES = 2
MAX_LANES = 4
LANE_BACKENDS = ("offline", "openai", "remote")
BLIND_NAMES = ("A", "B", "C", "D")
_FIELDS = ("backend", "model", "temperature", "max_tokens", "reasoning_effort", "system")


@dataclass(frozen=True, slots=True)
class LaneSpec:
    """One lane: which back end and model answer, and with which parameters."""

    backend: str = "offline"
    model: str = DEFAULT_OFFLINE_MODEL
    temperature: float = 0.7
    max_tokens: int = 1000
    reasoning_effort: str | None = None
    system: str | None = None

    def params(self) -> GenerationParams:
        """The generation parameters this lane sends (ValidationError naming the field)."""
        return GenerationParams(
            model=self.model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            system=self.system or None,
            reasoning_effort=self.reasoning_effort or None,
        )

    @property
    def label(self) -> str:
        """'offline · offline-fast': what a lane is called once names show."""
        return f"{self.backend} · {self.model}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lane_from_dict(data: object, index: int = 0) -> LaneSpec:
    """A lane from a stored or posted object; ValidationError naming ``lanes[i].field``."""
    where = f"lanes[{index}]"
    if not isinstance(data, Mapping):
        raise ValidationError(where, "each lane must be an object")
    extra = sorted(set(data) - set(_FIELDS))
    if extra:
        raise ValidationError(f"{where}.{extra[0]}", f"unknown lane field {extra[0]!r}")
    try:
        return replace(LaneSpec(), **dict(data))
    except TypeError as exc:  # pragma: no cover - the extra-key check comes first
        raise ValidationError(where, "a lane has unknown fields") from exc


def check_lanes(
    lanes: Sequence[LaneSpec], models: Mapping[str, Sequence[str] | None]
) -> list[GenerationParams]:
    """Each lane's parameters, or ValidationError naming the first bad field.

    ``models``: per back end the lane may use, the models it serves (None: it has no
    list, any name is tried); a back end missing from it is not available here.
    """
    if len(lanes) < MIN_LANES:
        raise ValidationError("lanes", f"a compare has at least {MIN_LANES} lanes")
    if len(lanes) > MAX_LANES:
        raise LimitError("lanes", f"a compare has at most {MAX_LANES} lanes")
    out = []
    for i, lane in enumerate(lanes):
        where = f"lanes[{i}]"
        if lane.backend not in LANE_BACKENDS or lane.backend not in models:
            raise ValidationError(f"{where}.backend", f"back end {lane.backend!r} is not available")
        if not isinstance(lane.model, str) or not lane.model.strip():
            raise ValidationError(f"{where}.model", "pick a model")
        served = models[lane.backend]
        if served is not None and lane.model not in served:
            raise ValidationError(
                f"{where}.model", f"unknown model {lane.model[:60]!r} for the {lane.backend} lane"
            )
        try:
            out.append(lane.params())
        except ValidationError as exc:
            raise type(exc)(f"{where}.{exc.field}", exc.message) from exc
    return out


def check_prompt(prompt: object) -> str:
    """The prompt, or ValidationError/LimitError naming ``prompt``."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValidationError("prompt", "the prompt is empty")
    if len(prompt) > MAX_MESSAGE_CHARS:
        raise LimitError("prompt", f"the prompt is over {MAX_MESSAGE_CHARS} characters")
    return prompt


def lane_name(index: int, lane: LaneSpec, *, blind: bool) -> str:
    """'A'..'D' while blind, else the lane's back end and model."""
    return f"Lane {BLIND_NAMES[index]}" if blind else lane.label


def default_lanes(count: int = 3) -> list[LaneSpec]:
    """Offline lanes with different characters: a compare that works with no key."""
    models = ("offline-fast", "offline-scripted", "offline-slow", "offline-thinker")
    return [LaneSpec(model=m) for m in models[:count]]


__all__ = [
    "BLIND_NAMES",
    "LANE_BACKENDS",
    "MAX_LANES",
    "MIN_LANES",
    "LaneSpec",
    "check_lanes",
    "check_prompt",
    "default_lanes",
    "lane_from_dict",
    "lane_name",
]
