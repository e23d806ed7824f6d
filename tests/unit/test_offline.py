"""The offline model: deterministic scripted replies, a steady rate, fault directives."""

from __future__ import annotations

import asyncio

import pytest

from chat_core import (
    Done,
    GenerationParams,
    OfflineBackend,
    ReasoningDelta,
    StreamError,
    TextDelta,
    Usage,
    answer_text,
    build_conversation,
    reasoning_text,
)
from chat_core.backends.offline import Plan, tokenize
from chat_core.messages import CONTINUE_PROMPT, ChatMessage

PARAMS = GenerationParams()


def plan_for(prompt: str, backend: OfflineBackend | None = None, **params: object) -> Plan:
    backend = backend or OfflineBackend(tokens_per_second=10)
    return backend.plan(build_conversation(prompt), GenerationParams(**params))  # type: ignore[arg-type]


def events(plan: Plan) -> list[object]:
    return [e for _, e in plan]


def text_of(plan: Plan) -> str:
    return answer_text([e for _, e in plan])  # type: ignore[misc]


def deltas(plan: Plan) -> list[TextDelta]:
    return [e for _, e in plan if isinstance(e, TextDelta)]


def test_same_prompt_same_answer_different_prompt_different_answer() -> None:
    first = plan_for("Explain server-sent events")
    assert first == plan_for("Explain server-sent events", OfflineBackend(tokens_per_second=10))
    assert text_of(first) != text_of(plan_for("Explain websockets"))


def test_reply_shows_the_prompt_was_read() -> None:
    text = text_of(plan_for("How do penguins regulate temperature?"))
    assert "> How do penguins regulate temperature?" in text
    assert "`temperature`" in text  # picked out as a key word
    assert "**A question?** yes" in text
    assert "OPENAI_API_KEY" in text  # and says how to use a real model


def test_reply_counts_earlier_messages() -> None:
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    conv = build_conversation("and now?", history)
    text = answer_text(events(OfflineBackend().plan(conv, PARAMS)))  # type: ignore[arg-type]
    assert "after 2 earlier messages" in text


def test_reply_names_directives_it_did_not_understand() -> None:
    assert "`/bogus 3`" in text_of(plan_for("/bogus 3\nhello"))


def test_stream_ends_with_usage_then_done_stop() -> None:
    plan = plan_for("hello there")
    *_, (_, usage), (_, done) = plan
    assert done == Done("stop")
    assert isinstance(usage, Usage)
    assert usage.completion_tokens == len(deltas(plan))
    assert usage.prompt_tokens > 0
    assert sum(isinstance(e, Done) for e in events(plan)) == 1


def test_max_tokens_cuts_with_finish_length() -> None:
    plan = plan_for("Tell me everything about rivers", max_tokens=7)
    assert len(deltas(plan)) == 7
    assert plan[-1][1] == Done("length")
    assert plan[-2][1] == Usage(plan[-2][1].prompt_tokens, 7)  # type: ignore[union-attr]


@pytest.mark.parametrize("count", [1, 17, 400])
def test_lorem_gives_exactly_n_tokens(count: int) -> None:
    plan = plan_for(f"/lorem {count}", max_tokens=5)  # /lorem N means N, whatever max_tokens
    assert len(deltas(plan)) == count
    assert plan[-1][1] == Done("stop")


def test_lorem_is_markdown_with_paragraphs_a_list_and_code() -> None:
    text = text_of(plan_for("/lorem 400"))
    lines = text.split("\n")
    assert "\n\n" in text
    assert any(line.startswith("- ") for line in lines)
    fences = [line for line in lines if line.startswith("```")]
    assert fences and len(fences) % 2 == 0  # every fence opened is closed
    assert "```python" in fences


def test_offsets_follow_the_rate_and_the_first_token_is_not_delayed() -> None:
    plan = plan_for("/lorem 5", OfflineBackend(tokens_per_second=4))
    offsets = [t for t, e in plan if isinstance(e, TextDelta)]
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert plan[-1][0] == pytest.approx(1.25)


def test_stall_shifts_later_offsets() -> None:
    backend = OfflineBackend(tokens_per_second=10)
    plain = [t for t, e in plan_for("/lorem 6", backend) if isinstance(e, TextDelta)]
    stalled = [
        t for t, e in plan_for("/stall 2 after 3\n/lorem 6", backend) if isinstance(e, TextDelta)
    ]
    assert stalled[:3] == plain[:3]
    assert stalled[3:] == pytest.approx([t + 2 for t in plain[3:]])


