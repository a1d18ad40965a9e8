"""The ladder's invariants under random histories: random task changes and sweeps at random
times, with Slack failing now and then, against the stand-in through the real client.

After every step: at most one open case per task (and the database refuses a second); the open
findings are exactly what the rules say of every open task now (the sweep's shortcut of looking
only at tasks whose answer can have moved misses nothing); no post (an edit aside) that shows
a case already resolved when it went; never more reminders per case than the cap; never two
managers' digests on one working day; never more than `ping_cap` posts to one person on one
working day of their own zone; nothing sent twice; never two DMs to one person showing one
case open (a case reassigned back, or back from the creator, is told afresh, and the DM that
handed it over stays so).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot import tasks as service
from bot.calendar import WorkCalendar
from bot.db import create_schema, make_engine, transaction
from bot.errors import UserError
from bot.models import LIVE_STATUSES, Case, CaseMessage, Finding, Notification, Task
from bot.monitor import ladder, outbox, people
from bot.monitor.alerts import redraw, task_view
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.monitor.policy import Policy
from bot.monitor.rules import evaluate
from bot.slack import ids
from bot.standin import SlackStandIn
from tests.conftest import london

TOKEN = "xoxb-test"
PEOPLE = ["UDANA", "ULEE", "UTOM"]
ZONES = {
    "UDANA": "Europe/London",
    "ULEE": "America/New_York",
    "UTOM": "Europe/London",
    "UMARCUS": "Europe/London",
}
POLICY = Policy()
CAL = WorkCalendar("Europe/London", "GB")


class LoopThread:
    """The stand-in serves from its own event loop, so each sweep can use asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.slack = SlackStandIn(token=TOKEN)
        for user, tz in ZONES.items():
            self.slack.add_user(user, tz=tz)
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
        self.owners: dict[int, list[str | None]] = {}  # each task's owners, in turn
        self.standin = slack()
        self.standin.reset()
        for person in PEOPLE:  # people stay across examples: back from any that left
            self.standin.set_deleted(person, False)
        self.posts_seen = 0

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
            self.owners[tid] = [owner]
        except UserError:
            pass

    @precondition(lambda self: self.tasks)
    @rule(i=st.integers(min_value=0, max_value=50), value=st.integers(min_value=0, max_value=100))
    def progress(self, i, value):
        self._change(service.set_progress, self.tasks[i % len(self.tasks)], value)

    @precondition(lambda self: self.tasks)
    @rule(i=st.integers(min_value=0, max_value=50), owner=st.sampled_from(PEOPLE))
    def assign(self, i, owner):
        tid = self.tasks[i % len(self.tasks)]
        self._change(service.assign, tid, owner)
        self.owners[tid].append(owner)

    @precondition(lambda self: any(len(set(o)) > 1 for o in self.owners.values()))
    @rule(i=st.integers(min_value=0, max_value=50))
    def assign_back(self, i):
        """Back to the owner before the last: its case goes back to whom it was with."""
        moved = [t for t, o in self.owners.items() if len(set(o)) > 1]
        tid = moved[i % len(moved)]
        before = [o for o in self.owners[tid] if o != self.owners[tid][-1]][-1]
        if before is not None:
            self.assign(self.tasks.index(tid), before)

    @rule(person=st.sampled_from(PEOPLE), gone=st.booleans())
    def leave_or_return(self, person, gone):
        """Deactivated in Slack (their tasks' cases go to the creator), or back."""
        event = self.standin.set_deleted(person, gone)
        with transaction(self.engine) as s:
            people.record(s, people.Person.from_slack(event["user"]), self.now)

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
                s.execute(select(Case).where(Case.status == "open").order_by(Case.id))
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
        self._no_post_shows_a_resolved_case()

    @rule(days=st.integers(min_value=1, max_value=6), hour=st.integers(min_value=0, max_value=23))
    def quiet_days(self, days, hour):
        """Days pass with nobody touching anything: stalls, reminders and escalations."""
        self.now = (self.now + timedelta(days=days)).replace(hour=hour)
        asyncio.run(self._sweep())
        self._no_post_shows_a_resolved_case()

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
    def _no_post_shows_a_resolved_case(self) -> None:
        """What Slack received in this sweep, read as a person would: a post (not a thread
        reply, which may say why a case resolved; not an edit) never shows a case as resolved,
        and every task it offers buttons for has an open case. Nothing resolves between a
        sweep's delivery and its end, so the cases are as they were when it went."""
        posts = [c for c in self.standin.calls_to("chat.postMessage") if c.applied]
        new, self.posts_seen = posts[self.posts_seen :], len(posts)
        with transaction(self.engine) as s:
            open_tasks = set(s.execute(select(Case.task_id).where(Case.status == "open")).scalars())
        for call in new:
            if call.params.get("thread_ts"):
                continue
            said = f"{call.params.get('text')} {call.params.get('blocks')}"
            assert "no longer needs attention" not in said, f"a post about a resolved case: {said}"
            blocks = call.params.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            for block in blocks:
                found = ids.parse_block_id(block.get("block_id", ""))
                if found is not None:
                    assert found[0] in open_tasks, f"buttons for #{found[0]}, whose case resolved"

    @invariant()
    def one_open_case_per_task_and_finding_per_rule(self):
        with transaction(self.engine) as s:
            pairs = s.execute(
                select(Finding.task_id, Finding.rule).where(Finding.status == "open")
            ).all()
            cases = list(s.execute(select(Case.task_id).where(Case.status == "open")).scalars())
            # Every open finding belongs to its task's open case.
            orphans = s.execute(
                select(func.count())
                .select_from(Finding)
                .join(Case, Case.id == Finding.case_id, isouter=True)
                .where(Finding.status == "open")
                .where((Case.id.is_(None)) | (Case.status != "open"))
            ).scalar_one()
        assert len(pairs) == len(set(pairs))
        assert len(cases) == len(set(cases))
        assert orphans == 0
        if cases:  # and the database itself refuses a second open case for a task
            with pytest.raises(IntegrityError), transaction(self.engine) as s:
                s.add(Case(task_id=cases[0], opened_at=self.now))
                s.flush()

    @invariant()
    def reminders_stay_within_the_cap(self):
        """At most `reminder_cap` reminders per case to the person it is with (a new owner is
        told afresh, with reminders of their own)."""
        with transaction(self.engine) as s:
            for case in s.execute(select(Case)).scalars():
                assert case.reminders <= POLICY.reminder_cap
                sent = [
                    n for n in outbox.messages_of(s, case.id, ("reminder",)) if n.status == "sent"
                ]
                for person in {n.to for n in sent}:
                    count = sum(n.to == person for n in sent)
                    assert count <= POLICY.reminder_cap, f"case {case.id}: {count} to {person}"

    @invariant()
    def an_open_case_goes_only_to_whom_it_is_with_now(self):
        """What waits to be told about an open case goes to the person it is with now: one
        reassigned since is not told to the old owner, whose DM says so once (an edit)."""
        with transaction(self.engine) as s:
            waiting = s.execute(
                select(Notification.to, Case.recipient, Case.id)
                .join(CaseMessage, CaseMessage.notification_id == Notification.id)
                .join(Case, Case.id == CaseMessage.case_id)
                .where(
                    Notification.kind.in_(outbox.TO_PEOPLE),
                    Notification.status == "pending",
                    Case.status == "open",
                )
            ).all()
        wrong = [(case_id, to, recipient) for to, recipient, case_id in waiting if to != recipient]
        assert not wrong, wrong

    @invariant()
    def one_dm_shows_a_case_open_to_a_person(self):
        """Of the DMs sent (reminders aside, which repeat one), at most one per person would
        show a case open, with its buttons, if drawn now (an edit, a click)."""
        live: Counter = Counter()
        with transaction(self.engine) as s:
            sent = s.execute(
                select(Notification).where(Notification.kind == "dm", Notification.status == "sent")
            ).scalars()
            for note in list(sent):
                drawn = redraw(s, note.channel, note.ts, self.now, POLICY, CAL)
                blocks = drawn[1].blocks if drawn else []
                found = (ids.parse_block_id(b.get("block_id", "")) for b in blocks)
                live.update((note.to, task) for task in {f[0] for f in found if f})
        twice = {k: n for k, n in live.items() if n > 1}
        assert not twice, f"(person, task) shown open in more than one DM: {twice}"

    @invariant()
    def one_digest_a_working_day(self):
        with transaction(self.engine) as s:
            sent = s.execute(
                select(Notification.sent_at).where(
                    Notification.kind == "digest", Notification.status == "sent"
                )
            ).scalars()
            days = [CAL.local_date(at) for at in sent]
        assert len(days) == len(set(days)), f"two digests on one day: {sorted(days)}"

    @invariant()
    def at_most_ping_cap_posts_to_a_person_on_their_working_day(self):
        with transaction(self.engine) as s:
            sent = s.execute(
                select(Notification.to, Notification.sent_at).where(
                    Notification.kind.in_(outbox.TO_PEOPLE), Notification.status == "sent"
                )
            ).all()
        per_day = Counter((to, CAL.in_zone(ZONES[to]).local_date(at)) for to, at in sent)
        worst = max(per_day.values(), default=0)
        assert worst <= POLICY.ping_cap, per_day.most_common(3)

    @invariant()
    def nothing_is_sent_twice(self):
        with transaction(self.engine) as s:
            sent = s.execute(
                select(Notification.channel, Notification.ts).where(
                    Notification.status == "sent", Notification.kind.in_(outbox.POSTS)
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
    max_examples=8,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ladder_invariants = LadderMachine.TestCase


def _steps_hold(machine: LadderMachine, steps: list[tuple[str, dict]]) -> None:
    """The steps, one by one, every invariant checked after each."""
    checks = [
        machine.one_open_case_per_task_and_finding_per_rule,
        machine.reminders_stay_within_the_cap,
        machine.an_open_case_goes_only_to_whom_it_is_with_now,
        machine.one_dm_shows_a_case_open_to_a_person,
        machine.one_digest_a_working_day,
        machine.at_most_ping_cap_posts_to_a_person_on_their_working_day,
        machine.nothing_is_sent_twice,
    ]
    for name, args in steps:
        getattr(machine, name)(**args)
        for check in checks:
            check()


@pytest.mark.parametrize(
    "away",
    [
        [("assign", {"i": 0, "owner": "UTOM"})],  # reassigned, then back
        [("leave_or_return", {"person": "UDANA", "gone": True})],  # the creator's, then back
    ],
    ids=["reassigned", "owner-left"],
)
def test_a_case_that_comes_back_to_its_first_owner_is_open_in_one_dm(away):
    """The histories the random ones reach only rarely: told, someone else's, back again."""
    back = (
        [("assign_back", {"i": 0})]
        if away[0][0] == "assign"
        else [("leave_or_return", {"person": "UDANA", "gone": False})]
    )
    machine = LadderMachine()
    machine.start()
    try:
        machine.now = london("2026-01-05T09:00")
        told = [
            ("create", {"owner": "UDANA", "due_days": -2, "parent": 0, "with_parent": False}),
            ("sweep", {"minutes": 30}),
            ("sweep", {"minutes": 5}),
        ]
        settle = [("sweep", {"minutes": 5}), ("sweep", {"minutes": 5})]
        _steps_hold(machine, told + away + settle + back + settle)
        assert len(machine.standin.messages(machine.standin.dm_channel("UDANA"))) == 2
    finally:
        machine.teardown()
