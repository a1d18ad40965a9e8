"""Answering Slack: the HTTP answer goes at the ack, the work after it goes on meanwhile."""

from __future__ import annotations

import asyncio

from bot.standin.wire import settle


async def test_a_command_is_answered_while_its_work_still_waits_on_slack(wire):
    # `/task add` checks the mentioned owner with users.info; Slack holds that call. Slack's
    # request is answered all the same (an unanswered command is "failed with
    # operation_timeout" after 3 s), and the reply follows once users.info answers.
    wire.standin.fail("users.info", kind="timeout", hold=30)
    before = len(wire.standin.responses)
    await wire.command("add File the VAT return <@UTOM> due friday", reply=False)
    await settle(lambda: bool(wire.standin.calls_to("users.info")))
    assert wire.standin.calls_to("users.info") and len(wire.standin.responses) == before
    wire.standin.faults.release_holds()
    reply = await wire.next_response(before)
    assert reply is not None and reply["text"]


async def test_an_event_is_answered_while_app_home_still_waits_on_slack(wire):
    # Slack retries an event it has no answer to within 3 s: the answer may not wait for the
    # App Home it causes. Slack holds views.publish; the event's answer has come all the same.
    wire.standin.fail("views.publish", kind="timeout", hold=30)
    answered = asyncio.ensure_future(
        wire.event({"type": "app_home_opened", "user": "UDANA", "tab": "home"})
    )
    await settle(lambda: bool(wire.standin.calls_to("views.publish")))
    assert wire.standin.calls_to("views.publish")  # held by Slack, unanswered
    await settle(answered.done)
    assert answered.done() and answered.result().status == 200
    wire.standin.faults.release_holds()
