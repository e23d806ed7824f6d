"""The offline model's named characters: speeds, thinking, stalls, system-prompt directives."""

from __future__ import annotations

import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.backends.offline_models import (
    OFFLINE_MODEL_NAMES,
    offline_character,
    with_system_directives,
)
from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta
from chat_core.messages import GenerationParams, build_conversation
from chat_core.metrics import measure

LOREM = build_conversation("/lorem 100")


def plan_of(model: str, prompt: str = "/lorem 100", system: str | None = None):
    backend = OfflineBackend(tokens_per_second=40)
    return backend.plan(build_conversation(prompt), GenerationParams(model=model, system=system))


def end_of(plan) -> float:
    return plan[-1][0]


def texts(plan) -> str:
    return "".join(e.text for _, e in plan if isinstance(e, TextDelta))


def test_the_back_end_lists_every_character() -> None:
    assert OfflineBackend().list_models() == list(OFFLINE_MODEL_NAMES)
    assert OFFLINE_MODEL_NAMES[0] == "offline-scripted"
    assert {"offline-fast", "offline-slow", "offline-thinker", "offline-stutter"} <= set(
        OFFLINE_MODEL_NAMES
    )


def test_the_scripted_model_and_unknown_names_keep_the_plain_plan() -> None:
    assert offline_character("offline-scripted") is None
    assert offline_character("gpt-4o") is None
    assert plan_of("offline-scripted") == plan_of("something-else")
    assert end_of(plan_of("offline-scripted")) == pytest.approx(100 / 40)


@pytest.mark.parametrize(("model", "speed"), [("offline-fast", 4.0), ("offline-slow", 0.4)])
def test_speed_is_a_multiple_of_the_rate_with_the_same_text(model: str, speed: float) -> None:
    plan = plan_of(model)
    assert end_of(plan) == pytest.approx(100 / 40 / speed)
    assert texts(plan) == texts(plan_of("offline-scripted"))
    assert isinstance(plan[-1][1], Done) and plan[-1][1].finish_reason == "stop"


def test_the_thinker_reasons_first_then_answers_at_the_rate() -> None:
    plan = plan_of("offline-thinker")
    first_text = next(t for t, e in plan if isinstance(e, TextDelta))
    assert isinstance(plan[0][1], ReasoningDelta)
    assert first_text == pytest.approx(2.0)
    assert all(t < first_text for t, e in plan if isinstance(e, ReasoningDelta))
    assert end_of(plan) == pytest.approx(2.0 + 100 / 40)


def test_a_prompts_think_directive_overrides_the_thinkers_own() -> None:
    plan = plan_of("offline-thinker", "/think 0.5\n/lorem 10")
    assert next(t for t, e in plan if isinstance(e, TextDelta)) == pytest.approx(0.5)


def test_the_stutter_stalls_now_and_then_and_metrics_count_the_stalls() -> None:
    plan = plan_of("offline-stutter")
    assert end_of(plan) == pytest.approx(100 / 40 + 2 * 1.5)  # after tokens 40 and 80
    events = [e for _, e in plan]
    times = [t for t, _ in plan]
    assert measure(0.0, events, times).stalls == 2
    plain = plan_of("offline-scripted")
    assert measure(0.0, [e for _, e in plain], [t for t, _ in plain]).stalls == 0


def test_the_same_name_and_prompt_give_the_same_plan() -> None:
    assert plan_of("offline-stutter", "hello there") == plan_of("offline-stutter", "hello there")


def test_directives_in_the_system_prompt_apply_to_that_request_only() -> None:
    failing = plan_of("offline-fast", "/lorem 100", system="/error server after 20")
    assert sum(isinstance(e, TextDelta) for _, e in failing) == 20
    assert isinstance(failing[-2][1], StreamError) and failing[-2][1].code == "server"
    assert isinstance(plan_of("offline-fast")[-1][1], Done)
    assert plan_of("offline-fast")[-1][1].finish_reason == "stop"


def test_a_system_prompt_without_directives_changes_nothing() -> None:
    params = GenerationParams(system="You are terse.\n/lorem 5")
    assert with_system_directives(LOREM, params) is LOREM
    assert with_system_directives(LOREM, GenerationParams()) is LOREM
    echo = GenerationParams(system="/echo hi")  # /echo takes the rest: never from a system prompt
    assert with_system_directives(LOREM, echo) is LOREM
