"""Data for the pure builders, and the checks every built message or view must pass: valid
Block Kit within Slack's limits, unique action ids, and no markup from text people typed."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

from bot.commands.views.tasks import TaskSummary
from tests.blockkit import block_errors, view_errors
from tests.slackmarkup import mrkdwn_texts, stray

# Everything Slack would act on, typed into a title, a description, a note or a reason.
HOSTILE = "<!channel> & <@UEVIL> <title> <http://evil.example|click>"
PEOPLE = ("UDANA", "UMARCUS", "ULEE")

FILING = TaskSummary(
    id=4,
    title="Q3 filing for Acme",
    status="open",
    progress=40,
    owner_id="UDANA",
    creator_id="UMARCUS",
    due_day=date(2026, 1, 16),
    used=0.8,
    findings=("stalled",),
)


def summary(**changes) -> TaskSummary:
    return dataclasses.replace(FILING, **changes)


def safe_message(blocks: list[dict]) -> None:
    """Valid in a message: the schema, at most 50 blocks, unique ids, no stray markup."""
    assert block_errors(blocks) == []
    shown_safely(blocks)


def safe_view(view: dict) -> None:
    """Valid as a modal or a Home view: the schema, at most 100 blocks, unique ids, no stray
    markup."""
    assert view_errors(view) == []
    shown_safely(view)


def shown_safely(thing: object) -> None:
    for text in mrkdwn_texts(thing):
        assert stray(text, PEOPLE) == [], text


def action_ids(blocks: list[dict]) -> list[str]:
    return [
        e["action_id"]
        for b in blocks
        for e in b.get("elements", [])
        if isinstance(e, dict) and "action_id" in e
    ]


def words(blocks: list[dict] | dict) -> str:
    """All the text of the blocks, as one string to look for what a person reads."""
    return json.dumps(blocks, ensure_ascii=False)
