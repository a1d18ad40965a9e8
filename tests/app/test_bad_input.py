"""Signed requests that no person could have meant, each answered with a 400 or one clear
sentence: never a 500, never "something went wrong on our side", and nothing stored."""

from __future__ import annotations

import json

import pytest

from bot.slack import ids
from bot.standin.wire import SlackWire, settle
from tests.app.test_endpoint import click
from tests.conftest import MONDAY
from tests.slackio import form_body as _form
from tests.slackio import rows, stalled_dm

FORM = "application/x-www-form-urlencoded"
HUGE = "9" * 20  # beyond any database's integer
OOPS = "Something went wrong"


@pytest.fixture
async def wire(standin, database_url):
    w = SlackWire(standin, database_url, MONDAY)
    await w.start()
    yield w
    await w.stop()


async def test_a_body_nested_too_deep_is_400(wire):
    before = rows(wire)
    for depth in (100_000, 5_000, 900):
        nested = '{"event":' * depth + "1" + "}" * depth
        resp = await wire.post(nested, "application/json")
        assert resp.status == 400, depth
        payload = "[" * depth + "]" * depth
        body = _form({"type": "block_actions", "user": {"id": "UDANA"}}).replace(
            "%7D", f',"x":{payload}%7D'.replace("[", "%5B").replace("]", "%5D"), 1
        )
        resp = await wire.post(body, FORM)
        assert resp.status == 400, depth
    assert rows(wire) == before and wire.standin.calls == []


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_home_opened", "user": 42, "tab": "home"},
        {"type": "app_home_opened", "user": ["UDANA"], "tab": "home"},
        {"type": "app_home_opened", "user": "UDANA", "tab": 7},
        {"type": "app_home_opened", "user": {"id": 1}, "channel": 5},
        {"type": 12, "user": "UDANA"},
    ],
)
async def test_an_event_of_the_wrong_shape_is_answered_and_does_nothing(wire, event):
    resp = await wire.event(event)
    assert resp.status == 200
    await settle(lambda: False, limit=0.05)
    assert wire.standin.calls == []


async def test_a_home_opened_by_a_real_user_still_publishes(wire):
    resp = await wire.event({"type": "app_home_opened", "user": "UDANA", "tab": "home"})
    assert resp.status == 200
    await settle(lambda: wire.standin.calls_to("views.publish"))
    assert wire.standin.calls_to("views.publish")


async def said_to_dana(w: SlackWire, before: int) -> str:
    await settle(lambda: len(w.standin.responses) > before)
    return " ".join(r.get("text", "") for r in w.standin.responses[before:])


@pytest.mark.parametrize(
    "block_id",
    [f"vigil|{HUGE}|0|x", f"vigil|1|{HUGE}|x", "vigil|-3|0|x", f"vigil|{2**31}|0|x"],
)
@pytest.mark.parametrize("action_id", [ids.ACTION_DONE, ids.ACTION_SNOOZE, ids.ACTION_BLOCKED])
async def test_a_button_naming_an_impossible_task_says_so(wire, block_id, action_id):
    await wire.command("add Payroll <@UDANA|dana> due friday", user="UDANA")
    before, stored = len(wire.standin.responses), rows(wire)
    action = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "button",
        "selected_option": {"value": "1"},
    }
    resp = await wire.interact(click(actions=[action], response_url=wire.standin.response_url("b")))
    assert resp.status == 200
    said = await said_to_dana(wire, before)
    assert "older message" in said and OOPS not in said
    assert rows(wire) == stored


