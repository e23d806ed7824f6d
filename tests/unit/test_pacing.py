"""Frame pacing: steady while keeping up, fewer frames under load, back when the load ends."""

import itertools

import pytest

from chat_core import Done, TextDelta, render_run
from chat_core.chat.pacing import LOAD_FACTOR, FramePacer
from tests.unit.test_render import ScriptedRun, tokens_at


def test_a_server_keeping_up_gets_the_base_interval():
    pacer = FramePacer(0.1)
    due = float("-inf")
    for i in range(20):
        now = max(due, i * 0.1)
        due = pacer.sent(due=due, started=now, handed_over=now)
        assert due == pytest.approx(now + 0.1)


def test_late_or_slow_frames_space_the_next_ones_out_up_to_the_cap():
    pacer = FramePacer(0.1, max_s=0.5)
    now = 0.0
    intervals = []
    for _ in range(10):  # each frame leaves 20 ms late and takes 10 ms to hand over
        due = now
        started = due + 0.02
        nxt = pacer.sent(due=due, started=started, handed_over=started + 0.01)
        intervals.append(nxt - (started + 0.01))
        now = nxt
    assert intervals == sorted(intervals)  # growing with the evidence
    assert intervals[-1] == pytest.approx(LOAD_FACTOR * 0.03, rel=0.1)
    for _ in range(10):  # much slower still: capped
        pacer.sent(due=now, started=now + 0.2, handed_over=now + 0.3)
    assert pacer.interval_s == 0.5


def test_when_the_load_ends_frames_return_to_the_base_interval():
    pacer = FramePacer(0.1)
    for _ in range(10):
        pacer.sent(due=0.0, started=0.1, handed_over=0.15)
    assert pacer.interval_s > 0.4
    for _ in range(15):
        pacer.sent(due=1.0, started=1.0, handed_over=1.0)
    assert pacer.interval_s == 0.1


def test_text_not_held_back_is_not_counted_late():
    pacer = FramePacer(0.1)
    pacer.sent(due=float("-inf"), started=100.0, handed_over=100.0)
    assert pacer.cost_s == 0.0


class SlowConsumerRun(ScriptedRun):
    """A virtual-clock run whose consumer takes ``cost_s`` per piece while ``loaded()``."""

    def __init__(self, script, cost_s, loaded):
        super().__init__(script)
        self.cost_s, self.loaded = cost_s, loaded


def drive_slowly(run: SlowConsumerRun) -> list[float]:
    times = []
    for piece in render_run(run, clock=run.clock, frame_s=0.1):  # type: ignore[arg-type]
        if isinstance(piece, str):
            times.append(run.now)
            if run.loaded(run.now):
                run.now += run.cost_s  # Streamlit, short of CPU, takes this long per frame
    return times


def test_render_run_sends_fewer_frames_under_load_and_all_the_text():
    words = [f" w{i}" for i in range(800)]  # 8 s at 100 tok/s
    script = [*tokens_at(100, words), (8.0, Done())]
    run = SlowConsumerRun(script, cost_s=0.03, loaded=lambda t: 2.0 <= t < 5.0)
    times = drive_slowly(run)
    gaps = [(a, b - a) for a, b in itertools.pairwise(times)]
    steady = [g for t, g in gaps if t < 1.9]
    loaded = [g for t, g in gaps if 3.0 <= t < 5.0]
    after = [g for t, g in gaps if 6.5 <= t < 7.9]
    assert steady and min(steady) == pytest.approx(0.1) and max(steady) == pytest.approx(0.1)
    assert min(loaded) > 0.2  # fewer, larger updates while the server is behind
    assert max(after) == pytest.approx(0.1)  # back to 10 a second once it keeps up
    assert times[-1] <= 8.0 + 0.03 + 1e-9  # the last words are not held after Done


def test_the_first_chunk_is_not_delayed_by_load():
    run = SlowConsumerRun([(0.5, TextDelta("Hi")), (0.6, Done())], 0.2, lambda t: True)
    assert drive_slowly(run)[0] == 0.5
