"""How often a streaming answer sends a frame: steady while the server keeps up, slower when not.

Every frame is a message through Streamlit's session machinery: it costs the
server CPU whoever reads it, and when many visitors stream at once that CPU is
what makes every answer late. Plain ``st.write_stream`` gets relief for free
(Streamlit merges the queued updates of one element when the browser falls
behind); the chat page's renderer starts a new element per finished block, so
it paces itself instead:

- while frames go out on time, one every ``base_s`` (10 a second by default:
  text that reads as smooth, and never slower than that while keeping up);
- when the server falls behind, which shows as frames leaving late (the
  rendering thread waited for the CPU) or taking long to hand over (the
  consumer, Streamlit, waited for the GIL), the interval grows to
  ``LOAD_FACTOR`` times that recent cost, up to ``max_s``: fewer, larger
  updates, so the text still arrives whole and on time, in bigger steps;
- the first frame, and the last (the run's end), are never held back: that is
  the renderer's rule (``render.coalesced_frames``).

A browser that falls behind on the same machine shows the same way (it takes
the CPU); a remote browser's backlog is not visible from here.
"""

from __future__ import annotations

# Frames are spaced to this many times their recent cost: a frame's work then stays
# under about a tenth of the rendering thread's time, however loaded the server.
LOAD_FACTOR = 10.0
# How much of the last frame's cost counts against the history (an EWMA): a burst of
# load slows frames within a few of them, and its end speeds them up as quickly.
_WEIGHT = 0.3


class FramePacer:
    """When the next frame is due, from how late and how slow the last ones were."""

    def __init__(self, base_s: float, max_s: float | None = None) -> None:
        self.base_s = base_s
        self.max_s = max(base_s, 0.5 if max_s is None else max_s)
        self.cost_s = 0.0  # recent lateness + hand-over time per frame (EWMA)

    @property
    def interval_s(self) -> float:
        """The spacing now: ``base_s`` while keeping up, up to ``max_s`` under load."""
        return min(self.max_s, max(self.base_s, LOAD_FACTOR * self.cost_s))

    def sent(self, *, due: float, started: float, handed_over: float) -> float:
        """Record a frame and return when the next one is due.

        Args:
            due: when this frame was due (``-inf`` for one not held back: the first,
                or text arriving after a quiet spell).
            started: when it actually went out (the rendering thread woke).
            handed_over: when the consumer was done with it (the generator resumed).
        """
        late = max(0.0, started - due) if due > float("-inf") else 0.0
        cost = late + max(0.0, handed_over - started)
        self.cost_s += _WEIGHT * (cost - self.cost_s)
        return handed_over + self.interval_s
