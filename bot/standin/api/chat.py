"""chat.postMessage, chat.update, chat.postEphemeral, chat.getPermalink."""

from __future__ import annotations

from bot.standin.api.paging import truthy
from bot.standin.state import MAX_BLOCKS, MAX_TEXT, Message, Workspace

_ABSENT = (None, "")


def _check_content(ws: Workspace, p: dict, *, need_content: bool = True) -> dict | None:
    text, blocks = p.get("text"), p.get("blocks")
    if need_content and not text and not blocks:
        return {"error": "no_text"}
    if text and len(str(text)) > MAX_TEXT:
        return {"error": "msg_too_long"}
    if blocks is not None:
        if not isinstance(blocks, list):
            return {"error": "invalid_blocks", "errors": ["blocks must be an array"]}
        if len(blocks) > MAX_BLOCKS:
            return {
                "error": "invalid_blocks",
                "errors": [f"no more than {MAX_BLOCKS} items allowed"],
            }
        if ws.block_validator:
            errors = ws.block_validator(blocks, limit=MAX_BLOCKS)
            if errors:
                return {"error": "invalid_blocks", "errors": errors}
    return None


def _check_metadata(p: dict) -> dict | None:
    """Slack takes `{"event_type": str, "event_payload": object}` and refuses anything else."""
    metadata = p.get("metadata")
    if metadata in _ABSENT:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        return {"error": "invalid_metadata_format"}
    return None


def post_message(ws: Workspace, p: dict) -> dict:
    channel = ws.postable(str(p.get("channel", "")))
    if isinstance(channel, dict):
        return channel
    problem = _check_content(ws, p) or _check_metadata(p)
    if problem:
        return problem
    thread_ts = str(p.get("thread_ts") or "") or None
    message = Message(
        channel.id,
        ws.ts(),
        str(p.get("text") or ""),
        p.get("blocks"),
        thread_ts,
        number=ws.next_number(),
        metadata=None if p.get("metadata") in _ABSENT else p["metadata"],
        reply_broadcast=bool(thread_ts) and truthy(p.get("reply_broadcast")),
    )
    channel.messages[message.ts] = message
    return {"channel": channel.id, "ts": message.ts, "message": ws.message_json(message)}


def update(ws: Workspace, p: dict) -> dict:
    channel = ws.postable(str(p.get("channel", "")))
    if isinstance(channel, dict):
        return channel
    message = channel.messages.get(str(p.get("ts", "")))
    if message is None:
        return {"error": "message_not_found"}
    problem = _check_content(ws, p, need_content=False) or _check_metadata(p)
    if problem:
        return problem
    if "text" in p:
        message.text = str(p["text"])
    if "blocks" in p:
        message.blocks = p["blocks"]
    if p.get("metadata") not in _ABSENT:  # left out, the message keeps what it had
        message.metadata = p["metadata"]
    message.edits += 1
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": ws.message_json(message),
    }


def post_ephemeral(ws: Workspace, p: dict) -> dict:
    channel = ws.postable(str(p.get("channel", "")))
    if isinstance(channel, dict):
        return channel
    if str(p.get("user", "")) not in ws.users:
        return {"error": "user_not_in_channel"}
    problem = _check_content(ws, p)
    return problem or {"message_ts": ws.ts()}


def get_permalink(ws: Workspace, p: dict) -> dict:
    channel_id, ts = str(p.get("channel", "")), str(p.get("message_ts", ""))
    if channel_id not in ws.channels:
        return {"error": "channel_not_found"}
    return {
        "channel": channel_id,
        "permalink": f"https://standin.slack.com/archives/{channel_id}/p{ts.replace('.', '')}",
    }


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
