"""Small pieces every message shares: escaping, bars, dates, and Block Kit element makers."""

from __future__ import annotations

from datetime import date
from typing import Any

Block = dict[str, Any]

BAR_CELLS = 10
# Slack's limits: blocks in a message, in a view (a modal or App Home), characters in a
# section's text.
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
SECTION_TEXT = 3000


def escape(text: str) -> str:
    """Slack's three control characters, so that user text is shown and never acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bar(percent: float) -> str:
    percent = max(0.0, min(100.0, percent))
    filled = int(percent // BAR_CELLS)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def bars(progress: int, used: float | None) -> str:
    """`progress ▰▰▰▰▱▱▱▱▱▱ 40%  ·  time used ▰▰▰▰▰▰▰▰▱▱ 80%`"""
    text = f"progress {bar(progress)} {progress}%"
    if used is not None:
        pct = round(used * 100)
        text += f"  ·  time used {bar(pct)} {pct}%"
    return text


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "nobody"


def task_ref(task_id: int, title: str) -> str:
    return f"*#{task_id} {escape(title)}*"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending with … when cut, and never cut inside an entity
    (`&amp;`) or a mention or link (`<@U1>`): half of one shows as garbage."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for opener, closer in (("&", ";"), ("<", ">")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    return cut + "…"


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def static_select(placeholder: str, action_id: str, options: list[Block]) -> Block:
    return {
        "type": "static_select",
        "placeholder": {"type": "plain_text", "text": placeholder},
        "action_id": action_id,
        "options": options,
    }


def datepicker(placeholder: str, action_id: str, initial: date | None) -> Block:
    element: Block = {
        "type": "datepicker",
        "placeholder": {"type": "plain_text", "text": placeholder},
        "action_id": action_id,
    }
    if initial:
        element["initial_date"] = initial.isoformat()
    return element


def users_select(placeholder: str, action_id: str) -> Block:
    return {
        "type": "users_select",
        "placeholder": {"type": "plain_text", "text": placeholder},
        "action_id": action_id,
    }


def actions(block_id: str, elements: list[Block]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": elements}
