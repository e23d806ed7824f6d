"""Saving an answer while the database fails: backoff, the notices, the final save's retries."""

import threading

from chat_core.chat.saving import (
    Backoff,
    UnsavedAnswers,
    given_up_notice,
    pending_notice,
    save_final,
    save_problem,
    streaming_notice,
)
from chat_core.errors import StoreError
from tests.support.polling import wait_for


def test_backoff_doubles_up_to_its_cap_and_resets():
    backoff = Backoff(first_s=0.5, max_s=4.0)
    assert backoff.due(0.0)
    waits = []
    for now in (0.0, 10.0, 20.0, 30.0, 40.0, 50.0):
        backoff.failed(now)
        waits.append(backoff.next_at - now)
        assert not backoff.due(now + waits[-1] - 0.01) and backoff.due(now + waits[-1])
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.due(0.0) and backoff.failures == 0


def test_the_problem_is_named_in_words():
    assert save_problem(StoreError("...: database or disk is full")) == "the database is full"
    assert save_problem(StoreError("...: connection refused")) == "the database is unreachable"
    assert streaming_notice("the database is unreachable") == (
        "Not saved: the database is unreachable; the answer goes on and will be saved when it "
        "is back."
    )


class FlakyWrite:
    """A write that fails ``failures`` times with StoreError, then works."""

    def __init__(self, failures: int, message: str = "connection refused") -> None:
        self.failures = failures
        self.message = message
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreError(self.message)


def test_a_final_save_that_works_at_once_is_done_at_once():
    unsaved, done, marked = UnsavedAnswers(), threading.Event(), []
    save_final(FlakyWrite(0), marked.append, done.set, message_id=7, unsaved=unsaved)
    assert done.is_set() and marked == [] and unsaved.get(7) is None


def test_a_failed_final_save_is_retried_until_it_works():
    unsaved, done, marked = UnsavedAnswers(), threading.Event(), []
    write = FlakyWrite(2)
    save_final(write, marked.append, done.set, message_id=7, unsaved=unsaved, delays_s=(0.01,) * 5)
    assert unsaved.get(7) == pending_notice("the database is unreachable")  # meanwhile
    assert done.wait(5)
    assert write.calls == 3 and marked == [] and unsaved.get(7) is None


def test_a_final_save_given_up_marks_the_row_and_says_so():
    unsaved, done, marked = UnsavedAnswers(), threading.Event(), []
    write = FlakyWrite(99, "database or disk is full")
    save_final(write, marked.append, done.set, message_id=7, unsaved=unsaved, delays_s=(0.01,) * 3)
    assert done.wait(5)
    assert write.calls == 4  # once at once, three retries
    assert marked == ["Not saved: the database is full."]
    assert unsaved.get(7) == given_up_notice("the database is full")


def test_done_follows_even_when_the_mark_fails_too():
    unsaved, done = UnsavedAnswers(), threading.Event()

    def mark(_reason: str) -> None:
        raise StoreError("connection refused")

    save_final(FlakyWrite(99), mark, done.set, message_id=1, unsaved=unsaved, delays_s=(0.01,))
    assert done.wait(5)
    assert wait_for(lambda: "only on this screen" in (unsaved.get(1) or ""))
