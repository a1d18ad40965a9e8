"""What Slack sends, checked before anything acts on it.

`shape_problem` refuses what Slack never sends (a slash command with no user, a click with no
action): such a request is answered 400 and reaches no handler. The `selected_*` readers take
the value a person picked from a click, and raise a `UserError` saying what to pick when it is
missing or not what the element offers; a handler shows that, like any other bad input.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt.response import BoltResponse

from bot.errors import UserError

log = logging.getLogger(__name__)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _user(payload: dict) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and _text(user.get("id"))


def shape_problem(body: Any) -> str | None:
    """Why `body` is not a request Slack would send, or None. Only what Vigil answers is
    checked; anything else goes on to Bolt, which says it has no listener for it."""
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    if "command" in body:
        for name in ("user_id", "trigger_id", "response_url"):
            if not _text(body.get(name)):
                return f"a slash command without {name}"
        if not isinstance(body.get("text", ""), str):
            return "a slash command whose text is not text"
        return None
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "message_action", "shortcut"):
        if not _user(body):
            return f"{kind} without a user"
    if kind == "block_actions":
        acts = body.get("actions")
        if not isinstance(acts, list) or not acts:
            return "block_actions without actions"
        if not all(isinstance(a, dict) and _text(a.get("action_id")) for a in acts):
            return "an action without an action_id"
    if kind == "view_submission":
        view = body.get("view")
        if not isinstance(view, dict) or not _text(view.get("id")) or not _text(view.get("type")):
            return "view_submission without a view"
        state = view.get("state")
        if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
            return "view_submission without state values"
    if kind in ("message_action", "shortcut") and not _text(body.get("trigger_id")):
        return f"{kind} without a trigger_id"
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "event_callback without an event"
    return None


async def refuse_malformed(body: dict, next) -> BoltResponse | None:  # noqa: A002 (Bolt's name)
    """Bolt global middleware: Socket Mode's check (over HTTP the endpoint has made it, and
    answered 400). Over the socket the envelope is acknowledged all the same, with nothing
    done: an envelope left unacknowledged is delivered again."""
    problem = shape_problem(body)
    if problem:
        log.warning("dropped what Slack would not send: %s", problem)
        return BoltResponse(status=200, body="")
    return await next()


# -- what a person picked ----------------------------------------------------------------------
def selected_number(action: dict, allowed: range, what: str, example: str) -> int:
    option = action.get("selected_option")
    raw = option.get("value") if isinstance(option, dict) else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and int(raw) in allowed:
        return int(raw)
    raise UserError(f"Pick {what} from the list.", example)


def selected_day(action: dict, example: str) -> date:
    raw = action.get("selected_date")
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise UserError("Pick a date from the calendar.", example)


def selected_user(action: dict, example: str) -> str:
    raw = action.get("selected_user")
    if isinstance(raw, str) and raw[:1] in ("U", "W") and raw.isalnum():
        return raw
    raise UserError("Pick a person from the list.", example)


def metadata(view: dict) -> dict:
    """A modal's `private_metadata` as Vigil wrote it; {} when it is missing or not ours."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
