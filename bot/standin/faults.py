"""Failures on demand: scripted ones (`fail`: the next n calls of a method fail this way) and
random ones for chaos tests (`fail_randomly`: a share of calls fail, from a seeded generator).

A fault either refuses the call before the method takes effect (429 with Retry-After, 500,
503, an `{"ok": false}` error), or loses the answer: `timeout` holds the request past the
client's timeout, `reset` closes the connection unanswered. A lost answer can come after the
method took effect (`after_effect`), which is the window real Slack has: the post is in the
channel though the caller saw only an error.

Every 429 starts a Retry-After window for its method, on the stand-in's clock; calls of that
method arriving inside it are counted (`calls_inside_retry_after`), so a test can assert that
nothing was called again before its Retry-After had passed."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KINDS = ("429", "500", "503", "timeout", "reset")
LOSE_ANSWER = ("timeout", "reset")


@dataclass
class Fault:
    kind: str  # one of KINDS, or "error" for a 200 `{"ok": false}`
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    after_effect: bool = False  # timeout/reset: the method took effect, then the answer was lost
    hold: float | None = None  # timeout: seconds to hold the request; None: `Faults.hold_seconds`

    @property
    def loses_answer(self) -> bool:
        return self.kind in LOSE_ANSWER


@dataclass
class _Scripted:
    fault: Fault
    times: int


@dataclass
class RandomFaults:
    rate: float
    rng: random.Random
    kinds: tuple[str, ...]
    retry_after: int
    after_effect: float  # the share of timeouts and resets that come after the effect
    methods: frozenset[str] | None  # None: every method

    def draw(self, method: str) -> Fault | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        if kind in LOSE_ANSWER:
            return Fault(kind, after_effect=self.rng.random() < self.after_effect)
        if kind == "429":
            return Fault(kind, status=429, retry_after=self.retry_after)
        return Fault(kind, status=int(kind))


def scripted_fault(
    *,
    error: str | None,
    status: int,
    retry_after: int | None,
    kind: str | None,
    after_effect: bool,
    hold: float | None = None,
) -> Fault:
    if kind is not None:
        if kind not in LOSE_ANSWER:
            raise ValueError(f"kind is one of {', '.join(LOSE_ANSWER)}, not {kind!r}")
        return Fault(kind, after_effect=after_effect, hold=hold)
    if status == 429:
        return Fault("429", status=429, retry_after=retry_after or 1)
    if status >= 500:
        return Fault(str(status), error=error, status=status)
    return Fault("error", error=error)


class Faults:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.hold_seconds = 1.0  # how long a `timeout` holds a request
        self.random: RandomFaults | None = None
        self.counts: Counter[str] = Counter()
        self.retry_after_until: dict[str, float] = {}  # method -> end of its Retry-After
        self.calls_inside_retry_after = 0
        # method -> seconds an answer waits after the method took effect: the window between
        # Slack's `ok` and the caller's record of it, made wide enough to kill a process in
        self.slow: dict[str, float] = {}
        self._scripted: dict[str, list[_Scripted]] = {}
        self._closing: asyncio.Event | None = None

    def script(self, method: str, fault: Fault, times: int) -> None:
        self._scripted.setdefault(method, []).append(_Scripted(fault, times))

    def fail_randomly(
        self,
        rate: float,
        seed: int,
        kinds: Iterable[str | int] = KINDS,
        *,
        retry_after: int = 1,
        hold: float | None = None,
        after_effect: float = 0.0,
        methods: Iterable[str] | None = None,
    ) -> None:
        chosen = tuple(str(k) for k in kinds)
        unknown = [k for k in chosen if k not in KINDS]
        if unknown or not chosen:
            raise ValueError(f"kinds are some of {', '.join(KINDS)}; got {unknown or 'none'}")
        if not 0 <= rate <= 1 or not 0 <= after_effect <= 1:
            raise ValueError("rate and after_effect are shares between 0 and 1")
        if hold is not None:
            self.hold_seconds = hold
        self.random = RandomFaults(
            rate,
            random.Random(seed),
            chosen,
            retry_after,
            after_effect,
            frozenset(methods) if methods is not None else None,
        )

    def stop_random(self) -> None:
        self.random = None

    def clear(self) -> None:
        self._scripted.clear()
        self.random = None
        self.counts.clear()
        self.retry_after_until.clear()
        self.calls_inside_retry_after = 0
        self.slow.clear()

    def arrived(self, method: str) -> bool:
        """Count the call; True if it came inside a Retry-After this method was given."""
        self.counts["calls"] += 1
        inside = self.clock() < self.retry_after_until.get(method, float("-inf"))
        if inside:
            self.calls_inside_retry_after += 1
        return inside

    def pick(self, method: str) -> Fault | None:
        fault = self._take_scripted(method)
        if fault is None and self.random is not None:
            fault = self.random.draw(method)
        if fault is not None:
            self.counts[fault.kind] += 1
        return fault

    def _take_scripted(self, method: str) -> Fault | None:
        for key in (method, "*"):
            queue = self._scripted.get(key)
            if queue:
                scripted = queue[0]
                scripted.times -= 1
                if scripted.times <= 0:
                    queue.pop(0)
                return scripted.fault
        return None

    def refusal(self, method: str, fault: Fault) -> tuple[int, dict[str, str], dict]:
        """The answer to a call refused before it took effect."""
        if fault.kind == "429":
            seconds = fault.retry_after or 1
            self.retry_after_until[method] = self.clock() + seconds
            return 429, {"Retry-After": str(seconds)}, {"ok": False, "error": "ratelimited"}
        if fault.status >= 500:
            return fault.status, {}, {"ok": False, "error": fault.error or "internal_error"}
        return 200, {}, {"ok": False, "error": fault.error or "fatal_error"}

    async def hold(self, fault: Fault) -> None:
        """Keep a request unanswered for the fault's hold, or until the stand-in stops."""
        if self._closing is None:
            self._closing = asyncio.Event()
        seconds = self.hold_seconds if fault.hold is None else fault.hold
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    def release_holds(self) -> None:
        if self._closing is not None:
            self._closing.set()
            self._closing = None