@pytest.mark.parametrize("kind", ["rate_limit", "server", "auth", "timeout", "bad_request"])
def test_error_after_n_gives_n_tokens_then_error_then_done(kind: str) -> None:
    plan = plan_for(f"/error {kind} after 4\n/lorem 30")
    evs = events(plan)
    assert all(isinstance(e, TextDelta) for e in evs[:4])
    error, done = evs[4:]
    assert isinstance(error, StreamError)
    assert error.code == kind
    # Without ``times`` the directive fails every time: retrying cannot help.
    assert error.retryable is False
    assert "retry" not in error.message.lower().replace("fails every time", "")
    assert "Error" not in answer_text(evs)  # type: ignore[arg-type]
    assert done == Done("error")
    recovering = events(plan_for(f"/error {kind} after 4 times 1\n/lorem 30", OfflineBackend()))
    assert recovering[4].retryable is (kind not in ("auth", "bad_request"))  # type: ignore[union-attr]


def test_error_times_k_fails_only_the_first_k_tries() -> None:
    backend = OfflineBackend()
    outcomes = [events(plan_for("/error server times 2\nhi", backend))[-1] for _ in range(4)]
    assert outcomes == [Done("error"), Done("error"), Done("stop"), Done("stop")]
    # another prompt has its own count
    assert events(plan_for("/error server times 2\nbye", backend))[-1] == Done("error")


def test_echo_answers_verbatim() -> None:
    assert text_of(plan_for("/echo hello  *world*\nline two")) == "hello  *world*\nline two"


def test_tokens_concatenate_to_the_text() -> None:
    text = "Some `code`, words\n\n- and  a list\n"
    assert "".join(tokenize(text)) == text


def test_stream_and_astream_yield_the_plan() -> None:
    backend = OfflineBackend(tokens_per_second=5000)
    conv = build_conversation("/lorem 20\nstreams")
    expected = events(backend.plan(conv, PARAMS))

    async def collect() -> list[object]:
        return [e async for e in backend.astream(conv, PARAMS)]

    assert list(backend.stream(conv, PARAMS)) == expected
    assert asyncio.run(collect()) == expected


def test_think_reasons_for_its_seconds_then_answers() -> None:
    plan = plan_for("/think 2\nHello there")
    thoughts = [(t, e) for t, e in plan if isinstance(e, ReasoningDelta)]
    answer = [(t, e) for t, e in plan if isinstance(e, TextDelta)]
    assert len(thoughts) == 20  # 2 s at 10 tokens a second
    assert thoughts[0][0] == 0.0 and thoughts[-1][0] < 2.0 <= answer[0][0]
    assert plan.index(thoughts[-1]) < plan.index(answer[0])
    evs = events(plan)
    assert reasoning_text(evs).startswith("The user wrote 2 words.")  # type: ignore[arg-type]
    assert "The user wrote" not in answer_text(evs)  # type: ignore[arg-type]
    usage = next(e for e in evs if isinstance(e, Usage))
    assert usage.reasoning_tokens == 20
    assert usage.completion_tokens == 20 + len(answer)
    assert evs[-1] == Done("stop")


def test_without_think_there_is_no_reasoning() -> None:
    plan = plan_for("Hello there")
    assert not any(isinstance(e, ReasoningDelta) for _, e in plan)
    usage = next(e for e in events(plan) if isinstance(e, Usage))
    assert usage.reasoning_tokens is None
    default = OfflineBackend(tokens_per_second=10).plan(
        build_conversation("Hello there"), PARAMS, think_s=0.5
    )
    assert sum(isinstance(e, ReasoningDelta) for _, e in default) == 5


def test_continue_goes_on_with_the_planned_answer_without_quoting_the_instruction() -> None:
    backend = OfflineBackend(tokens_per_second=1000)
    prompt = "/echo one two three four five six seven"
    whole = answer_text(events(plan_for(prompt, backend)))  # type: ignore[arg-type]
    history = [ChatMessage("user", prompt), ChatMessage("assistant", "one two three")]
    conversation = build_conversation(CONTINUE_PROMPT, history)

    evs = events(backend.plan(conversation, GenerationParams()))

    rest = answer_text(evs)  # type: ignore[arg-type]
    assert rest == " four five six seven"
    assert "one two three" + rest == whole
    assert "Continue" not in rest
    assert evs[-1] == Done("stop")


def test_a_repeated_request_is_planned_once_and_each_caller_gets_its_own_list() -> None:
    backend = OfflineBackend(tokens_per_second=10)
    first = plan_for("/lorem 12", backend)
    first.clear()  # a caller that changes its plan changes nobody else's
    again = plan_for("/lorem 12", backend)
    assert again == plan_for("/lorem 12", OfflineBackend(tokens_per_second=10))
    assert len(again) == 14 and plan_for("/lorem 12", backend, system="/think 1") != again


def test_an_error_directive_in_the_system_prompt_still_counts_its_tries() -> None:
    backend = OfflineBackend(tokens_per_second=10)
    ends = [events(plan_for("hi", backend, system="/error server times 1"))[-1] for _ in range(3)]
    assert ends == [Done("error"), Done("stop"), Done("stop")]
