"""The ladder end to end: tasks in a real SQLite file, sweeps at chosen instants, messages
through the real AsyncWebClient to the Slack stand-in. Assertions are on what reached Slack."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import func, select

from bot import tasks as service
from bot.db import transaction
from bot.models import Finding, Notification, Task
from bot.monitor import ladder
from bot.monitor.sweep import run_sweep
from tests.conftest import MANAGERS, london


def create(engine, **kw):
    kw.setdefault("creator", "UMARCUS")
    kw.setdefault("now", london("2026-01-05T09:00"))
    with transaction(engine) as s:
        return service.create_task(s, **kw).id


def progress(engine, task_id, value, when, by="UDANA"):
    with transaction(engine) as s:
        service.set_progress(s, task_id, value, by=by, now=london(when))


def posts(standin, method="chat.postMessage"):
    return [c for c in standin.calls_to(method)]


def dms_to(standin, user):
    channel = standin.dm_channel(user)
    return standin.messages(channel) if channel else []


def the_filing(engine):
    """Q3 filing: created Monday 5 January, 40% on Tuesday 6, then nothing."""
    tid = create(
        engine, title="Q3 filing for Acme", owner="UDANA", due_at=london("2026-01-31T00:00")
    )
    progress(engine, tid, 40, "2026-01-06T10:00")
    return tid


async def test_stall_dm_then_managers_then_resolution_edits_both(monitor, standin, engine):
    tid = the_filing(engine)

    # Friday 9 January is only the 3rd working day without progress: silence.
    report = await run_sweep(monitor, london("2026-01-09T10:00"))
    assert report.sent == [] and dms_to(standin, "UDANA") == []

    # Monday 12 January, the 4th working day: one DM to the owner naming the task.
    report = await run_sweep(monitor, london("2026-01-12T09:30"))
    dms = dms_to(standin, "UDANA")
    assert len(dms) == 1 and f"#{tid}" in dms[0].text and "no progress" in dms[0].text
    assert standin.messages(MANAGERS) == []

    # The same instant again: nothing new.
    report = await run_sweep(monitor, london("2026-01-12T09:30"))
    assert report.sent == []

    # One working day later, nothing changed: one message in the managers' channel.
    report = await run_sweep(monitor, london("2026-01-13T09:30"))
    managers = standin.messages(MANAGERS)
    assert len(managers) == 1 and f"#{tid}" in managers[0].text and "<@UDANA>" in managers[0].text
    assert len(dms_to(standin, "UDANA")) == 2  # and the day's reminder to the owner

    # Progress is recorded: the next sweep edits both messages and replies once in the thread.
    progress(engine, tid, 60, "2026-01-13T11:00")
    report = await run_sweep(monitor, london("2026-01-13T11:05"))
    top = [m for m in standin.messages(MANAGERS) if m.thread_ts is None]
    replies = [m for m in standin.messages(MANAGERS) if m.thread_ts is not None]
    assert len(top) == 1 and "no longer" in top[0].text and top[0].edits >= 1
    assert len(replies) == 1 and replies[0].thread_ts == top[0].ts
    assert all("no longer stalled" in m.text for m in dms_to(standin, "UDANA"))
    # Resolved messages carry no buttons.
    assert all(
        b["type"] != "actions" for m in top + dms_to(standin, "UDANA") for b in m.blocks or []
    )

    # And nothing more for it afterwards.
    report = await run_sweep(monitor, london("2026-01-14T10:00"))
    assert report.sent == []


async def test_reminders_daily_capped_and_managers_message_edited_in_place(
    monitor, standin, engine
):
    create(engine, title="Quiet work", owner="UDANA", due_at=london("2026-12-31T00:00"))
    day = london("2026-01-09T09:30")  # Friday: the 4th working day since Monday's creation
    for _ in range(15):  # three weeks of working days, each swept twice
        await run_sweep(monitor, day)
        await run_sweep(monitor, day + timedelta(hours=3))
        day = monitor.cal.shift_working_days(day, 1)
    assert len(dms_to(standin, "UDANA")) == 1 + 5  # the DM and five reminders, no more
    assert len(standin.messages(MANAGERS)) == 1  # posted once...
    assert standin.messages(MANAGERS)[0].edits >= 4  # ...and edited in place
    assert len(posts(standin)) == 1 + 5 + 1


async def test_overdue_goes_to_the_managers_with_the_owner_dm(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-07T00:00"))
    progress(engine, 1, 50, "2026-01-06T10:00")
    await run_sweep(monitor, london("2026-01-07T09:30"))
    assert len(dms_to(standin, "UDANA")) == 1
    assert len(standin.messages(MANAGERS)) == 1
    assert "overdue" in standin.messages(MANAGERS)[0].text


async def test_blocked_goes_to_the_managers_at_once_and_not_to_the_owner(monitor, standin, engine):
    tid = create(engine, title="VAT return", owner="UDANA", due_at=london("2026-02-01T00:00"))
    with transaction(engine) as s:
        service.block(
            s, tid, "waiting for the client's ledger", by="UDANA", now=london("2026-01-05T11:00")
        )
    await run_sweep(monitor, london("2026-01-05T11:05"))
    assert dms_to(standin, "UDANA") == []
    assert "waiting for the client" in str(standin.messages(MANAGERS)[0].blocks)


async def test_missing_owner_dms_the_creator(monitor, standin, engine):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    await run_sweep(monitor, london("2026-01-05T09:05"))
    dms = dms_to(standin, "UMARCUS")
    assert len(dms) == 1 and "has no owner" in dms[0].text


async def test_dms_wait_for_the_owners_working_hours(monitor, standin, engine):
    # Lee works in New York: flagged at midnight in London, told at 09:00 New York time.
    create(
        engine,
        title="Cobalt notes",
        owner="ULEE",
        creator="ULEE",
        due_at=london("2026-03-01T00:00"),
    )
    await run_sweep(monitor, london("2026-01-09T00:05"))
    await run_sweep(monitor, london("2026-01-09T13:55"))  # 08:55 in New York
    assert dms_to(standin, "ULEE") == []
    report = await run_sweep(monitor, london("2026-01-09T14:00"))  # 09:00 in New York
    assert len(dms_to(standin, "ULEE")) == 1 and len(report.sent) == 1
    assert len(standin.calls_to("users.info")) == 1  # the time zone is cached


async def test_slack_429_delays_a_message_to_a_later_sweep_and_it_is_sent_once(
    monitor, standin, engine
):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", status=429, retry_after=30)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert report.sent == [] and report.delivery.held == 1
    assert dms_to(standin, "UMARCUS") == []
    # Before Retry-After has passed nothing is tried; after it, the message goes out once.
    await run_sweep(monitor, london("2026-01-05T09:05:20"))
    assert dms_to(standin, "UMARCUS") == []
    await run_sweep(monitor, london("2026-01-05T09:10"))
    await run_sweep(monitor, london("2026-01-05T09:15"))
    assert len(dms_to(standin, "UMARCUS")) == 1


async def test_slack_500_delays_a_message_and_nothing_is_lost(monitor, standin, engine):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    create(engine, title="Book the auditors")
    standin.fail("chat.postMessage", status=500, times=2)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert report.sent == []
    for minutes in (10, 15, 20, 30, 45):
        await run_sweep(monitor, london("2026-01-05T09:00") + timedelta(minutes=minutes))
    texts = [m.text for m in dms_to(standin, "UMARCUS")]
    # Two tasks, each with no owner; the second also with no deadline: three DMs, once each.
    assert len(texts) == 3 and len(set(texts)) == 3
    with transaction(engine) as s:
        assert s.execute(select(func.count()).where(Notification.status == "pending")).scalar() == 0


async def test_an_owner_who_left_becomes_missing_owner(monitor, standin, engine):
    standin.add_user("UGONE", name="Gone", tz="Europe/London", deleted=True)
    create(engine, title="Handover notes", owner="UGONE", due_at=london("2026-02-01T00:00"))
    await run_sweep(monitor, london("2026-01-09T09:30"))  # stalled: DM to UGONE fails
    await run_sweep(monitor, london("2026-01-09T09:35"))
    dms = dms_to(standin, "UMARCUS")
    assert any("has an owner who has left Slack" in m.text for m in dms)


async def test_an_archived_managers_channel_is_reported_not_dropped(monitor, standin, engine):
    standin.add_channel(MANAGERS, name="managers", archived=True)
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-07T00:00"))
    report = await run_sweep(monitor, london("2026-01-07T09:30"))
    assert any("is_archived" in p for p in report.delivery.problems)
    standin.add_channel(MANAGERS, name="managers", archived=False)
    await run_sweep(monitor, london("2026-01-07T11:00"))
    assert len(standin.messages(MANAGERS)) == 1


async def test_a_finding_resolved_before_delivery_sends_nothing(monitor, standin, engine):
    # Created at night: the DM waits for 09:00, and the owner fixes it before then.
    tid = create(engine, title="Early bird", owner="UDANA", now=london("2026-01-05T07:00"))
    await run_sweep(monitor, london("2026-01-05T07:05"))
    with transaction(engine) as s:
        service.set_due(
            s, tid, london("2026-01-20T00:00"), by="UDANA", now=london("2026-01-05T08:00")
        )
    await run_sweep(monitor, london("2026-01-05T09:05"))
    assert posts(standin) == [] and standin.calls_to("chat.update") == []


async def test_snooze_holds_the_reminders(monitor, standin, engine):
    create(engine, title="Quiet work", owner="UDANA", due_at=london("2026-12-31T00:00"))
    await run_sweep(monitor, london("2026-01-09T09:30"))  # Friday: the DM
    with transaction(engine) as s:
        finding = s.execute(select(Finding)).scalar_one()
        ladder.snooze(
            s,
            finding,
            3,
            by="UDANA",
            now=london("2026-01-09T10:00"),
            policy=monitor.policy,
            cal=monitor.cal,
        )
    for when in ("2026-01-12T10:30", "2026-01-13T10:30", "2026-01-14T09:59"):
        await run_sweep(monitor, london(when))
    assert len(dms_to(standin, "UDANA")) == 1 and standin.messages(MANAGERS) == []
    await run_sweep(monitor, london("2026-01-14T10:01"))
    assert len(dms_to(standin, "UDANA")) == 2 and len(standin.messages(MANAGERS)) == 1


async def test_notes_and_the_bots_own_messages_never_reset_a_stall(monitor, standin, engine):
    tid = create(engine, title="Quiet work", owner="UDANA", due_at=london("2026-03-31T00:00"))
    with transaction(engine) as s:
        service.add_note(s, tid, "looked at it", by="UDANA", now=london("2026-01-07T10:00"))
    await run_sweep(monitor, london("2026-01-08T10:00"))
    await run_sweep(monitor, london("2026-01-09T09:30"))
    assert len(dms_to(standin, "UDANA")) == 1  # still flagged on the 4th working day


async def test_dry_run_prints_and_stores_and_sends_nothing(monitor, standin, engine):
    the_filing(engine)
    report = await run_sweep(monitor, london("2026-01-12T09:30"), dry_run=True)
    assert [p.kind for p in report.preview] == ["dm"] and "#1" in report.preview[0].text
    assert standin.calls == []
    with transaction(engine) as s:
        assert s.execute(select(func.count()).select_from(Finding)).scalar() == 0
    report = await run_sweep(monitor, london("2026-01-12T09:30"))
    assert len(report.sent) == 1


async def test_pacing_keeps_a_second_between_posts_to_one_channel(monitor, standin, engine):
    for n in range(3):
        create(engine, title=f"Payroll {n}", owner="UDANA", due_at=london("2026-01-07T00:00"))
        progress(engine, n + 1, 50, "2026-01-06T10:00")
    await run_sweep(monitor, london("2026-01-07T09:30"))
    assert len(standin.messages(MANAGERS)) == 3
    assert sum(monitor.clock.slept) >= 2.0 - 1e-9  # three posts to one channel: two waits


async def test_judging_in_a_worker_process_opens_the_same_findings(monitor, standin, engine):
    """The bot judges tasks in a worker process (off the interpreter that acks Slack)."""
    from bot.monitor.worker import DecideWorker, WorkerSpec

    monitor.worker = DecideWorker(
        WorkerSpec(
            engine.url.render_as_string(hide_password=False),
            monitor.cal,
            monitor.policy,
            monitor.page_size,
        )
    )
    try:
        tid = the_filing(engine)
        report = await run_sweep(monitor, london("2026-01-12T09:30"))
        assert (report.checked, report.opened) == (1, 1)
        [dm] = dms_to(standin, "UDANA")
        assert f"#{tid}" in dm.text and "no progress" in dm.text
    finally:
        monitor.worker.close()


async def test_the_send_budget_leaves_the_rest_for_the_next_sweep(monitor, standin, engine):
    for n in range(5):
        create(engine, title=f"Unowned {n}", due_at=london("2026-02-01T00:00"))
    monitor.policy = dataclasses.replace(monitor.policy, send_budget=2)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert len(report.sent) == 2 and report.delivery.left == 3
    assert "3 over the budget" in report.summary()
    report = await run_sweep(monitor, london("2026-01-05T09:10"))
    assert len(report.sent) == 2 and report.delivery.left == 1
    await run_sweep(monitor, london("2026-01-05T09:15"))
    assert len(dms_to(standin, "UMARCUS")) == 5


async def test_one_sweep_covers_every_task_finding_and_message_sharing_an_instant(
    monitor, standin, engine
):
    """Pages follow (instant, id). Tasks changed at one instant (a settings change marks every
    open task at once, to the microsecond), findings due at one instant and messages decided
    at one instant must all be seen by one sweep, page after page, none left for the next."""
    monitor.page_size = 3
    created = london("2026-01-05T09:00:00.123456")
    for n in range(7):
        create(engine, title=f"Unowned {n}", due_at=london("2026-02-27T00:00"), now=created)

    report = await run_sweep(monitor, london("2026-01-05T09:05:00.654321"))
    assert (report.checked, report.opened, len(report.sent)) == (7, 7, 7)
    assert len(dms_to(standin, "UMARCUS")) == 7

    # A working day later the seven findings are due at one instant too: seven escalations.
    report = await run_sweep(monitor, london("2026-01-06T09:05:00.654321"))
    escalations = [s for s in report.sent if s.kind == "escalation"]
    assert len(escalations) == 7 and len(standin.messages(MANAGERS)) == 7


async def test_a_command_landing_while_its_page_is_judged_is_not_overwritten(
    monitor, standin, engine, monkeypatch
):
    """A page is judged outside the write lock, so a command can change a task in between.
    The stale verdict must not stand: the task is judged again as it now is, or, when the
    command came after the sweep's `now`, left for the next sweep."""
    from bot.monitor import sweep

    early = create(engine, title="Assigned just in time", due_at=london("2026-02-27T00:00"))
    late = create(engine, title="Assigned after the sweep began", due_at=london("2026-02-27T00:00"))
    now = london("2026-01-05T10:00")
    judge, landed = sweep._judge, []

    def judge_while_commands_land(row, subtasks, at, m):
        if not landed:  # Dana takes both tasks, from Slack, as the page is being judged
            with transaction(engine) as s:
                service.assign(s, early, "UDANA", by="UMARCUS", now=now - timedelta(minutes=1))
                service.assign(s, late, "UDANA", by="UMARCUS", now=now + timedelta(minutes=1))
            landed.append(True)
        return judge(row, subtasks, at, m)

    monkeypatch.setattr(sweep, "_judge", judge_while_commands_land)
    report = await run_sweep(monitor, now)
    assert landed and report.opened == 0 and report.sent == []
    with transaction(engine) as s:
        assert s.execute(select(func.count()).select_from(Finding)).scalar() == 0
        checks = dict(s.execute(select(Task.id, Task.next_check_at)).all())
    assert checks[late] == now + timedelta(minutes=1)  # the next sweep judges it
    assert dms_to(standin, "UMARCUS") == []


