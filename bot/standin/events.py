"""Events the stand-in tells the app about, as Slack sends them: the Events API body
(`event_callback`), posted signed to the app's request URL, or the same body inside an
`events_api` envelope over Socket Mode."""

from __future__ import annotations

import itertools
import json
import time

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.standin.state import BOT_USER, TEAM_ID, Workspace

API_APP_ID = "A0STANDIN"
_event_ids = itertools.count(1)


def user_change_event(ws: Workspace, user_id: str) -> dict:
    """`user_change`, with the whole user object as users.info returns it now."""
    user = ws.user(user_id)
    if user is None:
        raise KeyError(f"no user {user_id}")
    now = ws.clock()
    return {
        "type": "user_change",
        "user": ws.user_json(user),
        "cache_ts": int(now),
        "event_ts": f"{now:.6f}",
    }


def event_callback(event: dict, *, event_time: float) -> dict:
    """The Events API body around one event."""
    return {
        "token": "standin-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):08d}",
        "event_time": int(event_time),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


async def post_signed(url: str, body: dict, signing_secret: str) -> int:
    """POST `body` to the app as Slack does, signed; returns the HTTP status it answered."""
    text = json.dumps(body)
    # Wall time, not the stand-in's clock: the app checks the timestamp against its own.
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(signing_secret).generate_signature(
            timestamp=timestamp, body=text
        ),
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=text.encode(), headers=headers) as resp:
            await resp.read()
            return resp.status
