"""`python -m bot slack …`: play Slack by hand, against a running bot and a running stand-in.

- `command "/task …" --user U` posts the slash command as Slack would (`@dana` becomes the
  mention Slack sends, the body is signed with SLACK_SIGNING_SECRET), then prints the reply
  the stand-in received on the command's response URL.
- `messages [--user U | --channel C]` prints what the stand-in holds, numbered, each with its
  buttons numbered too.
- `click <message> <button> [--value V] --user U` builds the block_actions payload Slack would
  send for that button on that message, posts it signed, and prints the reply.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.slack import ids
from bot.slack.blocks import escape
from bot.slack.text import plain

TEAM = "T0STANDIN"
CHANNEL = "C0GENERAL"  # where a command is typed, unless told otherwise
WAIT_SECONDS = 10.0


class ByHandError(Exception):
    """What went wrong, in one line for the terminal."""


@dataclass
class Remote:
    """The running bot (`bot_url`, e.g. http://127.0.0.1:3000) and stand-in (`standin_url`,
    e.g. http://127.0.0.1:3001), and the signing secret they share."""

    bot_url: str
    standin_url: str
    secret: str
    http: aiohttp.ClientSession

    async def _standin(self, method: str, path: str, **kwargs) -> object:  # type: ignore[no-untyped-def]
        async def call() -> object:
            async with self.http.request(method, self.standin_url + path, **kwargs) as resp:
                return await resp.json()

        return await _patiently(call, f"the stand-in at {self.standin_url}")

    async def post(self, body: str, content_type: str) -> int:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(self.secret).generate_signature(
                timestamp=ts, body=body
            ),
        }

        async def call() -> int:
            async with self.http.post(
                self.bot_url + ids.EVENTS_PATH, data=body, headers=headers
            ) as resp:
                await resp.read()
                return resp.status

        return await _patiently(call, f"the bot at {self.bot_url}")

    async def response_url(
        self, channel: str | None = None, ts: str | None = None
    ) -> tuple[str, str]:
        found = await self._standin(
            "POST",
            "/_standin/response_url",
            json={"key": uuid.uuid4().hex, "channel": channel, "ts": ts},
        )
        return found["key"], found["url"]  # type: ignore[index]

    async def replies(self, key: str, wait: float) -> list[dict]:
        """What the bot posted to the response URL `key`, once it has (or `wait` has passed)."""
        deadline = time.monotonic() + wait
        while True:
            found = await self._standin("GET", "/_standin/responses", params={"key": key})
            if found or time.monotonic() > deadline:
                return found  # type: ignore[return-value]
            await asyncio.sleep(0.1)

    async def messages(self, user: str | None = None, channel: str | None = None) -> list[dict]:
        params = {"user": user} if user else {"channel": channel} if channel else {}
        return await self._standin("GET", "/_standin/messages", params=params)  # type: ignore[return-value]

    async def users(self) -> list[dict]:
        return await self._standin("GET", "/_standin/users")  # type: ignore[return-value]

    async def names(self) -> dict[str, str]:
        """Each stand-in user's name by id, to show mentions as people read them."""
        return {u["id"]: u["name"] for u in await self.users()}


