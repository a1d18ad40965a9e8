"""The ladder end to end: tasks in a real SQLite file, sweeps at chosen instants, messages
through the real AsyncWebClient to the Slack stand-in. Assertions are on what reached Slack."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from sqlalchemy import func, select

from bot import tasks as service
from bot.db import transaction
from bot.models import Case, Event, Finding, Notification, Task
from bot.monitor import ladder
from bot.monitor.sweep import run_sweep
from bot.slack import ids
from tests.conftest import MANAGERS, london
from tests.slackio import click


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


def people(standin, n):
    """`n` people in London, each to be written to on their own."""
    for k in range(n):
        standin.add_user(f"UP{k}", name=f"Person {k}", tz="Europe/London")
    return [f"UP{k}" for k in range(n)]


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

    # One working day later, nothing changed: the managers' digest names it and its owner; the
    # owner's reminder waits for two working days after the DM.
    report = await run_sweep(monitor, london("2026-01-13T09:30"))
    [digest] = standin.messages(MANAGERS)
    assert f"#{tid}" in digest.text and "<@UDANA>" in str(digest.blocks)
    assert len(dms_to(standin, "UDANA")) == 1

    # Progress is recorded: the next sweep edits both messages to say why; the digest entry
    # had no message of its own, so no thread reply.
    progress(engine, tid, 60, "2026-01-13T11:00")
    report = await run_sweep(monitor, london("2026-01-13T11:05"))
    assert sorted(s.kind for s in report.sent) == ["edit", "edit"]
    [digest] = standin.messages(MANAGERS)
    [dm] = dms_to(standin, "UDANA")
    for message in (digest, dm):
        assert message.edits == 1 and message.thread_ts is None
        assert "no longer needs attention: progress recorded (60%)" in str(message.blocks)
        # Resolved: nothing left to click.
        assert all(b["type"] != "actions" for b in message.blocks)
    assert "0 tasks need someone" in digest.text

    # And nothing more for it afterwards: no digest the next day, no reminder.
    report = await run_sweep(monitor, london("2026-01-14T10:00"))
    assert report.sent == []


async def test_reminders_at_most_two_two_working_days_apart_then_the_digest_carries_it(
    monitor, standin, engine
):
    create(engine, title="Quiet work", owner="UDANA", due_at=london("2026-12-31T00:00"))
    day = london("2026-01-09T09:30")  # Friday: the 4th working day since Monday's creation
    sent = []
    for _ in range(15):  # three weeks of working days, each swept twice
        sent += (await run_sweep(monitor, day)).sent
        sent += (await run_sweep(monitor, day + timedelta(hours=3))).sent
        day = monitor.cal.shift_working_days(day, 1)
    to_dana = [(s.kind, monitor.cal.local_date(s.at).isoformat()) for s in sent if s.to == "UDANA"]
    # The DM (Friday), then two reminders two working days apart (Tuesday, Thursday), no more.
    assert to_dana == [("dm", "2026-01-09"), ("reminder", "2026-01-13"), ("reminder", "2026-01-15")]
    assert "Reminder 2 of 2" in str(dms_to(standin, "UDANA")[-1].blocks)
    # The managers: one digest a working day from Monday, each naming it, never two a day.
    digests = [s for s in sent if s.kind == "digest"]
    days = [monitor.cal.local_date(s.at) for s in digests]
    assert len(days) == len(set(days)) == 14 and days[0].isoformat() == "2026-01-12"
    assert all("#1" in s.text for s in digests)
    assert len(standin.messages(MANAGERS)) == 14


async def test_overdue_goes_to_the_managers_at_once_with_the_owner_told(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-07T00:00"))
    progress(engine, 1, 50, "2026-01-06T10:00")
    await run_sweep(monitor, london("2026-01-07T09:30"))
    [dm] = dms_to(standin, "UDANA")
    assert "#1" in dm.text and "overdue" in str(dm.blocks)
    [digest] = standin.messages(MANAGERS)  # the same sweep: no escalation window for overdue
    assert "#1" in digest.text and "overdue" in str(digest.blocks)
    assert "<@UDANA>" in str(digest.blocks)


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

    async def sweep(when: str):
        monitor.wall = lambda: london(when)  # Retry-After runs on the wall clock
        return await run_sweep(monitor, london(when))

    report = await sweep("2026-01-05T09:05")
    assert report.sent == [] and report.delivery.held == 1
    assert dms_to(standin, "UMARCUS") == []
    # Before Retry-After has passed nothing is tried; after it, the message goes out once.
    await sweep("2026-01-05T09:05:20")
    assert dms_to(standin, "UMARCUS") == []
    await sweep("2026-01-05T09:10")
    await sweep("2026-01-05T09:15")
    assert len(dms_to(standin, "UMARCUS")) == 1


async def test_slack_500_delays_a_message_and_nothing_is_lost(monitor, standin, engine):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    create(engine, title="Book the auditors")
    standin.fail("chat.postMessage", status=500, times=2)
    report = await run_sweep(monitor, london("2026-01-05T09:05"))
    assert report.sent == [] and report.delivery.held == 1
    for minutes in (10, 15, 20, 30, 45):
        await run_sweep(monitor, london("2026-01-05T09:00") + timedelta(minutes=minutes))
    # Two tasks, each with no owner, the second also with no deadline: one DM with both cases
    # and all three problems, sent once after Slack recovered.
    [dm] = dms_to(standin, "UMARCUS")
    assert "#1" in dm.text and "#2" in dm.text
    assert str(dm.blocks).count("has no owner") == 2 and "no deadline" in str(dm.blocks)
    assert len(posts(standin)) == 3  # two refused, one accepted
    with transaction(engine) as s:
        assert s.execute(select(func.count()).where(Notification.status == "pending")).scalar() == 0


async def test_an_owner_who_left_becomes_missing_owner(monitor, standin, engine):
    standin.add_user("UGONE", name="Gone", tz="Europe/London", deleted=True)
    create(engine, title="Handover notes", owner="UGONE", due_at=london("2026-02-01T00:00"))
    await run_sweep(monitor, london("2026-01-09T09:30"))  # stalled: DM to UGONE fails
    await run_sweep(monitor, london("2026-01-09T09:35"))
    # The creator hears of it: one DM naming both what was wrong and that the owner left.
    [dm] = dms_to(standin, "UMARCUS")
    assert "has an owner who has left Slack (<@UGONE>)" in str(dm.blocks)
    assert "no progress" in str(dm.blocks)


async def test_an_archived_managers_channel_is_reported_not_dropped(monitor, standin, engine):
    standin.add_channel(MANAGERS, name="managers", archived=True)
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-07T00:00"))
    report = await run_sweep(monitor, london("2026-01-07T09:30"))
    assert any("is_archived" in p for p in report.delivery.problems)
    assert "is_archived" in report.summary()
    standin.add_channel(MANAGERS, name="managers", archived=False)
    await run_sweep(monitor, london("2026-01-07T11:00"))
    [digest] = standin.messages(MANAGERS)  # the same digest, once, when the channel is back
    assert "#1" in digest.text and "overdue" in str(digest.blocks)


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


async def test_snooze_holds_the_reminders_never_the_managers(monitor, standin, engine):
    create(engine, title="Quiet work", owner="UDANA", due_at=london("2026-12-31T00:00"))
    await run_sweep(monitor, london("2026-01-09T09:30"))  # Friday: the DM
    with transaction(engine) as s:
        case = s.execute(select(Case)).scalar_one()
        ladder.snooze(
            s,
            case,
            3,
            by="UDANA",
            now=london("2026-01-09T10:00"),
            policy=monitor.policy,
            cal=monitor.cal,
        )
    # The reminder was due Tuesday; snoozed to Wednesday 10:00. The managers hear on time,
    # Monday, told that it is snoozed and until when.
    await run_sweep(monitor, london("2026-01-12T10:30"))
    [digest] = standin.messages(MANAGERS)
    assert "snoozed by the owner until Wed 14 Jan" in str(digest.blocks)
    for when in ("2026-01-13T10:30", "2026-01-14T09:59"):
        await run_sweep(monitor, london(when))
    assert len(dms_to(standin, "UDANA")) == 1
    report = await run_sweep(monitor, london("2026-01-14T10:01"))
    assert [s.kind for s in report.sent if s.to == "UDANA"] == ["reminder"]
    assert len(dms_to(standin, "UDANA")) == 2


async def test_notes_snoozes_and_the_bots_own_messages_never_reset_a_stall(wire, standin):
    """Only progress and a new owner restart the stall clock: the bot's DMs and managers'
    message about the task, the owner's snooze and her note leave it where it was."""
    await wire.command("add Quiet work <@UDANA|dana>", user="UMARCUS")  # Mon 12, 09:00
    dana = standin.dm_channel

    def about_a_stall() -> list[str]:
        everything = standin.messages(dana("UDANA")) + standin.messages(MANAGERS)
        return [m.text for m in everything if "no progress" in m.text]

    # Monday: Vigil DMs Dana about the missing deadline; Tuesday: the managers hear of it.
    await wire.sweep(london("2026-01-12T09:05"))
    [dm] = standin.messages(dana("UDANA"))
    assert "#1 Quiet work has no deadline" in dm.text
    await wire.sweep(london("2026-01-13T09:30"))
    assert any("#1" in m.text for m in standin.messages(MANAGERS))  # Tuesday's digest
    # Tuesday 10:00: Dana snoozes it for a day from her DM.
    wire.clock.now = london("2026-01-13T10:00")
    answer = await click(
        wire,
        dm,
        {
            "action_id": ids.ACTION_SNOOZE,
            "type": "static_select",
            "selected_option": {"value": "1"},
        },
    )
    assert "snoozed until Wed 14 Jan" in json.dumps(answer["blocks"])
    # Wednesday: Dana notes something, at the same progress.
    wire.clock.now = london("2026-01-14T10:00")
    reply = await wire.command("progress 1 0 looked at the figures", user="UDANA")
    assert "0% → 0%" in reply["text"]
    with transaction(wire.ctx.engine) as s:
        notes = s.execute(select(Event.kind, Event.note).order_by(Event.id)).all()
    assert notes[-1] == ("progress", "looked at the figures")

    # Thursday is the 3rd working day without progress since Monday: no stall yet.
    await wire.sweep(london("2026-01-15T17:00"))
    assert about_a_stall() == []
    # Friday, the 4th: flagged, counted from Monday's creation.
    await wire.sweep(london("2026-01-16T09:30"))
    # (The stall joins the case of the missing deadline: the messages that show it say so.)
    stalls = about_a_stall()
    assert stalls and all("#1 Quiet work has had no progress since Mon 12 Jan" in s for s in stalls)


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
    # With the digest off each escalated case has a message of its own: three posts.
    monitor.policy = dataclasses.replace(monitor.policy, digest=False)
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