async def test_a_sweep_that_lost_its_lease_stops_sending_and_nothing_goes_twice(
    monitor, standin, engine
):
    """A sweep that outlives its lease (Slack slow for ten minutes) may find that another
    replica took over: it sends nothing more, and the other sends the rest, once."""
    from bot.monitor import lease
    from bot.monitor.gateway import SlackGateway

    for n in range(3):
        create(engine, title=f"Unowned {n}", due_at=london("2026-02-27T00:00"))
    wall = [london("2026-01-05T09:05")]
    monitor.wall = lambda: wall[0]

    class SlowSlack(SlackGateway):
        async def post(self, *args, **kwargs):
            answer = await super().post(*args, **kwargs)
            if wall[0] == london("2026-01-05T09:05"):  # the first post took eleven minutes
                wall[0] += timedelta(minutes=11)
                with transaction(engine) as s:  # and another replica took the lease
                    assert lease.take(lease.locked(s), "the other replica", monitor)
            return answer

    monitor.gateway = SlowSlack(monitor.gateway.client)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert len(report.sent) == 1 and report.delivery.left == 2
    assert "another sweep sends the rest" in report.summary()

    with transaction(engine) as s:  # the other replica's sweep ends
        lease.release(s, "the other replica")
    report = await run_sweep(monitor, london("2026-01-05T09:20"))
    assert len(report.sent) == 2
    texts = [m.text for m in dms_to(standin, "UMARCUS")]
    assert len(texts) == len(set(texts)) == 3
