"""One conversation per task (product.md §4), end to end: the real sweep, a real SQLite file,
the Slack stand-in. Assertions are on what reached Slack: how many posts, to whom, and which
messages were edited instead."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot import tasks as service
from bot.db import transaction
from bot.monitor.sweep import run_sweep
from bot.slack import ids
from tests.commands.test_events import deliver
from tests.conftest import MANAGERS, london
from tests.monitor.test_sweep import create, dms_to, progress
from tests.slackio import click, everything_valid


def top(standin):
    return [m for m in standin.messages(MANAGERS) if m.thread_ts is None]


def replies(standin):
    return [m for m in standin.messages(MANAGERS) if m.thread_ts is not None]


def posts_to(standin, user):
    channel = standin.dm_channel(user)
    return [c for c in standin.calls_to("chat.postMessage") if c.params["channel"] == channel]


async def sweeps(monitor, *whens):
    sent = []
    for when in whens:
        sent += (await run_sweep(monitor, london(when))).sent
    return sent


async def test_overdue_and_stalled_make_one_dm_and_one_managers_entry(monitor, standin, engine):
    # Created Monday, due Thursday night, no progress: on Friday both overdue and stalled.
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-09T00:00"))
    await sweeps(monitor, "2026-01-09T09:30", "2026-01-09T09:35")
    [dm] = dms_to(standin, "UDANA")
    assert "is overdue" in str(dm.blocks) and "no progress" in str(dm.blocks)
    [digest] = top(standin)
    assert str(digest.blocks).count("#1 Payroll") == 1
    assert "is overdue" in str(digest.blocks) and "no progress" in str(digest.blocks)


async def test_a_persons_cases_due_in_one_sweep_go_in_one_dm(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    create(engine, title="VAT return", owner="UDANA", due_at=london("2026-03-01T00:00"))
    create(engine, title="Board pack", owner="UTOM", due_at=london("2026-03-01T00:00"))
    await sweeps(monitor, "2026-01-09T09:30")
    [dm] = dms_to(standin, "UDANA")
    assert dm.text == "2 of your tasks need attention: #1, #2"
    assert "Payroll" in str(dm.blocks) and "VAT return" in str(dm.blocks)
    assert len(dms_to(standin, "UTOM")) == 1


async def test_a_problem_that_clears_before_the_dm_goes_is_never_announced(
    monitor, standin, engine
):
    # Made at 07:00 with no owner and no deadline: the DM waits for 09:00; the deadline is
    # set at 08:00, so the DM names only what is still wrong.
    tid = create(engine, title="Early bird", now=london("2026-01-05T07:00"))
    await sweeps(monitor, "2026-01-05T07:05")
    with transaction(engine) as s:
        service.set_due(
            s, tid, london("2026-01-20T00:00"), by="UMARCUS", now=london("2026-01-05T08:00")
        )
    await sweeps(monitor, "2026-01-05T08:05", "2026-01-05T09:05")
    [dm] = dms_to(standin, "UMARCUS")
    assert "has no owner" in str(dm.blocks) and "deadline" not in dm.text
    assert "no deadline" not in str(dm.blocks)


async def test_a_problem_joining_an_open_case_edits_the_dm(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-12T12:00"))
    await sweeps(monitor, "2026-01-09T09:30")  # Friday: stalled, told
    await sweeps(monitor, "2026-01-12T12:05")  # Monday noon: overdue joins
    [dm] = dms_to(standin, "UDANA")
    assert len(posts_to(standin, "UDANA")) == 1 and dm.edits >= 1
    assert "is overdue" in str(dm.blocks) and "no progress" in str(dm.blocks)


async def test_a_case_back_within_five_working_days_continues_on_the_same_messages(
    monitor, standin, engine
):
    tid = create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    await sweeps(monitor, "2026-01-09T09:30")  # Friday: stalled, told
    progress(engine, tid, 20, "2026-01-09T11:00")
    await sweeps(monitor, "2026-01-09T11:05")  # resolved: the DM edited
    [dm] = dms_to(standin, "UDANA")
    assert "no longer needs attention" in str(dm.blocks)
    # Silent again: on Thursday, the 4th working day since Friday's report, stalled again,
    # within 5 working days of resolving: the same case, "back".
    sent = await sweeps(monitor, "2026-01-15T09:30", "2026-01-15T11:00")
    first, reminder = dms_to(standin, "UDANA")
    assert first.ts == dm.ts and "*Back:*" in str(first.blocks)
    assert "no longer needs attention" not in str(first.blocks)
    assert [s.kind for s in sent if s.to == "UDANA" and s.kind != "edit"] == ["reminder"]
    assert "#1" in reminder.text and "Back" in str(reminder.blocks)
    # The managers hear of it only through the digest: no message of its own.
    assert all(m.text.startswith("Vigil, ") for m in top(standin))


async def test_the_digest_is_posted_once_a_day_and_edited_as_cases_join_and_resolve(
    monitor, standin, engine
):
    dana = create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    # Lee works in New York: told at 09:00 there, 14:00 in London, so escalated at 14:00.
    create(engine, title="Cobalt", owner="ULEE", creator="ULEE", due_at=london("2026-03-01T00:00"))
    await sweeps(monitor, "2026-01-09T09:30", "2026-01-09T14:00")
    assert len(dms_to(standin, "UDANA")) == len(dms_to(standin, "ULEE")) == 1

    # Monday: nothing before 09:30; at 09:30 the digest, with Dana's case only.
    await sweeps(monitor, "2026-01-12T09:00", "2026-01-12T09:29")
    assert top(standin) == []
    await sweeps(monitor, "2026-01-12T09:30")
    [digest] = top(standin)
    assert "#1" in digest.text and "#2" not in digest.text

    # 14:00: Lee's case joins the posted digest: edited, and exactly one reply naming it.
    await sweeps(monitor, "2026-01-12T14:00", "2026-01-12T14:30", "2026-01-12T16:00")
    [digest] = top(standin)
    assert "#1, #2" in digest.text and digest.edits >= 1
    [reply] = replies(standin)
    assert reply.thread_ts == digest.ts and "#2 Cobalt" in reply.text

    # Dana reports progress: her entry in the digest says resolved; no reply for it.
    progress(engine, dana, 30, "2026-01-12T16:30")
    await sweeps(monitor, "2026-01-12T16:35")
    [digest] = top(standin)
    assert "no longer needs attention: progress recorded (30%)" in str(digest.blocks)
    assert len(replies(standin)) == 1

    # Tuesday: one new digest with what is still open, never two on one day.
    await sweeps(monitor, "2026-01-13T09:30", "2026-01-13T11:00", "2026-01-13T15:00")
    monday, tuesday = top(standin)
    assert tuesday.text == "Vigil, Tue 13 Jan: 1 task needs someone: #2"


async def test_no_digest_when_nothing_is_escalated(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    await sweeps(monitor, "2026-01-05T09:30", "2026-01-06T09:30", "2026-01-07T09:30")
    assert standin.messages(MANAGERS) == []


async def test_digest_off_gives_each_case_one_message_edited_in_place(monitor, standin, engine):
    monitor.policy = dataclasses.replace(monitor.policy, digest=False)
    # Stalled on Friday, escalated on Monday; on Wednesday at noon its deadline passes.
    tid = create(engine, title="Payroll", owner="UDANA", due_at=london("2026-01-14T12:00"))
    day = london("2026-01-09T09:30")
    for _ in range(6):  # Friday to the Friday after, twice a day
        await run_sweep(monitor, day)
        await run_sweep(monitor, day + timedelta(hours=4))
        day = monitor.cal.shift_working_days(day, 1)
    [entry] = standin.messages(MANAGERS)  # posted once, on Monday; never again
    assert "#1 Payroll" in entry.text and entry.edits >= 1
    assert "is overdue" in str(entry.blocks)  # edited as the problem joined
    progress(engine, tid, 50, "2026-01-19T10:00")
    with transaction(engine) as s:
        service.set_due(
            s, tid, london("2026-02-27T00:00"), by="UDANA", now=london("2026-01-19T10:01")
        )
    await run_sweep(monitor, london("2026-01-19T10:05"))
    [entry] = top(standin)
    assert entry.text.startswith("Resolved: #1 Payroll")
    [reply] = replies(standin)  # a message of its own: one reply in its thread
    assert reply.thread_ts == entry.ts and "no longer needs attention" in reply.text


async def test_im_blocked_is_posted_at_once_and_joins_the_digest(monitor, standin, engine):
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    vat = create(engine, title="VAT return", owner="UTOM", due_at=london("2026-03-01T00:00"))
    progress(engine, vat, 10, "2026-01-09T09:00", by="UTOM")
    await sweeps(monitor, "2026-01-09T09:30", "2026-01-12T09:30")
    [digest] = top(standin)
    with transaction(engine) as s:
        service.block(s, vat, "waiting for the ledger", by="UTOM", now=london("2026-01-12T11:00"))
    await sweeps(monitor, "2026-01-12T11:01")
    digest_now, blocked = top(standin)
    assert digest_now.ts == digest.ts and "#2" in digest_now.text  # joined, edited
    assert "#2 VAT return" in blocked.text and "waiting for the ledger" in str(blocked.blocks)
    assert replies(standin) == []  # named in its own message already
    assert dms_to(standin, "UTOM") == []  # the owner asked for help: no DM to them


async def test_no_more_than_three_messages_to_one_person_on_a_working_day(monitor, standin, engine):
    # Four tasks made by Marcus through Monday, none with a deadline: each is its own case,
    # told in its own sweep, so its own DM; the fourth waits for Tuesday.
    for n, hour in enumerate((10, 11, 12, 13)):
        create(engine, title=f"Task {n}", owner="UMARCUS", now=london(f"2026-01-05T{hour}:00"))
        await sweeps(monitor, f"2026-01-05T{hour}:05")
    await sweeps(monitor, "2026-01-05T17:00")
    assert len(posts_to(standin, "UMARCUS")) == 3
    sent = await sweeps(monitor, "2026-01-06T09:00")
    assert [(s.kind, s.task_ids) for s in sent if s.to == "UMARCUS"] == [("dm", (4,))]


async def test_an_owner_away_gets_no_dm_and_the_managers_hear_until_when(monitor, standin, engine):
    standin.clock = lambda: london("2026-01-09T09:00").timestamp()  # Slack's "now", for expiry
    back = int(london("2026-01-16T18:00").timestamp())
    standin.set_status("UDANA", "On vacation", ":palm_tree:", back)
    # No deadline: the owner would be told; away, the managers hear at once instead (with no
    # working day's wait), and the DM waits for her return.
    create(engine, title="Payroll", owner="UDANA", now=london("2026-01-09T09:00"))
    await sweeps(monitor, "2026-01-09T09:30", "2026-01-09T09:35", "2026-01-09T15:00")
    assert dms_to(standin, "UDANA") == []
    [entry] = top(standin)
    assert "#1" in entry.text and "owner away until Fri 16 Jan" in str(entry.blocks)


async def test_a_reassigned_case_tells_the_new_owner_and_leaves_the_old_dm_alone(wire, standin):
    # Due Wednesday, no progress: on Thursday overdue, Dana told and the managers at once.
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-01-14", user="UMARCUS")
    await wire.sweep(london("2026-01-15T09:30"))
    await wire.sweep(london("2026-01-15T09:35"))
    [dana_dm] = dms_to(standin, "UDANA")
    [digest] = top(standin)
    await click(
        wire,
        digest,
        {"action_id": ids.ACTION_REASSIGN, "type": "users_select", "selected_user": "UTOM"},
        user="UMARCUS",
    )
    await wire.sweep(london("2026-01-15T09:40"))
    # Tom is told in a DM of his own, with the buttons; Dana's DM says whose it is now, once.
    [tom_dm] = dms_to(standin, "UTOM")
    assert "#1" in tom_dm.text and "is overdue" in str(tom_dm.blocks)
    assert any(b["type"] == "actions" for b in tom_dm.blocks)
    [dana_dm] = dms_to(standin, "UDANA")
    assert dana_dm.edits == 1 and "reassigned to <@UTOM>" in str(dana_dm.blocks)
    assert all(b["type"] != "actions" for b in dana_dm.blocks)
    # Tom moves the deadline: his DM says it cleared; Dana's is left as it was.
    await wire.command("due 1 2026-02-27", user="UTOM")
    await wire.sweep(london("2026-01-15T10:05"))
    [tom_dm] = dms_to(standin, "UTOM")
    assert "no longer needs attention: the deadline was moved" in str(tom_dm.blocks)
    [dana_dm] = dms_to(standin, "UDANA")
    assert dana_dm.edits == 1 and "reassigned to <@UTOM>" in str(dana_dm.blocks)
    assert len(posts_to(standin, "UDANA")) == 1
    everything_valid(standin)


async def test_a_case_reassigned_back_is_told_afresh_and_the_old_dms_stay_handed_over(
    wire, standin
):
    # Dana told, then the case goes to Tom and back to Dana on the same morning.
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-01-14", user="UMARCUS")
    await wire.sweep(london("2026-01-15T09:30"))
    await wire.sweep(london("2026-01-15T09:35"))
    for person, at in (("UTOM", "2026-01-15T09:40"), ("UDANA", "2026-01-15T09:45")):
        [digest] = top(standin)
        await click(
            wire,
            digest,
            {"action_id": ids.ACTION_REASSIGN, "type": "users_select", "selected_user": person},
            user="UMARCUS",
        )
        await wire.sweep(london(at))
    # Dana's first DM still says it went to Tom, as it was edited then; a fresh DM tells her
    # it is hers again, with the buttons. Tom's DM says it went back to Dana, once.
    first, fresh = dms_to(standin, "UDANA")
    assert first.edits == 1 and "reassigned to <@UTOM>" in str(first.blocks)
    assert all(b["type"] != "actions" for b in first.blocks)
    assert "is overdue" in str(fresh.blocks) and any(b["type"] == "actions" for b in fresh.blocks)
    [tom_dm] = dms_to(standin, "UTOM")
    assert tom_dm.edits == 1 and "reassigned to <@UDANA>" in str(tom_dm.blocks)
    assert len(posts_to(standin, "UDANA")) == 2 and len(posts_to(standin, "UTOM")) == 1
    # Dana moves the deadline: only her fresh DM says so; the others are left as they were.
    await wire.command("due 1 2026-02-27", user="UDANA")
    await wire.sweep(london("2026-01-15T10:05"))
    first, fresh = dms_to(standin, "UDANA")
    assert "no longer needs attention: the deadline was moved" in str(fresh.blocks)
    assert first.edits == 1 and "reassigned to <@UTOM>" in str(first.blocks)
    [tom_dm] = dms_to(standin, "UTOM")
    assert tom_dm.edits == 1 and "reassigned to <@UDANA>" in str(tom_dm.blocks)
    assert len(posts_to(standin, "UDANA")) == 2 and len(posts_to(standin, "UTOM")) == 1
    everything_valid(standin)


async def test_a_case_back_with_someone_else_and_then_its_first_owner_tells_each_once(
    wire, standin
):
    # Dana told; she moves the deadline to that day (resolved); the task goes to Tom, and the
    # next day it is overdue again: the case is back, Tom's. Then it is Dana's again.
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-01-14", user="UMARCUS")
    await wire.sweep(london("2026-01-15T09:30"))
    await wire.command("due 1 2026-01-15", user="UDANA")
    await wire.sweep(london("2026-01-15T09:40"))
    await wire.command("assign 1 <@UTOM|tom>", user="UMARCUS")
    await wire.sweep(london("2026-01-16T09:30"))
    [tom_dm] = dms_to(standin, "UTOM")
    assert "is overdue" in str(tom_dm.blocks)
    [first] = dms_to(standin, "UDANA")
    assert "reassigned to <@UTOM>" in str(first.blocks)
    await wire.command("assign 1 <@UDANA|dana>", user="UMARCUS")
    await wire.sweep(london("2026-01-16T09:50"))
    first, fresh = dms_to(standin, "UDANA")
    assert "reassigned to <@UTOM>" in str(first.blocks)
    assert all(b["type"] != "actions" for b in first.blocks)
    assert "is overdue" in str(fresh.blocks) and any(b["type"] == "actions" for b in fresh.blocks)
    [tom_dm] = dms_to(standin, "UTOM")
    assert tom_dm.edits == 1 and "reassigned to <@UDANA>" in str(tom_dm.blocks)
    edits = first.edits
    await wire.command("due 1 2026-02-27", user="UDANA")
    await wire.sweep(london("2026-01-16T10:10"))
    first, fresh = dms_to(standin, "UDANA")
    assert "no longer needs attention" in str(fresh.blocks) and first.edits == edits
    assert len(posts_to(standin, "UDANA")) == 2 and len(posts_to(standin, "UTOM")) == 1
    everything_valid(standin)


async def test_a_case_with_the_creator_while_the_owner_was_gone_goes_back_to_the_owner(
    wire, standin, clock
):
    standin.clock = clock.timestamp
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-01-14", user="UMARCUS")
    await wire.sweep(london("2026-01-15T09:30"))
    # Dana is deactivated: Marcus, who created the task, hears of it; then she is back.
    for deleted, at in ((True, "2026-01-15T09:40"), (False, "2026-01-15T09:50")):
        await deliver(wire, standin.set_deleted("UDANA", deleted))
        await wire.sweep(london(at))
        if deleted:
            [marcus_dm] = dms_to(standin, "UMARCUS")
            assert "left Slack" in str(marcus_dm.blocks)
    first, fresh = dms_to(standin, "UDANA")
    assert "reassigned to <@UMARCUS>" in str(first.blocks)
    assert all(b["type"] != "actions" for b in first.blocks)
    assert "is overdue" in str(fresh.blocks) and any(b["type"] == "actions" for b in fresh.blocks)
    [marcus_dm] = dms_to(standin, "UMARCUS")
    assert "reassigned to <@UDANA>" in str(marcus_dm.blocks)
    assert all(b["type"] != "actions" for b in marcus_dm.blocks)
    everything_valid(standin)


async def test_digest_off_a_reminder_edits_the_cases_managers_message(monitor, standin, engine):
    monitor.policy = dataclasses.replace(monitor.policy, digest=False)
    # Stalled Friday: Dana told; Monday the managers' message; Tuesday her first reminder.
    create(engine, title="Payroll", owner="UDANA", due_at=london("2026-03-01T00:00"))
    await sweeps(monitor, "2026-01-09T09:30", "2026-01-12T09:30", "2026-01-12T09:35")
    [entry] = top(standin)
    assert "reminded" not in str(entry.blocks)
    await sweeps(monitor, "2026-01-13T09:30", "2026-01-13T09:35")
    assert [m.text.startswith("Reminder") for m in dms_to(standin, "UDANA")] == [False, True]
    [entry] = top(standin)  # the same message, edited: no new post
    assert entry.edits >= 1 and "owner reminded 1×" in str(entry.blocks)
