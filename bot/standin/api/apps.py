"""auth.test and apps.connections.open: who the token belongs to, and where Socket Mode is."""

from __future__ import annotations

from bot.standin.state import BOT_ID, BOT_USER, TEAM_ID, Workspace


def auth_test(ws: Workspace, p: dict) -> dict:
    return {
        "url": "https://standin.slack.com/",
        "team": "Stand-in",
        "user": "vigil",
        "team_id": TEAM_ID,
        "user_id": BOT_USER,
        "bot_id": BOT_ID,
    }


def connections_open(ws: Workspace, p: dict) -> dict:
    return {"url": ws.socket_url}


METHODS = {"auth.test": auth_test, "apps.connections.open": connections_open}
