"""A post Slack took whose record never followed (the answer lost, or the process gone) is
found in the conversation's history by the notification id in its metadata, and recorded,
not posted again. Assertions are on what reached the stand-in."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from bot import tasks as service
from bot.db import transaction
from bot.models import Notification
from bot.monitor.sweep import run_sweep
from tests.conftest import MANAGERS, london

FIRST = london("2026-01-05T09:05")


def create(engine, **kw):
    kw.setdefault("creator", "UMARCUS")
    kw.setdefault("now", london("2026-01-05T09:00"))
    with transaction(engine) as s:
        return service.create_task(s, **kw).id


def dms_to(standin, user):
    channel = standin.dm_channel(user)
    return standin.messages(channel) if channel else []


def notes(engine, kind):
    with transaction(engine) as s:
        return list(s.execute(select(Notification).where(Notification.kind == kind)).scalars())


async def sweeps(monitor, *minutes):
    for m in minutes:
        await run_sweep(monitor, FIRST + timedelta(minutes=m))


async def test_a_dm_slack_took_whose_answer_was_lost_is_recorded_not_sent_twice(
    monitor, standin, engine
):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    report = await run_sweep(monitor, FIRST)
    assert report.sent == [] and report.delivery.held == 1
    [posted] = dms_to(standin, "UMARCUS")  # in Slack, though Vigil never heard so
    [note] = notes(engine, "dm")
    assert note.status == "pending" and note.sending_at is not None
    assert note.channel == posted.channel

    await sweeps(monitor, 5, 10)
    assert dms_to(standin, "UMARCUS") == [posted]
    [note] = notes(engine, "dm")
    assert (note.status, note.channel, note.ts) == ("sent", posted.channel, posted.ts)
    [read] = standin.calls_to("conversations.history")
    assert read.params["channel"] == posted.channel
    assert len(standin.calls_to("chat.postMessage")) == 1


async def test_without_the_reconcile_the_same_lost_answer_sends_the_dm_twice(
    monitor, standin, engine
):
    monitor.policy = dataclasses.replace(monitor.policy, reconcile=False)
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await sweeps(monitor, 0, 5, 10)
    assert len(dms_to(standin, "UMARCUS")) == 2
    assert standin.calls_to("conversations.history") == []


async def test_a_post_slack_refused_is_looked_for_then_sent_once(monitor, standin, engine):
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=False)
    await sweeps(monitor, 0)
    assert dms_to(standin, "UMARCUS") == []
    await sweeps(monitor, 5, 10)
    [dm] = dms_to(standin, "UMARCUS")
    assert dm.metadata == {"event_type": "vigil_notification", "event_payload": {"id": 1}}
    assert len(standin.calls_to("conversations.history")) == 1
    [note] = notes(engine, "dm")
    assert (note.status, note.ts) == ("sent", dm.ts)


async def test_an_escalation_to_the_managers_is_found_among_other_messages(
    monitor, standin, engine
):
    """Blocked goes to the managers at once; its answer lost, then people talk in the channel:
    the history is read page by page until the post is found."""
    tid = create(engine, title="Q3 filing", owner="UDANA", due_at=london("2026-02-01T00:00"))
    with transaction(engine) as s:
        service.block(s, tid, "waiting on legal", by="UDANA", now=london("2026-01-05T09:01"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await sweeps(monitor, 0)
    [posted] = [m for m in standin.messages(MANAGERS) if m.metadata]
    for n in range(250):  # more than one page of history
        await monitor.gateway.client.chat_postMessage(channel=MANAGERS, text=f"chatter {n}")
    await sweeps(monitor, 5, 10, 15)
    mine = [m for m in standin.messages(MANAGERS) if m.metadata]
    assert mine == [posted]
    assert len(standin.calls_to("conversations.history")) >= 2
    [note] = [n for n in notes(engine, "escalation") + notes(engine, "digest") if n.ts]
    assert note.ts == posted.ts


async def test_when_the_history_cannot_be_read_the_post_goes_again_rather_than_be_lost(
    monitor, standin, engine
):
    """A workspace that has not granted the history scopes: at least once, as before."""
    create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    standin.fail("conversations.history", error="missing_scope")
    await sweeps(monitor, 0, 5, 10)
    assert len(dms_to(standin, "UMARCUS")) == 2
    [note] = notes(engine, "dm")
    assert note.status == "sent"


async def test_a_reply_in_the_managers_thread_is_found_among_the_threads_replies(
    monitor, standin, engine
):
    tid = create(engine, title="Q3 filing", owner="UDANA", due_at=london("2026-02-01T00:00"))
    with transaction(engine) as s:
        service.block(s, tid, "waiting on legal", by="UDANA", now=london("2026-01-05T09:01"))
    await sweeps(monitor, 0)
    [top] = standin.messages(MANAGERS)
    with transaction(engine) as s:
        service.complete(s, tid, by="UDANA", now=FIRST + timedelta(minutes=1))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await sweeps(monitor, 5, 10, 15)
    replies = [m for m in standin.messages(MANAGERS) if m.thread_ts == top.ts and m.is_reply]
    assert len(replies) == 1 and replies[0].metadata
    [read] = standin.calls_to("conversations.replies")
    assert read.params["ts"] == top.ts
    [note] = notes(engine, "thread")
    assert (note.status, note.ts) == ("sent", replies[0].ts)


async def test_an_owner_found_told_in_slack_lets_the_managers_hear_in_the_same_sweep(
    monitor, standin, engine
):
    """An overdue task goes to the managers as its owner is told. When the owner's DM is found
    in Slack rather than sent, the owner has been told all the same: the managers hear in that
    sweep, not one sweep interval later (digest off: the managers' message is the case's own)."""
    monitor.policy = dataclasses.replace(monitor.policy, digest=False)
    create(engine, title="VAT return", owner="UDANA", due_at=london("2026-01-02T17:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await run_sweep(monitor, FIRST)
    assert len(dms_to(standin, "UDANA")) == 1 and standin.messages(MANAGERS) == []

    report = await run_sweep(monitor, FIRST + timedelta(minutes=5))
    assert report.delivery.reconciled == 1 and len(dms_to(standin, "UDANA")) == 1
    [managers] = standin.messages(MANAGERS)
    assert "VAT return" in managers.text


async def test_a_dm_left_in_slack_whose_problem_cleared_meanwhile_is_redrawn_as_cleared(
    monitor, standin, engine
):
    """Slack took the DM, the answer was lost, and the task was finished before the next
    sweep: the DM is not posted again, nor left saying there is a problem; it is found,
    recorded and edited to say why it cleared."""
    tid = create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await run_sweep(monitor, FIRST)
    [posted] = dms_to(standin, "UMARCUS")
    assert "Renew insurance" in posted.text and posted.edits == 0
    with transaction(engine) as s:
        service.complete(s, tid, by="UMARCUS", now=FIRST + timedelta(minutes=2))

    await sweeps(monitor, 5, 10)
    [shown] = dms_to(standin, "UMARCUS")  # the same message, not a second one
    assert shown.ts == posted.ts and shown.edits >= 1
    assert "no longer needs attention: marked done" in shown.text
    [note] = notes(engine, "dm")
    assert (note.status, note.ts) == ("sent", posted.ts)
    assert len(standin.calls_to("chat.postMessage")) == 1


async def test_a_post_that_never_reached_slack_and_has_nothing_left_to_say_is_cancelled(
    monitor, standin, engine
):
    tid = create(engine, title="Renew insurance", due_at=london("2026-02-01T00:00"))
    standin.fail("chat.postMessage", kind="reset", after_effect=False)
    await run_sweep(monitor, FIRST)
    with transaction(engine) as s:
        service.complete(s, tid, by="UMARCUS", now=FIRST + timedelta(minutes=2))
    await sweeps(monitor, 5, 10)
    assert dms_to(standin, "UMARCUS") == []
    [note] = notes(engine, "dm")
    assert note.status == "cancelled" and len(standin.calls_to("conversations.history")) == 1


async def test_a_dm_left_in_slack_whose_task_was_reassigned_meanwhile_says_whose_it_is(
    monitor, standin, engine
):
    """Slack took Marcus's DM, the answer was lost, and the task went to Dana before the next
    sweep: Marcus's DM is found and edited to say Dana has it (not left open with its
    buttons), and Dana is told in a DM of her own."""
    tid = create(engine, title="Renew insurance", owner="UMARCUS")  # no deadline: a problem
    standin.fail("chat.postMessage", kind="reset", after_effect=True)
    await run_sweep(monitor, FIRST)
    [posted] = dms_to(standin, "UMARCUS")
    with transaction(engine) as s:
        service.assign(s, tid, "UDANA", by="UMARCUS", now=FIRST + timedelta(minutes=2))

    await sweeps(monitor, 5, 10)
    [shown] = dms_to(standin, "UMARCUS")  # the same message, edited, not a second one
    assert shown.ts == posted.ts and shown.edits >= 1
    assert "was reassigned to <@UDANA>" in shown.text
    assert not any(b.get("type") == "actions" for b in shown.blocks)
    [to_dana] = dms_to(standin, "UDANA")
    assert "Renew insurance" in to_dana.text