async def test_one_sweep_covers_every_task_finding_and_message_sharing_an_instant(
    monitor, standin, engine
):
    """Pages follow (instant, id). Tasks changed at one instant (a settings change marks every
    open task at once, to the microsecond), findings due at one instant and messages decided
    at one instant must all be seen by one sweep, page after page, none left for the next."""
    monitor.page_size = 3
    monitor.policy = dataclasses.replace(monitor.policy, digest=False)
    created = london("2026-01-05T09:00:00.123456")
    everyone = people(standin, 7)
    for n, person in enumerate(everyone):  # seven creators: seven DMs
        create(
            engine,
            title=f"Unowned {n}",
            creator=person,
            due_at=london("2026-02-27T00:00"),
            now=created,
        )

    report = await run_sweep(monitor, london("2026-01-05T09:05:00.654321"))
    assert (report.checked, report.opened, len(report.sent)) == (7, 7, 7)
    assert all(len(dms_to(standin, p)) == 1 for p in everyone)

    # A working day later the seven cases are due at one instant too: seven escalations, each
    # a message of its own (the digest is off).
    report = await run_sweep(monitor, london("2026-01-06T09:05:00.654321"))
    escalations = [s for s in report.sent if s.kind == "escalation"]
    assert len(escalations) == 7 and len(standin.messages(MANAGERS)) == 7