async def _patiently(call, what: str, wait: float = WAIT_SECONDS):  # type: ignore[no-untyped-def]
    """`call()`, tried again while nothing listens yet: a bot started a moment ago with `&` is
    still opening its port."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return await call()
        except aiohttp.ClientConnectorError as exc:
            if time.monotonic() > deadline:
                raise ByHandError(f"{what} does not answer ({exc})") from None
            await asyncio.sleep(0.2)
        except aiohttp.ClientError as exc:
            raise ByHandError(f"{what} failed: {exc}") from None


# -- /task, as Slack sends it ---------------------------------------------------------------
async def slack_text(remote: Remote, typed: str) -> str:
    """What Slack sends for what was typed, with `should_escape`: `&<>` escaped, and `@name`
    turned into a mention of the stand-in user of that name (or id)."""
    people = await remote.users()

    def mention(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        for person in people:
            if name in (person["name"].lower(), person["id"].lower(), person["id"][1:].lower()):
                return f"<@{person['id']}|{person['name']}>"
        raise ByHandError(f"the stand-in knows no user @{match.group(1)}; start it with --user")

    return re.sub(r"(?<![\w<])@([A-Za-z0-9._-]+)", mention, escape(typed))


async def command(
    remote: Remote, typed: str, user: str, *, channel: str = CHANNEL, wait: float = WAIT_SECONDS
) -> list[dict]:
    """Post `/task …` as `user`; the replies it got on its response URL."""
    words = typed.strip().split(maxsplit=1)
    if not words or words[0] != ids.COMMAND:
        raise ByHandError(f'a command starts with {ids.COMMAND}, e.g. "/task list"')
    key, url = await remote.response_url()
    body = urlencode(
        {
            "command": ids.COMMAND,
            "text": await slack_text(remote, words[1] if len(words) > 1 else ""),
            "user_id": user,
            "user_name": user.lower(),
            "team_id": TEAM,
            "channel_id": channel,
            "trigger_id": uuid.uuid4().hex,
            "response_url": url,
            "api_app_id": "A0VIGIL",
        }
    )
    status = await remote.post(body, "application/x-www-form-urlencoded")
    if status != 200:
        raise ByHandError(f"the bot answered HTTP {status}")
    return await remote.replies(key, wait)


# -- buttons ---------------------------------------------------------------------------------
def elements(message: dict) -> list[tuple[dict, dict]]:
    """(actions block, element) for every button, select and picker, in reading order."""
    return [
        (block, element)
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def label(element: dict) -> str:
    text = element.get("text") or element.get("placeholder") or {}
    return str(text.get("text") or element.get("action_id"))


def _pick(message: dict, button: str) -> tuple[dict, dict]:
    found = elements(message)
    if button.isdigit() and 1 <= int(button) <= len(found):
        return found[int(button) - 1]
    for block, element in found:
        if label(element).lower() == button.lower():
            return block, element
    names = ", ".join(f"{i} {label(e)!r}" for i, (_, e) in enumerate(found, 1)) or "none"
    raise ByHandError(f"message #{message['number']} has no button {button!r}; it has {names}")


def _action(block: dict, element: dict, value: str | None) -> dict:
    kind = element.get("type")
    action = {
        "action_id": element["action_id"],
        "block_id": block.get("block_id", ""),
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        return action | {"value": element.get("value", "")}
    if value is None:
        raise ByHandError(f"{label(element)!r} needs --value")
    if kind == "static_select":
        for opt in element.get("options", []):
            if value in (opt["value"], opt["text"]["text"]):
                return action | {"selected_option": opt}
        offered = ", ".join(o["value"] for o in element.get("options", []))
        raise ByHandError(f"{label(element)!r} offers {offered}, not {value!r}")
    if kind == "datepicker":
        return action | {"selected_date": value}
    if kind == "users_select":
        return action | {"selected_user": value}
    raise ByHandError(f"clicking a {kind} is not something this tool does")


async def find_message(remote: Remote, which: str, user: str) -> dict:
    """Message `which` by its number, or `latest`: the newest one with buttons in `user`'s DM."""
    if which == "latest":
        found = [m for m in await remote.messages(user=user) if elements(m)]
        if not found:
            raise ByHandError(f"there is no message with buttons in {user}'s DM")
        return found[-1]
    for message in await remote.messages():
        if str(message["number"]) == which:
            return message
    raise ByHandError(f"there is no message #{which}; `python -m bot slack messages` lists them")


async def click(
    remote: Remote,
    which: str,
    button: str,
    user: str,
    *,
    value: str | None = None,
    wait: float = WAIT_SECONDS,
) -> list[dict]:
    """Click `button` on message `which` as `user`; the replies it got on its response URL."""
    message = await find_message(remote, which, user)
    block, element = _pick(message, button)
    key, url = await remote.response_url(message["channel"], message["ts"])
    payload = {
        "type": "block_actions",
        "user": {"id": user, "name": user.lower()},
        "team": {"id": TEAM},
        "api_app_id": "A0VIGIL",
        "trigger_id": uuid.uuid4().hex,
        "response_url": url,
        "container": {
            "type": "message",
            "channel_id": message["channel"],
            "message_ts": message["ts"],
        },
        "channel": {"id": message["channel"]},
        "message": {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
        "actions": [_action(block, element, value)],
    }
    status = await remote.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    if status != 200:
        raise ByHandError(f"the bot answered HTTP {status}")
    return await remote.replies(key, wait)


# -- for the terminal ------------------------------------------------------------------------
def _lines(blocks: list[dict] | None, fallback: str, names: dict[str, str]) -> list[str]:
    found = []
    for block in blocks or []:
        texts = [block.get("text")] + list(block.get("elements") or [])
        for text in texts:
            if isinstance(text, dict) and text.get("type") == "mrkdwn":
                found += plain(text["text"], names).splitlines()
    return found or plain(fallback, names).splitlines()


def show_reply(replies: list[dict], names: dict[str, str] | None = None) -> str:
    if not replies:
        return "(no reply yet; `python -m bot slack messages` shows what arrived since)"
    return "\n".join(
        line for r in replies for line in _lines(r.get("blocks"), r.get("text", ""), names or {})
    )


def show_messages(messages: list[dict], names: dict[str, str] | None = None) -> str:
    if not messages:
        return "(no messages)"
    out = []
    for m in messages:
        where = f"DM with {m['dm_with']}" if m.get("dm_with") else m["channel"]
        if m.get("thread_ts"):
            where += " (in a thread)"
        edited = f", edited {m['edits']}×" if m["edits"] else ""
        out.append(f"[{m['number']}] {where}{edited}")
        out += [f"    {line}" for line in _lines(m.get("blocks"), m["text"], names or {})]
        for i, (_, element) in enumerate(elements(m), 1):
            kind = {
                "button": "button",
                "static_select": "choose",
                "datepicker": "pick a date",
                "users_select": "pick a person",
            }
            what = kind.get(element.get("type"), element.get("type"))
            choices = ""
            if element.get("type") == "static_select":
                choices = ": " + ", ".join(o["value"] for o in element.get("options", []))
            out.append(f"    ({i}) {label(element)} [{what}{choices}]")
    return "\n".join(out)
