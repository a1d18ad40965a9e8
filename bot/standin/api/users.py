"""users.info: a person as Slack describes them, time zone and status included."""

from __future__ import annotations

from bot.standin.state import Workspace


def info(ws: Workspace, p: dict) -> dict:
    user = ws.user(str(p.get("user", "")))
    return {"user": ws.user_json(user)} if user else {"error": "user_not_found"}


METHODS = {"users.info": info}
