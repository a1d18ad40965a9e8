"""Action and callback ids, shared by the message builders and the handlers that answer them.

An alert's context travels in its `block_id` (`vigil|<task>|<finding>`), so that every element
keeps a fixed `action_id` and a handler finds the task and the finding from the block alone.
"""

from __future__ import annotations

import re

ACTION_PROGRESS_SELECT = "vigil_progress_select"
ACTION_PROGRESS_OTHER = "vigil_progress_other"
ACTION_DONE = "vigil_done"
ACTION_BLOCKED = "vigil_blocked"
ACTION_SNOOZE = "vigil_snooze"
ACTION_MOVE_DEADLINE = "vigil_move_deadline"
ACTION_ASSIGN = "vigil_assign"
ACTION_REASSIGN = "vigil_reassign"
ACTION_PING_OWNER = "vigil_ping_owner"

BLOCK_PREFIX = "vigil"


def unique(action_id: str, suffix: str) -> str:
    """An action id made unique within a list (App Home, /task list) that repeats buttons;
    handlers match it with `matching`."""
    return f"{action_id}:{suffix}"


def matching(action_id: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(action_id)}(:[\w-]+)?$")


def context_block_id(task_id: int, finding_id: int | None, part: str) -> str:
    return f"{BLOCK_PREFIX}|{task_id}|{finding_id or 0}|{part}"


# Ids are the database's integers: PostgreSQL's `integer` ends at 2**31 - 1, and an id past it
# from a forged or mangled click would be a database error rather than "no such task".
MAX_ID = 2**31 - 1


def db_id(value: object, *, zero: bool = False) -> int | None:
    """`value` as a row id if it is one (a whole number, or its ASCII digits, within the
    database's integer), else None. `zero` admits 0, which block ids use for "no finding"."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if type(value) is not int or not (0 if zero else 1) <= value <= MAX_ID:
        return None
    return value


def parse_block_id(block_id: str) -> tuple[int, int | None] | None:
    """(task id, finding id) from a block id made by `context_block_id`, or None."""
    parts = block_id.split("|")
    if len(parts) != 4 or parts[0] != BLOCK_PREFIX:
        return None
    task_id, finding_id = db_id(parts[1]), db_id(parts[2], zero=True)
    if task_id is None or finding_id is None:
        return None
    return task_id, finding_id or None


# Where Slack posts in HTTP mode (the manifest's three URLs end with it).
EVENTS_PATH = "/slack/events"

# Slash command, shortcut and modal callback ids (also in manifest.yml).
COMMAND = "/task"
SHORTCUT_FROM_MESSAGE = "vigil_task_from_message"
VIEW_NEW_TASK = "vigil_new_task"
VIEW_CREATED = "vigil_task_created"
VIEW_PROGRESS = "vigil_progress"
VIEW_BLOCKED = "vigil_blocked_reason"
VIEW_IMPORT = "vigil_import"  # `/task import`: the upload, then the preview
ACTION_IMPORT_GO = "vigil_import_go"

# Inputs in the modals: block ids, each with one element whose action id is the same.
INPUT_TITLE = "title"
INPUT_OWNER = "owner"
INPUT_DEADLINE = "deadline"
INPUT_PARENT = "parent"
INPUT_DESCRIPTION = "description"
INPUT_PROGRESS = "progress"
INPUT_NOTE = "note"
INPUT_REASON = "reason"
INPUT_FILE = "import_file"
