"""users.info: a person as Slack describes them, time zone and status included."""

from __future__ import annotations

from bot.standin.state import Workspace


def info(ws: Workspace, p: dict) -> dict:
    user = ws.user(str(p.get("user", "")))
    return {"user": ws.user_json(user)} if user else {"error": "user_not_found"}


METHODS = {"users.info": info}


def list_(ws: Workspace, p: dict) -> dict:
    """users.list, a page at a time (`limit`, `cursor`), everyone in id order."""
    try:
        limit = max(1, min(int(p.get("limit") or 200), 1000))
        start = int(str(p.get("cursor") or "").removeprefix("users:") or 0)
    except ValueError:
        return {"error": "invalid_cursor"}
    everyone = sorted(ws.users.values(), key=lambda u: u.id)
    page = everyone[start : start + limit]
    more = start + limit < len(everyone)
    return {
        "members": [_with_email(ws, ws.user_json(u), u.id) for u in page],
        "response_metadata": {"next_cursor": f"users:{start + limit}" if more else ""},
    }


def lookup_by_email(ws: Workspace, p: dict) -> dict:
    email = str(p.get("email", "")).strip().lower()
    for user_id, known in ws.emails.items():
        user = ws.user(user_id)
        if user and known.lower() == email:
            return {"user": _with_email(ws, ws.user_json(user), user_id)}
    return {"error": "users_not_found"}


def _with_email(ws: Workspace, body: dict, user_id: str) -> dict:
    # Slack shows `profile.email` only to an app with users:read.email, which Vigil asks for.
    if user_id in ws.emails:
        body["profile"] = body["profile"] | {"email": ws.emails[user_id]}
    return body


METHODS = METHODS | {"users.list": list_, "users.lookupByEmail": lookup_by_email}
