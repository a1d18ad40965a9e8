"""What the stand-in's workspace holds: people, channels and their messages, and how Slack
renders each of them in its answers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

TEAM_ID = "T0STANDIN"
BOT_USER = "UVIGILBOT"
BOT_ID = "BVIGILBOT"
MAX_BLOCKS = 50  # in a message
MAX_VIEW_BLOCKS = 100  # in a modal or App Home
MAX_TEXT = 40_000


@dataclass
class Call:
    """One Web API call as it arrived and how it ended. `applied`: the method took effect
    (it answered ok, even if the answer was then lost); `fault`: the injected fault, if any;
    `status` 0 means the caller got no answer at all."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    applied: bool = False
    fault: str | None = None
    inside_retry_after: bool = False
    at: float = 0.0


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list | None
    thread_ts: str | None = None
    user: str = BOT_USER
    edits: int = 0
    number: int = 0  # the stand-in's own count of messages, for people to point at one
    metadata: dict | None = None
    reply_broadcast: bool = False  # a thread reply also shown in the channel

    @property
    def is_reply(self) -> bool:
        return bool(self.thread_ts) and self.thread_ts != self.ts


@dataclass
class User:
    id: str
    name: str
    tz: str
    deleted: bool = False
    is_bot: bool = False
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0  # epoch seconds; 0: the status does not expire
    updated: int = 0


@dataclass
class Channel:
    id: str
    name: str
    archived: bool = False
    messages: dict[str, Message] = field(default_factory=dict)

    def replies(self, parent_ts: str) -> list[Message]:
        return sorted(
            (m for m in self.messages.values() if m.is_reply and m.thread_ts == parent_ts),
            key=lambda m: ts_key(m.ts),
        )


def ts_key(ts: str) -> tuple[int, int]:
    """Slack's message timestamps ("1700000000.000100") in order; floats lose the last digits.
    Raises ValueError for anything that is not one."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(ts)
    return int(seconds), int(fraction.ljust(6, "0")[:6] or 0)


class Workspace:
    """The people, channels and messages every Web API family reads and changes."""

    def __init__(
        self,
        clock: Callable[[], float],
        block_validator: Callable[..., list[str]] | None = None,
    ) -> None:
        self.clock = clock
        # Checks blocks as Slack would: `validator(blocks, limit=n)` returns the errors.
        self.block_validator = block_validator
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.dms: dict[str, str] = {}  # user id -> DM channel id
        self.socket_url = ""  # where apps.connections.open sends the app, once serving
        self.emails: dict[str, str] = {}  # user id -> email (users.lookupByEmail, users.list)
        self.files: dict[str, tuple[dict, bytes]] = {}  # file id -> (files.info's file, bytes)
        self._counter = itertools.count(1)
        self._numbers = itertools.count(1)
        self._views = itertools.count(1)

    def ts(self) -> str:
        return f"{int(self.clock())}.{next(self._counter):06d}"

    def next_number(self) -> int:
        return next(self._numbers)

    def next_view_id(self) -> str:
        return f"V{next(self._views):08d}"

    def next_key(self) -> str:
        return f"r{next(self._counter)}"

    def clear_messages(self) -> None:
        self.dms.clear()
        for channel_id in [c for c in self.channels if c.startswith("D")]:
            del self.channels[channel_id]
        for channel in self.channels.values():
            channel.messages.clear()

    # -- people --------------------------------------------------------------------------
    def user(self, user_id: str) -> User | None:
        """The user as they stand now: Slack clears a status when its expiration passes."""
        user = self.users.get(user_id)
        if user and user.status_expiration and self.clock() >= user.status_expiration:
            user.status_text, user.status_emoji, user.status_expiration = "", "", 0
            user.updated = int(self.clock())
        return user

    def user_json(self, user: User) -> dict:
        """A user object as users.info and the user_change event carry it."""
        offset = ZoneInfo(user.tz).utcoffset(datetime.fromtimestamp(self.clock()))
        real_name = user.name.title()
        return {
            "id": user.id,
            "team_id": TEAM_ID,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": real_name,
            "tz": user.tz,
            "tz_label": user.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": user.updated or int(self.clock()),
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": user.name,
                "display_name_normalized": user.name,
                "status_text": user.status_text,
                "status_emoji": user.status_emoji,
                "status_expiration": user.status_expiration,
                "team": TEAM_ID,
            },
        }

    # -- channels ------------------------------------------------------------------------
    def open_dm(self, user_id: str) -> str:
        if user_id not in self.dms:
            channel_id = "D" + user_id.lstrip("UW")[:9].ljust(9, "0")
            self.dms[user_id] = channel_id
            self.channels[channel_id] = Channel(channel_id, f"dm-{user_id}")
        return self.dms[user_id]

    def postable(self, channel_id: str) -> Channel | dict:
        """The channel a message may go to, or Slack's error for why not."""
        if channel_id in self.users:  # Slack posts to a user id as to their DM
            if self.users[channel_id].deleted:
                return {"error": "user_disabled"}
            channel_id = self.open_dm(channel_id)
        channel = self.channels.get(channel_id)
        if channel is None:
            return {"error": "channel_not_found"}
        if channel.archived:
            return {"error": "is_archived"}
        return channel

    def message_json(self, m: Message, *, metadata: bool = True) -> dict:
        body: dict[str, Any] = {
            "type": "message",
            "text": m.text,
            "user": m.user,
            "bot_id": BOT_ID,
            "ts": m.ts,
        }
        if m.blocks is not None:
            body["blocks"] = m.blocks
        if m.thread_ts:
            body["thread_ts"] = m.thread_ts
        if m.is_reply:
            parent = self.channels[m.channel].messages.get(m.thread_ts or "")
            body["parent_user_id"] = parent.user if parent else m.user
        else:
            body |= self._thread_summary(m)
        if m.reply_broadcast:
            body["subtype"] = "thread_broadcast"
        if metadata and m.metadata is not None:
            body["metadata"] = m.metadata
        return body

    def _thread_summary(self, parent: Message) -> dict:
        replies = self.channels[parent.channel].replies(parent.ts)
        if not replies:
            return {}
        return {
            "thread_ts": parent.ts,
            "reply_count": len(replies),
            "reply_users_count": len({r.user for r in replies}),
            "reply_users": sorted({r.user for r in replies}),
            "latest_reply": replies[-1].ts,
        }
