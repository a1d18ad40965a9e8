"""conversations.open, conversations.info, conversations.history, conversations.replies."""

from __future__ import annotations

from bot.standin.api.paging import page, truthy, window
from bot.standin.state import Workspace, ts_key


def open_(ws: Workspace, p: dict) -> dict:
    users = str(p.get("users", "")).split(",")
    if len(users) != 1 or not users[0]:
        return {"error": "invalid_arguments" if users[0] else "users_list_not_supplied"}
    user = ws.users.get(users[0])
    if user is None:
        return {"error": "user_not_found"}
    if user.deleted:
        return {"error": "user_disabled"}
    return {"channel": {"id": ws.open_dm(user.id)}}


def info(ws: Workspace, p: dict) -> dict:
    channel = ws.channels.get(str(p.get("channel", "")))
    if channel is None:
        return {"error": "channel_not_found"}
    return {"channel": {"id": channel.id, "name": channel.name, "is_archived": channel.archived}}


def history(ws: Workspace, p: dict) -> dict:
    """The channel's messages newest first; thread replies stay in their thread unless they
    were also sent to the channel. An archived channel can still be read."""
    channel = ws.channels.get(str(p.get("channel", "")))
    if channel is None:
        return {"error": "channel_not_found"}
    shown = [m for m in channel.messages.values() if not m.is_reply or m.reply_broadcast]
    shown.sort(key=lambda m: ts_key(m.ts), reverse=True)
    return _answer(ws, shown, p, newest_first=True, default_limit=100)


def replies(ws: Workspace, p: dict) -> dict:
    """A thread oldest first, its parent leading; `ts` may name the parent or any reply."""
    channel = ws.channels.get(str(p.get("channel", "")))
    if channel is None:
        return {"error": "channel_not_found"}
    ts = str(p.get("ts") or "")
    if not ts:
        return {"error": "invalid_arguments"}
    message = channel.messages.get(ts)
    if message is None:
        return {"error": "thread_not_found"}
    parent_ts = message.thread_ts if message.is_reply else message.ts
    parent = channel.messages.get(parent_ts or "")
    thread = ([parent] if parent else []) + channel.replies(parent_ts or "")
    return _answer(ws, thread, p, newest_first=False, default_limit=1000)


def _answer(
    ws: Workspace, messages: list, p: dict, *, newest_first: bool, default_limit: int
) -> dict:
    inside = window(messages, p)
    if isinstance(inside, dict):
        return inside
    paged = page(inside, p, newest_first=newest_first, default_limit=default_limit)
    if isinstance(paged, dict):
        return paged
    shown, next_cursor = paged
    metadata = truthy(p.get("include_all_metadata"))
    return {
        "messages": [ws.message_json(m, metadata=metadata) for m in shown],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


METHODS = {
    "conversations.open": open_,
    "conversations.info": info,
    "conversations.history": history,
    "conversations.replies": replies,
}
