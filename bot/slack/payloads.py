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


def _user_id(value: Any) -> bool:
    return (
        isinstance(value, str) and value[:1] in ("U", "W") and value.isascii() and value.isalnum()
    )


def _user(payload: dict) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and _text(user.get("id"))


# Where Bolt looks for the ids it puts in a listener's context (slack_bolt.request.internals):
# each of these, when present, must be a string or an object, else Bolt fails before any
# listener runs (`"id" in 42`).
_ID_HOLDERS = ("enterprise", "team", "user", "channel")
_ID_STRINGS = ("enterprise_id", "team_id", "user_id", "channel_id", "thread_ts", "response_url")
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")


def _ids_problem(payload: dict, depth: int = 0) -> str | None:
    for key in _ID_HOLDERS:
        value = payload.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict) or not isinstance(value.get("id", ""), str | None):
            return f"a {key} that is neither an id nor an object with one"
    for key in _ID_STRINGS:
        if not isinstance(payload.get(key), str | None):
            return f"a {key} that is not text"
    auths = payload.get("authorizations")
    if auths is not None and not (
        isinstance(auths, list) and all(isinstance(a, dict) for a in auths)
    ):
        return "authorizations that are not a list of objects"
    urls = payload.get("response_urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, dict) for u in urls)):
        return "response_urls that are not a list of objects"
    for key in _NESTED:
        inner = payload.get(key)
        if inner is not None and not isinstance(inner, dict):
            return f"a {key} that is not an object"
        if inner is not None and depth < 2:
            problem = _ids_problem(inner, depth + 1)
            if problem:
                return problem
    for inner in auths or ():
        problem = _ids_problem(inner, 2)
        if problem:
            return problem
    return None


def shape_problem(body: Any) -> str | None:
    """Why `body` is not a request Slack would send, or None. Only what Vigil answers is
    checked (and the ids Bolt itself reads from every request); anything else goes on to Bolt,
    which says it has no listener for it."""
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    problem = _ids_problem(body)
    if problem:
        return problem
    if "command" in body:
        return _command_problem(body)
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "message_action", "shortcut"):
        if not _user(body):
            return f"{kind} without a user"
        if not isinstance(body.get("container", {}), dict):
            return f"{kind} whose container is not an object"
        if not isinstance(body.get("trigger_id", ""), str):
            return f"{kind} whose trigger_id is not text"
    if kind == "block_actions":
        return _actions_problem(body)
    if kind == "view_submission":
        return _view_problem(body)
    if kind in ("message_action", "shortcut"):
        if not _text(body.get("trigger_id")) or not _text(body.get("callback_id")):
            return f"{kind} without a trigger_id or callback_id"
    if kind == "event_callback":
        return _event_problem(body.get("event"))
    return None


def _command_problem(body: dict) -> str | None:
    for name in ("command", "user_id", "trigger_id", "response_url"):
        if not _text(body.get(name)):
            return f"a slash command without {name}"
    if not isinstance(body.get("text", ""), str):
        return "a slash command whose text is not text"
    return None


def _actions_problem(body: dict) -> str | None:
    acts = body.get("actions")
    if not isinstance(acts, list) or not acts:
        return "block_actions without actions"
    if not all(isinstance(a, dict) and _text(a.get("action_id")) for a in acts):
        return "an action without an action_id"
    if not all(isinstance(a.get("block_id", ""), str) for a in acts):
        return "an action whose block_id is not text"
    return None


def _view_problem(body: dict) -> str | None:
    view = body.get("view")
    if not isinstance(view, dict) or not _text(view.get("id")) or not _text(view.get("type")):
        return "view_submission without a view"
    if not isinstance(view.get("callback_id"), str):
        return "view_submission without a callback_id"
    state = view.get("state")
    if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
        return "view_submission without state values"
    return None


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "event_callback without an event"
    if not _text(event.get("type")):
        return "an event without a type"
    if event["type"] == "app_home_opened":
        if not _user_id(event.get("user")) or not isinstance(event.get("tab", ""), str):
            return "app_home_opened without a user or with a tab that is not text"
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