async def test_a_command_landing_while_its_page_is_judged_is_not_overwritten(
    monitor, standin, engine, monkeypatch
):
    """A page is judged outside the write lock, so a command can change a task in between.
    The stale verdict must not stand: the task is judged again as it now is, or, when the
    command came after the sweep's `now`, left for the next sweep."""
    from bot.monitor import judging

    early = create(engine, title="Assigned just in time", due_at=london("2026-02-27T00:00"))
    late = create(engine, title="Assigned after the sweep began", due_at=london("2026-02-27T00:00"))
    now = london("2026-01-05T10:00")
    judge, landed = judging._judge, []

    def judge_while_commands_land(row, subtasks, at, m):
        if not landed:  # Dana takes both tasks, from Slack, as the page is being judged
            with transaction(engine) as s:
                service.assign(s, early, "UDANA", by="UMARCUS", now=now - timedelta(minutes=1))
                service.assign(s, late, "UDANA", by="UMARCUS", now=now + timedelta(minutes=1))
            landed.append(True)
        return judge(row, subtasks, at, m)

    monkeypatch.setattr(judging, "_judge", judge_while_commands_land)
    report = await run_sweep(monitor, now)
    assert landed and report.opened == 0 and report.sent == []
    with transaction(engine) as s:
        assert s.execute(select(func.count()).select_from(Finding)).scalar() == 0
        checks = dict(s.execute(select(Task.id, Task.next_check_at)).all())
    assert checks[late] == now + timedelta(minutes=1)  # the next sweep judges it
    assert dms_to(standin, "UMARCUS") == []