def submission(modal: dict, values: dict, meta: object) -> dict:
    return {
        "type": "view_submission",
        "user": {"id": "UDANA"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "view": {**modal, "id": "V0BAD", "private_metadata": meta, "state": {"values": values}},
    }


async def submit(w: SlackWire, payload: dict) -> dict:
    body = _form(payload)
    async with w.http.post(
        f"{w.url}/slack/events", data=body, headers=w._headers(body, FORM)
    ) as resp:
        assert resp.status == 200
        text = await resp.text()
    return json.loads(text) if text else {}


async def progress_modal(w: SlackWire) -> dict:
    dm, _ = await stalled_dm(w)
    await w.interact(
        {
            "type": "block_actions",
            "user": {"id": "UDANA"},
            "team": {"id": "T0STANDIN"},
            "api_app_id": "A0VIGIL",
            "trigger_id": "t-other",
            "response_url": w.standin.response_url("other"),
            "actions": [
                {
                    "action_id": ids.ACTION_PROGRESS_OTHER,
                    "block_id": next(b["block_id"] for b in dm.blocks if b["type"] == "actions"),
                    "type": "button",
                }
            ],
        }
    )
    await settle(lambda: w.standin.calls_to("views.open"))
    return w.standin.calls_to("views.open")[-1].params["view"]


def progress_values(value: object, note: object = "ok") -> dict:
    return {
        ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": value}},
        ids.INPUT_NOTE: {ids.INPUT_NOTE: {"type": "plain_text_input", "value": note}},
    }


@pytest.mark.parametrize(
    "meta",
    [
        json.dumps({"task": int(HUGE)}),
        json.dumps({"task": 2**31}),
        json.dumps({"task": "1"}),
        json.dumps({"task": 1.0}),
        json.dumps({"task": True}),
        json.dumps([1]),
        "{{",
        None,
        17,
    ],
)
async def test_a_form_that_names_an_impossible_task_says_it_lost_track(wire, meta):
    modal = await progress_modal(wire)
    stored = rows(wire)
    answer = await submit(wire, submission(modal, progress_values("50"), meta))
    assert answer["errors"] == {
        ids.INPUT_PROGRESS: "This form lost track of its task; close it and use the button again."
    }
    assert rows(wire) == stored


@pytest.mark.parametrize(
    "values",
    [
        progress_values(["50"]),
        progress_values({"v": 50}),
        progress_values(50.5),
        progress_values(HUGE),
        {ids.INPUT_PROGRESS: "50"},
        {ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: ["x"]}},
        {ids.INPUT_PROGRESS: [1, 2]},
    ],
)
async def test_a_form_value_of_the_wrong_type_is_named_beside_its_field(wire, values):
    modal = await progress_modal(wire)
    stored = rows(wire)
    meta = modal["private_metadata"]
    answer = await submit(wire, submission(modal, values, meta))
    assert answer["errors"] == {ids.INPUT_PROGRESS: "A whole number from 0 to 100."}
    assert rows(wire) == stored


async def test_a_new_task_form_with_an_impossible_parent_or_odd_values_says_which(wire):
    await wire.command("new", user="UDANA", reply=False)
    await settle(lambda: wire.standin.calls_to("views.open"))
    modal = wire.standin.calls_to("views.open")[-1].params["view"]
    values = {
        ids.INPUT_TITLE: {ids.INPUT_TITLE: {"type": "plain_text_input", "value": {"t": 1}}},
        ids.INPUT_OWNER: {ids.INPUT_OWNER: {"type": "users_select", "selected_user": 5}},
        ids.INPUT_DEADLINE: {ids.INPUT_DEADLINE: {"type": "datepicker", "selected_date": [1]}},
        ids.INPUT_PARENT: {ids.INPUT_PARENT: {"type": "plain_text_input", "value": HUGE}},
        ids.INPUT_DESCRIPTION: "not a block",
    }
    answer = await submit(wire, submission(modal, values, modal["private_metadata"]))
    assert answer["response_action"] == "errors"
    assert answer["errors"][ids.INPUT_PARENT] == "A task number such as 12 or #12."
    assert answer["errors"][ids.INPUT_OWNER] == "Pick a person from the list."
    assert answer["errors"][ids.INPUT_DEADLINE] == "Pick a date from the calendar."
    assert answer["errors"][ids.INPUT_TITLE] == "A task needs a title."
    assert rows(wire)[0] == 0
