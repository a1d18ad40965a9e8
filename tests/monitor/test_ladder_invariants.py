"""The ladder's invariants under random histories: random task changes and sweeps at random
times, with Slack failing now and then, against the stand-in through the real client.

After every step: never two open findings for one (task, rule); never an escalation before its
window; never a message for a resolved finding; never more reminders than the cap; nothing
sent twice; and the open findings are exactly what the rules say of every open task now (the
sweep's shortcut of looking only at tasks whose answer can have moved misses nothing).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, transaction
from bot.errors import UserError
from bot.models import LIVE_STATUSES, Finding, Notification, Task
from bot.monitor import ladder
from bot.monitor.alerts import task_view
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.monitor.policy import Policy
from bot.monitor.rules import evaluate
from bot.standin import SlackStandIn
from tests.conftest import london

TOKEN = "xoxb-test"
PEOPLE = ["UDANA", "ULEE", "UTOM"]
POLICY = Policy()
CAL = WorkCalendar("Europe/London", "GB")


class LoopThread:
    """The stand-in serves from its own event loop, so each sweep can use asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.slack = SlackStandIn(token=TOKEN)
        for user, tz in zip(
            PEOPLE, ["Europe/London", "America/New_York", "Europe/London"], strict=True
        ):
            self.slack.add_user(user, tz=tz)
        self.slack.add_user("UMARCUS", tz="Europe/London")
        self.slack.add_channel("CMANAGERS")
        asyncio.run_coroutine_threadsafe(self.slack.start(), self.loop).result()


SLACK: LoopThread | None = None


def slack() -> SlackStandIn:
    global SLACK
    if SLACK is None:
        SLACK = LoopThread()
    return SLACK.slack


async def _no_sleep(_seconds: float) -> None:
    return None


class LadderMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{Path(self.tmp.name) / 'v.db'}")
        create_schema(self.engine)
        self.now = london("2026-01-05T08:00")
        self.tasks: list[int] = []
        self.standin = slack()
        self.standin.reset()

    def teardown(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    def _change(self, fn, *args, **kw) -> None:
        try:
            with transaction(self.engine) as s:
                fn(s, *args, by="UMARCUS", now=self.now, **kw)
        except UserError:
            pass

    # -- what people do ---------------------------------------------------------------------
    @rule(
        owner=st.sampled_from([*PEOPLE, None]),
        due_days=st.one_of(st.none(), st.integers(min_value=-2, max_value=20)),
        parent=st.integers(min_value=0, max_value=30),
        with_parent=st.booleans(),
    )
    def create(self, owner, due_days, parent, with_parent):
        due = (
            None
            if due_days is None
            else CAL.end_of_day(CAL.local_date(self.now) + timedelta(days=due_days))
        )
        parent_id = self.tasks[parent % len(self.tasks)] if with_parent and self.tasks else None
        try:
            with transaction(self.engine) as s:
                tid = service.create_task(
                    s,
                    title="t",
                    creator="UMARCUS",
                    owner=owner,
                    due_at=due,
                    parent_id=parent_id,
                    now=self.now,
                ).id
            self.tasks.append(tid)
        except UserError:
            pass

    @precondition(lambda self: self.tasks)
    @rule(i=st.integers(min_value=0, max_value=50), value=st.integers(min_value=0, max_value=100))
    def progress(self, i, value):
        self._change(service.set_progress, self.tasks[i % len(self.tasks)], value)

    @precondition(lambda self: self.tasks)
    @rule(i=st.integers(min_value=0, max_value=50), owner=st.sampled_from(PEOPLE))
    def assign(self, i, owner):
        self._change(service.assign, self.tasks[i % len(self.tasks)], owner)

    @precondition(lambda self: self.tasks)
    @rule(i=st.integers(min_value=0, max_value=50), days=st.integers(min_value=-3, max_value=15))
    def move_deadline(self, i, days):
        due = CAL.end_of_day(CAL.local_date(self.now) + timedelta(days=days))
        self._change(service.set_due, self.tasks[i % len(self.tasks)], due)

    @precondition(lambda self: self.tasks)
    @rule(
        i=st.integers(min_value=0, max_value=50),
        action=st.sampled_from(["block", "unblock", "done", "cancel", "note"]),
    )
    def status(self, i, action):
        tid = self.tasks[i % len(self.tasks)]
        if action == "block":
            self._change(service.block, tid, "waiting")
        elif action == "unblock":
            self._change(service.unblock, tid)
        elif action == "done":
            self._change(service.complete, tid)
        elif action == "cancel":
            self._change(service.cancel, tid)
        else:
            self._change(service.add_note, tid, "a note")

    @rule(i=st.integers(min_value=0, max_value=50), days=st.integers(min_value=1, max_value=3))
    def snooze(self, i, days):
        with transaction(self.engine) as s:
            open_ = (
                s.execute(select(Finding).where(Finding.status == "open").order_by(Finding.id))
                .scalars()
                .all()
            )
            if open_:
                ladder.snooze(
                    s, open_[i % len(open_)], days, by="UDANA", now=self.now, policy=POLICY, cal=CAL
                )

    @rule(failure=st.sampled_from([None, None, 429, 500]))
    def slack_trouble(self, failure):
        if failure:
            self.standin.fail("*", status=failure, retry_after=60)

    # -- time passes, and the monitor sweeps -------------------------------------------------
    @rule(minutes=st.integers(min_value=1, max_value=3 * 24 * 60))
    def sweep(self, minutes):
        self.now += timedelta(minutes=minutes)
        asyncio.run(self._sweep())

    @rule(days=st.integers(min_value=1, max_value=6), hour=st.integers(min_value=0, max_value=23))
    def quiet_days(self, days, hour):
        """Days pass with nobody touching anything: stalls, reminders and escalations."""
        self.now = (self.now + timedelta(days=days)).replace(hour=hour)
        asyncio.run(self._sweep())

    async def _sweep(self):
        from bot.monitor.sweep import run_sweep

        client = make_client(TOKEN, self.standin.url)
        monitor = Monitor(
            engine=self.engine,
            cal=CAL,
            policy=POLICY,
            gateway=SlackGateway(client),
            manager_channel="CMANAGERS",
            sleep=_no_sleep,
        )
        try:
            await run_sweep(monitor, self.now)
        finally:
            await client.session.close() if client.session else None

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def one_open_finding_per_task_and_rule(self):
        with transaction(self.engine) as s:
            pairs = s.execute(
                select(Finding.task_id, Finding.rule).where(Finding.status == "open")
            ).all()
        assert len(pairs) == len(set(pairs))

    @invariant()
    def escalations_respect_their_window_and_reminders_their_cap(self):
        with transaction(self.engine) as s:
            for f in s.execute(select(Finding)).scalars():
                notes = (
                    s.execute(select(Notification).where(Notification.finding_id == f.id))
                    .scalars()
                    .all()
                )
                assert sum(n.kind == "reminder" for n in notes) <= POLICY.reminder_cap
                assert f.reminders <= POLICY.reminder_cap
                for n in notes:
                    if n.kind == "escalation" and POLICY.escalation_window(f.rule) > 0:
                        assert f.dm_at is not None
                        assert n.decided_at >= CAL.shift_working_days(
                            f.dm_at, POLICY.escalation_window(f.rule)
                        )
                    if n.kind in ladder.POSTS and n.status == "sent" and f.resolved_at is not None:
                        assert n.sent_at <= f.resolved_at, (
                            "a message went out for a resolved finding"
                        )

    @invariant()
    def nothing_is_sent_twice(self):
        with transaction(self.engine) as s:
            sent = s.execute(
                select(Notification.channel, Notification.ts).where(
                    Notification.status == "sent",
                    Notification.kind.in_(("dm", "reminder", "escalation", "resolution")),
                )
            ).all()
        assert len(sent) == len(set(sent))
        ok_posts = [c for c in self.standin.calls_to("chat.postMessage") if c.response.get("ok")]
        assert len(ok_posts) == len(sent)

    @invariant()
    def open_findings_are_what_the_rules_say_now(self):
        """Every open task the last sweep judged, and whose wake time has not come, has exactly
        the open findings a full evaluation gives now. Tasks edited since the last sweep
        (`next_check_at <= now`) are the next sweep's to judge."""
        with transaction(self.engine) as s:
            expected, actual, judged = set(), set(), set()
            for task in s.execute(select(Task).where(Task.status.in_(LIVE_STATUSES))).scalars():
                if task.next_check_at is not None and task.next_check_at <= self.now:
                    continue
                judged.add(task.id)
                fired, _ = evaluate(task_view(s, task, CAL), self.now, POLICY, CAL)
                expected |= {(task.id, r) for r in fired}
            for f in s.execute(select(Finding).where(Finding.status == "open")).scalars():
                if f.task_id in judged:
                    actual.add((f.task_id, f.rule))
        assert actual == expected


LadderMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ladder_invariants = LadderMachine.TestCase
