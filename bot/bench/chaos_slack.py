"""The kill loop's Slack: the stand-in as a process of its own, and what reached it counted
against what was expected (bot/bench/chaos.py)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field, fields
from urllib.request import Request, urlopen

from sqlalchemy import Engine, func, select

from bot.db import transaction
from bot.models import Case, CaseMessage, Notification
from bot.monitor.outbox import POSTS

MANAGERS = "CMANAGERS"
SENDS = ("chat.postMessage", "chat.update")


# -- the stand-in, a process of its own -----------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandIn:
    def __init__(self, users: list[str]) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "bot", "standin", "--port", str(self.port)]
        for user in users:
            args += ["--user", f"{user}:Europe/London"]
        args += ["--channel", MANAGERS]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if "Slack stand-in at" not in self.proc.stdout.readline():
            raise RuntimeError("the stand-in did not start")
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> object:
        with urlopen(self.url + path, timeout=60) as resp:
            return json.load(resp)

    def post(self, path: str, body: dict) -> object:
        request = Request(
            self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urlopen(request, timeout=60) as resp:
            return json.load(resp)

    def calls(self) -> int:
        """How many Web API calls have arrived so far."""
        return int(self.get("/_standin/counts")["calls"])  # type: ignore[index]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


@dataclass
class Killing:
    kills: list[float] = field(default_factory=list)  # wall-clock instants of each SIGKILL
    runs: int = 0
    kills_by: Counter = field(default_factory=Counter)  # by kind of process: sweep, serve
    serve_kills: list[float] = field(default_factory=list)  # those of `python -m bot`
    runs_by: Counter = field(default_factory=Counter)
    seconds: float = 0.0


# -- counting at Slack ----------------------------------------------------------------------
def signatures(engine: Engine) -> dict[int, tuple]:
    """Each post's notification id -> what it is: kind, recipient, the tasks it shows."""
    with transaction(engine) as s:
        rows = s.execute(
            select(Notification.id, Notification.kind, Notification.to, Case.task_id)
            .join(CaseMessage, CaseMessage.notification_id == Notification.id, isouter=True)
            .join(Case, Case.id == CaseMessage.case_id, isouter=True)
            .where(Notification.kind.in_(POSTS))
        ).all()
    found: dict[int, list] = {}
    for note_id, kind, to, task_id in rows:
        found.setdefault(note_id, [kind, to, set()])[2].add(task_id)
    return {k: (v[0], v[1], tuple(sorted(t for t in v[2] if t))) for k, v in found.items()}


@dataclass
class Count:
    expected: int
    delivered: int
    doubled: int
    doubled_in_window: int
    lost: int
    unexpected: int
    text_differs: int
    pending: int
    kills: int
    kills_in_window: int
    runs: int
    kills_serve: int  # of `kills`, those of `python -m bot` (the rest: `python -m bot sweep`)
    serve_in_window: int  # of those, with a post or edit answered but not yet recorded
    runs_serve: int
    seconds: float
    sends: int  # posts and edits Slack took

    weeks: int = 1
    # What the unexpected messages were: kind, and the start of their text.
    unexpected_what: Counter = field(default_factory=Counter)

    def plus(self, other: Count) -> Count:
        """Two weeks' counts together."""
        return Count(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Count)))

    def line(self) -> str:
        return (
            f"expected {self.expected}, delivered once {self.delivered}, doubled {self.doubled} "
            f"({self.doubled_in_window} between Slack's ok and the record), lost {self.lost}, "
            f"unexpected {self.unexpected}, final text differs {self.text_differs}, still pending "
            f"{self.pending}; {self.kills} kills ({self.kills - self.kills_serve} of sweep, "
            f"{self.kills_serve} of serve; {self.kills_in_window} with a post or edit answered but "
            f"not yet recorded, {self.serve_in_window} of them of serve), {self.runs} processes "
            f"({self.runs - self.runs_serve} sweep, {self.runs_serve} serve), {self.sends} posts "
            f"and edits, {self.weeks} week(s), {self.seconds:.0f} s"
        )


def at_slack(
    standin: StandIn, engine: Engine
) -> tuple[dict[tuple, list[str]], Counter, list[dict]]:
    """Messages by signature (their final texts), copies per notification id, and the calls."""
    sig = signatures(engine)
    by_sig: dict[tuple, list[str]] = {}
    copies: Counter = Counter()
    for message in standin.get("/_standin/messages"):  # type: ignore[union-attr]
        meta = message.get("metadata") or {}
        if meta.get("event_type") != "vigil_notification":
            continue
        note_id = meta["event_payload"]["id"]
        copies[note_id] += 1
        if copies[note_id] == 1:
            by_sig.setdefault(sig.get(note_id, ("?", "?", ())), []).append(message["text"])
    calls = [c for c in standin.get("/_standin/calls") if c["method"] in SENDS]  # type: ignore[union-attr]
    return by_sig, copies, calls


def _words(text: str) -> list[str]:
    """A message's words in any order: a batched DM lists its tasks in the order their cases
    joined it, which can follow where a crash fell; a lost edit changes the words."""
    return sorted(re.findall(r"[#\w]+", text))


def count(
    expected: dict[tuple, list[str]],
    standin: StandIn,
    engine: Engine,
    killing: Killing,
    slow: float,
) -> Count:
    got, copies, calls = at_slack(standin, engine)
    applied = [c for c in calls if c["applied"]]
    posts_of: dict[int, list[float]] = {}
    for c in applied:
        meta = c["params"].get("metadata") or {}
        if (
            c["method"] == "chat.postMessage"
            and isinstance(meta, dict)
            and meta.get("event_payload")
        ):
            posts_of.setdefault(meta["event_payload"]["id"], []).append(c["at"])

    def in_window(at: float) -> bool:
        return any(at <= k <= at + slow + 0.05 for k in killing.kills)

    def answer_held(k: float) -> bool:
        return any(c["at"] <= k <= c["at"] + slow + 0.05 for c in applied)

    doubled = [n for n, c in copies.items() if c > 1]
    lost = unexpected = differs = 0
    what: Counter = Counter()
    for key in set(expected) | set(got):
        want, have = sorted(expected.get(key, [])), sorted(got.get(key, []))
        lost += max(0, len(want) - len(have))
        unexpected += max(0, len(have) - len(want))
        wanted = [_words(w) for w in want]
        extra = [h for h in have if _words(h) not in wanted][: max(0, len(have) - len(want))]
        what.update(f"{key[0]} to {key[1]} on {len(key[2])} task(s): {h[:80]!r}" for h in extra)
        differs += sum(1 for w, h in zip(want, have, strict=False) if _words(w) != _words(h))
    with transaction(engine) as s:
        pending = s.execute(
            select(func.count()).where(Notification.status == "pending")
        ).scalar_one()
    return Count(
        expected=sum(len(v) for v in expected.values()),
        delivered=sum(1 for c in copies.values() if c == 1),
        doubled=sum(copies[n] - 1 for n in doubled),
        doubled_in_window=sum(1 for n in doubled if in_window(min(posts_of.get(n, [0.0])))),
        lost=lost,
        unexpected=unexpected,
        text_differs=differs,
        pending=pending,
        kills=len(killing.kills),
        kills_in_window=sum(1 for k in killing.kills if answer_held(k)),
        runs=killing.runs,
        kills_serve=killing.kills_by["serve"],
        serve_in_window=sum(1 for k in killing.serve_kills if answer_held(k)),
        runs_serve=killing.runs_by["serve"],
        seconds=killing.seconds,
        sends=len(applied),
        unexpected_what=what,
    )
