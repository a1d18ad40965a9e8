"""Closing the window between Slack's `ok` and the record of it (product.md §7).

Before a post is sent, its attempt is recorded and committed: when it began (on the wall
clock) and the conversation it goes to. Every post carries its notification's id in the
message's metadata. A notification found still pending with an attempt recorded may already be
in Slack: the process died after Slack took the post, or Slack's answer was lost. Before it is
sent again, the conversation's history since the attempt (a thread's replies, for a reply) is
read for a message with that id; found, it is recorded as sent with that message's ts, and
nothing is posted. Edits need none of this: sending one again changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import update

from bot.db import transaction
from bot.models import Notification
from bot.monitor.gateway import RETRY, DeliveryError, SlackGateway
from bot.monitor.monitor import Monitor
from bot.monitor.sendable import Prepared

log = logging.getLogger(__name__)

EVENT_TYPE = "vigil_notification"
# Slack's clock and ours may differ: the history is read from a little before the attempt.
CLOCK_SKEW = timedelta(minutes=5)
MAX_PAGES = (
    20  # of 200 messages: a conversation busier than that since a crash is looked at no further
)


def metadata(note_id: int) -> dict:
    """What a post carries so that it can be found again."""
    return {"event_type": EVENT_TYPE, "event_payload": {"id": note_id}}


def mark_attempt(m: Monitor, note_id: int, channel: str) -> None:
    """Committed before Slack is asked: from here on, this post may be in Slack."""
    with transaction(m.engine) as session:
        session.execute(
            update(Notification)
            .where(Notification.id == note_id)
            .values(sending_at=m.wall(), channel=channel)
        )


async def find_posted(m: Monitor, item: Prepared, channel: str) -> str | None:
    """The ts of the message an earlier attempt of `item` left in `channel`, or None.

    Reading the history can fail: a RETRY failure passes up (the notification waits, as for a
    failed post); any other (a workspace that has not granted the history scopes yet, say)
    is logged and the post goes again, as it would without this step."""
    if item.sending_at is None or not m.policy.reconcile or m.gateway is None:
        return None
    # A thread reply is looked for among its thread's replies; anything else in its
    # conversation. Where the earlier attempt went decides where to look.
    where = item.channel or channel
    thread_ts = item.ref_ts if item.kind == "thread" else None
    oldest = f"{(item.sending_at - CLOCK_SKEW).timestamp():.6f}"
    try:
        return await _search(m.gateway, where, oldest, thread_ts, item.note_id)
    except DeliveryError as err:
        if err.kind == RETRY:
            raise
        log.warning(
            "cannot read %s to see whether notification %s went out before (%s); sending it",
            where,
            item.note_id,
            err.error,
        )
        return None


async def _search(
    gateway: SlackGateway, channel: str, oldest: str, thread_ts: str | None, note_id: int
) -> str | None:
    cursor = ""
    for _ in range(MAX_PAGES):
        messages, cursor = await gateway.history(
            channel, oldest, thread_ts=thread_ts, cursor=cursor
        )
        for message in messages:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("id") == note_id:
                return str(message["ts"])
        if not cursor:
            return None
    return None
