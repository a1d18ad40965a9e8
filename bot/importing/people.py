"""Who owns a card, in Slack: an email through `users.lookupByEmail`, a name against the
display and real names of `users.list` (read once a run, page by page), without regard to
case or accents, so "José Núñez" in the export finds "jose nunez" in Slack. A name two people
share finds no one: guessing would send one of them someone else's work."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# A mention (`<@U123|dana>`, as Slack escapes one) or a bare id as Slack shows it (U0123ABCD).
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
BARE_ID = re.compile(r"^([UW][A-Z0-9]{8,})$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
PAGE = 200  # users.list page size Slack recommends


def fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().replace(".", " ").replace("_", " ").split())


def slack_id(owner: str) -> str | None:
    match = MENTION.match(owner.strip()) or BARE_ID.match(owner.strip())
    return match.group(1) if match else None


class People:
    """Resolves the owners named in one import. `client` is an AsyncWebClient, or None when no
    bot token is set: then only Slack ids and mentions are understood."""

    def __init__(self, client: Any | None = None) -> None:
        self.client = client
        self._by_name: dict[str, set[str]] | None = None
        self._by_email: dict[str, str] = {}
        self.notes: list[str] = []  # what a person should know about the matching

    async def resolve(self, owners: Iterable[str]) -> dict[str, str | None]:
        """{owner as written: Slack user id, or None when no one matches}."""
        found: dict[str, str | None] = {}
        for owner in owners:
            found[owner] = await self._one(owner)
        return found

    async def _one(self, owner: str) -> str | None:
        direct = slack_id(owner)
        if direct or self.client is None:
            return direct
        if EMAIL.match(owner):
            return await self._email(owner.lower())
        directory = await self._directory()
        ids = directory.get(fold(owner), set())
        return next(iter(ids)) if len(ids) == 1 else None

    async def _email(self, email: str) -> str | None:
        if email in self._by_email:
            return self._by_email[email]
        try:
            resp = await self.client.users_lookupByEmail(email=email)
            user = resp.get("user") or {}
            found = None if user.get("deleted") else user.get("id")
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error not in ("users_not_found", "user_not_found"):
                log.warning("users.lookupByEmail failed: %s", error)
                self._note(f"Slack refused to look people up by email ({error}).")
            found = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._note(
                f"Slack could not be reached ({exc.__class__.__name__}); nobody was matched."
            )
            found = None
        self._by_email[email] = found
        return found

    async def _directory(self) -> dict[str, set[str]]:
        if self._by_name is not None:
            return self._by_name
        names: dict[str, set[str]] = defaultdict(set)
        cursor: str | None = None
        try:
            while True:
                resp = await self.client.users_list(limit=PAGE, cursor=cursor or None)
                for user in resp.get("members") or []:
                    if user.get("deleted") or user.get("is_bot"):
                        continue
                    profile = user.get("profile") or {}
                    for name in (
                        user.get("real_name"),
                        user.get("name"),
                        profile.get("real_name"),
                        profile.get("display_name"),
                    ):
                        if name:
                            names[fold(name)].add(user["id"])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.warning("users.list failed: %s", error)
            self._note(f"Slack did not list its members ({error}); names could not be matched.")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._note(
                f"Slack could not be reached ({exc.__class__.__name__}); nobody was matched."
            )
        self._by_name = dict(names)
        return self._by_name

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)
