"""The Slack app through the wire: signed requests as Slack sends them, to the app on a
loopback port; everything it says goes through the stand-in, which records it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.db import transaction
from bot.models import Task
from bot.slack import ids
from bot.standin.wire import SlackWire, settle
from tests.blockkit import view_errors
from tests.conftest import MANAGERS, MONDAY, london
from tests.slackio import dm_click, everything_valid, form_body, rows


async def test_bad_signature_or_old_timestamp_is_401_and_touches_nothing(wire):
    before = rows(wire)
    body = "command=%2Ftask&text=add+sneaky&user_id=UDANA&trigger_id=t1&response_url=x"
    resp = await wire.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert resp.status == 401
    resp = await wire.post(body, "application/x-www-form-urlencoded", age=6 * 60)
    assert resp.status == 401
    await settle(lambda: False, limit=0.05)
    assert rows(wire) == before and wire.standin.calls == [] and wire.standin.responses == []


async def test_the_life_of_a_task_from_add_to_resolution(wire, standin):
    reply = await wire.command("add Q3 filing <@UDANA|dana> due 2026-01-30", user="UMARCUS")
    assert (
        "Created" in reply["text"]
        and "#1" in reply["text"]
        and reply["response_type"] == "ephemeral"
    )

    listed = await wire.command("list", user="UDANA")
    assert "#1" in json.dumps(listed["blocks"])

    reply = await wire.command("progress 1 40", user="UDANA")
    assert "progress 0% → 40%" in reply["text"]

    # Four working days later (Tue, Wed, Thu, Fri): a stall DM with buttons.
    await wire.sweep(london("2026-01-16T09:30"))
    dm = standin.messages(standin.dm_channel("UDANA"))[-1]
    assert "#1" in dm.text and any(b["type"] == "actions" for b in dm.blocks)
    await wire.sweep(london("2026-01-19T09:30"))
    assert len(standin.messages(MANAGERS)) == 1

    # Dana picks 60% from the DM: it is redrawn at once, the stall cleared, no button left.
    wire.clock.now = london("2026-01-19T10:00")
    before = len(standin.responses)
    payload = dm_click(
        wire,
        dm,
        {
            "action_id": ids.ACTION_PROGRESS_SELECT,
            "type": "static_select",
            "selected_option": {"value": "60"},
        },
    )
    resp = await wire.interact(payload)
    assert resp.status == 200
    replaced = await wire.next_response(before)
    assert replaced["replace_original"] is True
    assert all(b["type"] != "actions" for b in replaced["blocks"])
    assert "no longer needs attention: progress recorded (60%)" in replaced["text"]
    assert "40% → 60%" in json.dumps(replaced["blocks"], ensure_ascii=False)

    # The next sweep resolves it: the managers' digest is edited to say so.
    await wire.sweep(london("2026-01-19T10:05"))
    top = [m for m in standin.messages(MANAGERS) if m.thread_ts is None]
    assert len(top) == 1 and "0 tasks need someone" in top[0].text
    assert "no longer needs attention: progress recorded (60%)" in json.dumps(top[0].blocks)
    everything_valid(standin)


async def test_the_created_reply_names_the_owner_and_the_deadline_or_their_absence(wire):
    reply = await wire.command("add Payroll", user="UDANA")
    line = reply["blocks"][0]["text"]["text"]
    assert line == "Created *#1 Payroll* · owner nobody · no deadline"
    reply = await wire.command("add Board pack <@UDANA|dana> due 2026-01-30", user="UDANA")
    assert reply["blocks"][0]["text"]["text"].endswith("· owner <@UDANA> · due Fri 30 Jan")


async def test_only_owner_creator_or_manager_may_change_a_task(wire):
    await wire.command("add Payroll <@UDANA|dana> due friday", user="UMARCUS")
    before = rows(wire)
    reply = await wire.command("progress 1 90", user="ULEE")
    assert (
        "Only the owner, the creator or a manager" in reply["text"]
        and reply["response_type"] == "ephemeral"
    )
    assert rows(wire) == before
    assert (
        "0% → 50%" in (await wire.command("progress 1 50", user="UMARCUS"))["text"]
    )  # a manager may


async def test_user_text_is_escaped_never_acted_on(wire):
    # Typed as "@channel & <@U1> party": Slack sends the special mention and escapes the rest.
    reply = await wire.command("add <!channel> &amp; &lt;@U1&gt; party due friday", user="UDANA")
    shown = reply["text"] + json.dumps(reply["blocks"])
    assert "<!channel>" not in shown and "<@U1>" not in shown
    assert "@channel &amp; &lt;@U1&gt; party" in shown
    with transaction(wire.ctx.engine) as s:
        assert s.get(Task, 1).title == "@channel & <@U1> party"  # stored as typed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("progress 1 150", "0 to 100"),
        ("progress 99 40", "no task #99"),
        ("due 1 2025-01-01", "in the past"),
        ("assign 1 <@UNOBODY|ghost>", "no user UNOBODY"),
        ("add Sub due friday parent 42", "no task #42"),
        ("frobnicate", "/task help"),
    ],
)
async def test_bad_input_gets_a_clear_ephemeral_error_and_nothing_is_stored(wire, text, says):
    await wire.command("add Payroll <@UDANA|dana> due friday", user="UDANA")
    before = rows(wire)
    reply = await wire.command(text, user="UDANA")
    assert reply["response_type"] == "ephemeral" and says in reply["text"]
    assert rows(wire) == before


async def test_a_retried_command_creates_one_task(wire):
    await wire.command("add Payroll due friday", user="UDANA", trigger="same-trigger")
    await wire.command(
        "add Payroll due friday",
        user="UDANA",
        trigger="same-trigger",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert rows(wire)[0] == 1


async def test_the_modal_is_validated_in_place_and_submitting_twice_creates_one_task(wire, standin):
    await wire.command("new", user="UDANA", reply=False)
    await settle(lambda: standin.calls_to("views.open"))
    modal = standin.calls_to("views.open")[-1].params["view"]
    assert modal["callback_id"] == ids.VIEW_NEW_TASK and not view_errors(modal)

    def submission(title: str, day: str | None) -> dict:
        values = {
            ids.INPUT_TITLE: {ids.INPUT_TITLE: {"type": "plain_text_input", "value": title}},
            ids.INPUT_OWNER: {ids.INPUT_OWNER: {"type": "users_select", "selected_user": "UDANA"}},
            ids.INPUT_DEADLINE: {ids.INPUT_DEADLINE: {"type": "datepicker", "selected_date": day}},
            ids.INPUT_PARENT: {ids.INPUT_PARENT: {"type": "plain_text_input", "value": None}},
            ids.INPUT_DESCRIPTION: {
                ids.INPUT_DESCRIPTION: {"type": "plain_text_input", "value": None}
            },
        }
        return {
            "type": "view_submission",
            "user": {"id": "UDANA"},
            "api_app_id": "A0VIGIL",
            "team": {"id": "T0STANDIN"},
            "view": {**modal, "id": "V0MODAL1", "state": {"values": values}},
        }

    async with wire.http.post(
        f"{wire.url}/slack/events",
        data=(b := form_body(submission("", "2020-01-01"))),
        headers=wire._headers(b, "application/x-www-form-urlencoded"),
    ) as resp:
        answer = await resp.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {ids.INPUT_TITLE, ids.INPUT_DEADLINE}
    assert rows(wire)[0] == 0

    for _ in range(2):
        await wire.interact(submission("Board pack", "2026-01-30"))
    await settle(lambda: rows(wire)[0] > 0)
    assert rows(wire)[0] == 1


async def test_app_home_shows_my_tasks_by_risk_and_the_team_for_managers(wire, standin):
    await wire.command("add Quiet one <@UDANA|dana> due 2026-03-30", user="UMARCUS")
    await wire.command("add Nearly late <@UDANA|dana> due 2026-01-13", user="UMARCUS")
    await wire.sweep(london("2026-01-14T10:00"))  # #2 is overdue now

    def homes(user: str) -> list[dict]:
        return [
            c.params["view"]
            for c in standin.calls_to("views.publish")
            if c.params["user_id"] == user
        ]

    seen = len(homes("UDANA"))
    await wire.event({"type": "app_home_opened", "user": "UDANA", "tab": "home", "channel": "D1"})
    await settle(lambda: len(homes("UDANA")) > seen)
    view = homes("UDANA")[-1]
    assert view["type"] == "home" and not view_errors(view)
    text = json.dumps(view)
    assert text.index("#2 Nearly late") < text.index("#1 Quiet one")  # riskiest first
    assert "Team: tasks that need attention" not in text
    seen = len(homes("UMARCUS"))
    await wire.event({"type": "app_home_opened", "user": "UMARCUS", "tab": "home", "channel": "D2"})
    await settle(lambda: len(homes("UMARCUS")) > seen)
    assert "Team: tasks that need attention" in json.dumps(homes("UMARCUS")[-1])
    assert "overdue" in json.dumps(homes("UMARCUS")[-1])


async def test_the_message_shortcut_opens_the_modal_prefilled_with_text_and_permalink(
    wire, standin
):
    standin.add_channel("C0GENERAL")
    payload = {
        "type": "message_action",
        "callback_id": ids.SHORTCUT_FROM_MESSAGE,
        "user": {"id": "UDANA"},
        "team": {"id": "T0STANDIN"},
        "channel": {"id": "C0GENERAL"},
        "trigger_id": "trigger-shortcut",
        "response_url": standin.response_url("shortcut"),
        "message": {
            "ts": "1767600000.000100",
            "text": "Can someone chase Acme's Q3 figures?\nThanks",
        },
    }
    await wire.interact(payload)
    await settle(lambda: standin.calls_to("views.open"))
    view = standin.calls_to("views.open")[-1].params["view"]
    assert "Can someone chase Acme" in json.dumps(view)
    assert "https://standin.slack.com/archives/C0GENERAL/p1767600000000100" in json.dumps(view)
    assert not view_errors(view)


async def healthz(w: SlackWire) -> tuple[int, dict]:
    async with w.http.get(f"{w.url}/healthz") as resp:
        return resp.status, await resp.json()


async def test_the_shortcut_fills_the_form_with_readable_text_and_the_mentioned_owner(
    wire, standin
):
    standin.add_channel("C0GENERAL")
    payload = {
        "type": "message_action",
        "callback_id": ids.SHORTCUT_FROM_MESSAGE,
        "user": {"id": "UDANA"},
        "team": {"id": "T0STANDIN"},
        "channel": {"id": "C0GENERAL"},
        "trigger_id": "trigger-shortcut",
        "response_url": standin.response_url("shortcut"),
        "message": {
            "ts": "1767600000.000100",
            "text": "Can <@ULEE> chase Acme &amp; Birch's &lt;Q3&gt; figures?\nThanks <!here>",
        },
    }
    await wire.interact(payload)
    await settle(lambda: standin.calls_to("views.open"))
    view = standin.calls_to("views.open")[-1].params["view"]
    title = next(b for b in view["blocks"] if b["block_id"] == ids.INPUT_TITLE)["element"]
    assert title["initial_value"] == "Can @Lee chase Acme & Birch's <Q3> figures?"
    description = next(b for b in view["blocks"] if b["block_id"] == ids.INPUT_DESCRIPTION)
    assert description["element"]["initial_value"].endswith("figures?\nThanks @here")
    owner = next(b for b in view["blocks"] if b["block_id"] == ids.INPUT_OWNER)["element"]
    assert owner["initial_user"] == "ULEE"
    assert not view_errors(view)


async def test_healthz_reports_the_last_sweep(wire):
    assert (await healthz(wire))[0] == 503
    await wire.sweep(MONDAY)
    status, body = await healthz(wire)
    assert status == 200 and body["last_sweep"] == MONDAY.isoformat()
    assert "managers_channel" not in body


async def test_healthz_turns_503_after_three_intervals_without_a_sweep(wire):
    interval = timedelta(seconds=wire.settings.sweep_interval_seconds)
    await wire.sweep(MONDAY)
    wire.clock.now = MONDAY + 3 * interval
    assert (await healthz(wire))[0] == 200
    wire.clock.now = MONDAY + 3 * interval + timedelta(seconds=1)
    status, body = await healthz(wire)
    assert status == 503 and body["last_sweep"] == MONDAY.isoformat()
    assert "no sweep completed" in body["status"]
    await wire.sweep(wire.clock.now)  # the next sweep brings it back
    assert (await healthz(wire))[0] == 200


async def test_healthz_reports_a_managers_channel_that_does_not_work(wire, standin):
    standin.add_channel(MANAGERS, archived=True)
    await wire.command("add Payroll <@UDANA|dana> due today 09:30", user="UMARCUS")
    await wire.sweep(london("2026-01-12T10:00"))  # overdue: straight to the managers
    status, body = await healthz(wire)
    assert status == 200 and "is_archived" in body["managers_channel"]
    assert standin.messages(MANAGERS) == []
