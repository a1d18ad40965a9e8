"""The modals as built: valid modal views whose inputs carry the ids the handlers read, filled
from what is known, within Slack's limits (a title of 24 characters, 100 blocks)."""

from __future__ import annotations

from bot.commands.views.modals import (
    build_blocked_modal,
    build_created_modal,
    build_new_task_modal,
    build_progress_modal,
)
from bot.slack import ids
from bot.slack.blocks import VIEW_BLOCKS, section
from tests.commands.views.samples import HOSTILE, safe_view, words


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def test_the_new_task_form_asks_for_each_field_under_the_ids_its_handler_reads():
    view = build_new_task_modal()
    safe_view(view)
    assert view["callback_id"] == ids.VIEW_NEW_TASK
    fields = inputs(view)
    assert list(fields) == [
        ids.INPUT_TITLE,
        ids.INPUT_OWNER,
        ids.INPUT_DEADLINE,
        ids.INPUT_PARENT,
        ids.INPUT_DESCRIPTION,
    ]
    assert all(e["action_id"] == block for block, e in fields.items())
    assert fields[ids.INPUT_TITLE]["max_length"] == 200  # the title limit


def test_the_form_from_a_message_is_filled_from_it_and_links_back():
    view = build_new_task_modal(
        title="x" * 500,
        description=HOSTILE,
        link="https://standin.slack.com/archives/C1/p1",
        owner="UDANA",
        metadata='{"from": "shortcut"}',
    )
    safe_view(view)
    fields = inputs(view)
    assert fields[ids.INPUT_TITLE]["initial_value"] == "x" * 200  # cut to what the field takes
    assert fields[ids.INPUT_DESCRIPTION]["initial_value"] == HOSTILE  # plain text: shown as is
    assert fields[ids.INPUT_OWNER]["initial_user"] == "UDANA"
    assert "From <https://standin.slack.com/archives/C1/p1|this message>" in words(view)
    assert view["private_metadata"] == '{"from": "shortcut"}'


def test_the_created_form_keeps_within_a_view_with_its_note():
    reply = [section(f"line {i}") for i in range(150)]
    view = build_created_modal(reply, note="could not send you a copy in a DM")
    safe_view(view)
    assert len(view["blocks"]) == VIEW_BLOCKS
    assert view["blocks"][-1]["elements"][0]["text"] == "could not send you a copy in a DM"
    assert "submit" not in view  # only Close: the task exists already


def test_the_progress_form_offers_0_to_100_and_a_note():
    view = build_progress_modal(123456789, HOSTILE, 40, '{"task": 123456789}')
    safe_view(view)
    assert len(view["title"]["text"]) <= 24
    progress = inputs(view)[ids.INPUT_PROGRESS]
    assert (progress["min_value"], progress["max_value"], progress["initial_value"]) == (
        "0",
        "100",
        "40",
    )
    assert inputs(view)[ids.INPUT_NOTE]["multiline"]


def test_the_blocked_form_asks_what_is_in_the_way_and_says_who_hears():
    view = build_blocked_modal(12, HOSTILE, '{"task": 12}')
    safe_view(view)
    assert view["callback_id"] == ids.VIEW_BLOCKED and view["submit"]["text"] == "Ask for help"
    assert "the managers' channel hears of it at once" in words(view)
    assert list(inputs(view)) == [ids.INPUT_REASON]
