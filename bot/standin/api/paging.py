"""Slack's cursor paging and time windows over messages, as conversations.history and
conversations.replies apply them: `limit`, `cursor` (answered by
`response_metadata.next_cursor`, "" on the last page), `oldest`, `latest`, `inclusive`."""

from __future__ import annotations

import base64
import binascii

from bot.standin.state import Message, ts_key


def truthy(value: object) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _cursor(ts: str) -> str:
    # Slack's cursors are opaque base64; this one names the first message of the next page.
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: str) -> tuple[int, int] | None:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        return ts_key(text.removeprefix("next_ts:")) if text.startswith("next_ts:") else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def window(messages: list[Message], p: dict) -> list[Message] | dict:
    """The messages between `oldest` and `latest` (exclusive unless `inclusive`)."""
    inclusive = truthy(p.get("inclusive"))
    bounds = {}
    for name in ("oldest", "latest"):
        value = p.get(name)
        if value in (None, ""):
            continue
        try:
            bounds[name] = ts_key(str(value))
        except ValueError:
            return {"error": f"invalid_ts_{name}"}

    def inside(m: Message) -> bool:
        key = ts_key(m.ts)
        if "oldest" in bounds and (
            key < bounds["oldest"] or (key == bounds["oldest"] and not inclusive)
        ):
            return False
        return (
            "latest" not in bounds
            or key < bounds["latest"]
            or (key == bounds["latest"] and inclusive)
        )

    return [m for m in messages if inside(m)]


def page(
    messages: list[Message], p: dict, *, newest_first: bool, default_limit: int
) -> tuple[list[Message], str] | dict:
    """One page of `messages` (already in answer order) and the cursor to the next, or ""."""
    try:
        limit = int(p.get("limit") or default_limit)
    except (TypeError, ValueError):
        return {"error": "invalid_limit"}
    limit = max(1, min(limit, 999 if newest_first else 1000))
    cursor = str(p.get("cursor") or "")
    if cursor:
        start = _cursor_ts(cursor)
        if start is None:
            return {"error": "invalid_cursor"}
        # By time rather than by position: a message deleted between pages moves nothing.
        messages = [
            m
            for m in messages
            if (ts_key(m.ts) <= start if newest_first else ts_key(m.ts) >= start)
        ]
    shown, rest = messages[:limit], messages[limit:]
    return shown, _cursor(rest[0].ts) if rest else ""
