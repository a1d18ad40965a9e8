"""The modals: a new task (from `/task new` or the message shortcut), what it becomes once
created, progress with a note, and "I'm blocked" with a reason."""

from __future__ import annotations

from typing import Any

from bot.slack import ids
from bot.slack.blocks import VIEW_BLOCKS, Block, context, section, task_ref


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    element = {**element, "action_id": block_id}
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _text_input(
    initial: str | None = None, *, multiline: bool = False, max_length: int = 200
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def build_new_task_modal(
    *,
    title: str | None = None,
    description: str | None = None,
    link: str | None = None,
    owner: str | None = None,
    metadata: str = "",
) -> dict[str, Any]:
    owner_select: Block = {
        "type": "users_select",
        "placeholder": {"type": "plain_text", "text": "Who does it"},
    }
    if owner:
        owner_select["initial_user"] = owner
    blocks = [
        _input(ids.INPUT_TITLE, "Title", _text_input(title)),
        _input(ids.INPUT_OWNER, "Owner", owner_select, optional=True),
        _input(
            ids.INPUT_DEADLINE,
            "Deadline",
            {"type": "datepicker"},
            optional=True,
            hint="The end of that day, in the team's time zone.",
        ),
        _input(
            ids.INPUT_PARENT,
            "Parent task",
            _text_input(max_length=12),
            optional=True,
            hint="A task number such as 12 or #12, to make this a subtask.",
        ),
        _input(
            ids.INPUT_DESCRIPTION,
            "Description",
            _text_input(description, multiline=True, max_length=3000),
            optional=True,
        ),
    ]
    if link:
        blocks.append(context(f"From <{link}|this message>"))
    return _modal(ids.VIEW_NEW_TASK, "New task", "Create", blocks, metadata)


def build_created_modal(
    reply_blocks: list[Block] | None, note: str | None = None
) -> dict[str, Any]:
    """What the creation form turns into once the task exists: the reply, and a Close button."""
    blocks = list(reply_blocks or [])[: VIEW_BLOCKS - 1]
    if note:
        blocks.append(context(note))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_CREATED,
        "title": {"type": "plain_text", "text": "Task created"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def build_progress_modal(task_id: int, title: str, progress: int, metadata: str) -> dict[str, Any]:
    return _modal(
        ids.VIEW_PROGRESS,
        f"Progress on #{task_id}"[:24],
        "Save",
        [
            section(task_ref(task_id, title)),
            _input(
                ids.INPUT_PROGRESS,
                "Progress (0–100%)",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "0",
                    "max_value": "100",
                    "initial_value": str(progress),
                },
            ),
            _input(
                ids.INPUT_NOTE, "Note", _text_input(multiline=True, max_length=3000), optional=True
            ),
        ],
        metadata,
    )


def build_blocked_modal(task_id: int, title: str, metadata: str) -> dict[str, Any]:
    return _modal(
        ids.VIEW_BLOCKED,
        f"#{task_id} is blocked"[:24],
        "Ask for help",
        [
            section(f"{task_ref(task_id, title)}: the managers' channel hears of it at once."),
            _input(
                ids.INPUT_REASON,
                "What is in the way?",
                _text_input(multiline=True, max_length=3000),
            ),
        ],
        metadata,
    )
