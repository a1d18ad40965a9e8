"""Trello: a board exported as JSON (board menu › Print, export and share › Export as JSON).

The document holds the board's `cards` (id, name, desc, closed, idList, idMembers, due,
dueComplete, url, shortUrl, shortLink), its `lists` (id, name, closed), `members` (id,
fullName, username) and `checklists` (idCard, checkItems with state complete/incomplete).
Sources: the card's fields at https://schemas.apis.io/schemas/trello/trello-card/ and the
board's cards, checklists (items with their states) and lists as
https://docs.coupler.io/sources/category/project-management/trello-community/data-overview
describes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.importing.card import RawCard, text

NAME = "trello"
KIND = "json"
PARENT_BY = "id"


def detect(keys: set[str]) -> bool:
    return {"cards", "lists"} <= keys


def cards(board: dict[str, Any], overrides=None) -> Iterator[RawCard]:  # type: ignore[no-untyped-def]
    lists = {x.get("id"): x for x in board.get("lists") or [] if isinstance(x, dict)}
    members = {
        m.get("id"): m.get("fullName") or m.get("username")
        for m in board.get("members") or []
        if isinstance(m, dict)
    }
    ticks: dict[str, tuple[int, int]] = {}
    for checklist in board.get("checklists") or []:
        items = checklist.get("checkItems") or []
        done, total = ticks.get(checklist.get("idCard"), (0, 0))
        done += sum(1 for i in items if i.get("state") == "complete")
        ticks[checklist.get("idCard")] = (done, total + len(items))
    for card in board.get("cards") or []:
        if not isinstance(card, dict):
            continue
        column = lists.get(card.get("idList")) or {}
        owners = [members.get(m) for m in card.get("idMembers") or [] if members.get(m)]
        ref = text(card.get("id"))
        yield RawCard(
            ref=ref,
            where=f"card {card.get('shortLink') or ref} “{text(card.get('name'))[:40]}”",
            title=card.get("name"),
            description=card.get("desc"),
            link=card.get("shortUrl") or card.get("url"),
            owner=owners[0] if owners else None,
            due=card.get("due"),
            checklist=ticks.get(ref),
            status=column.get("name"),  # the list a card sits in is its status on a board
            closed=bool(card.get("closed") or column.get("closed") or card.get("dueComplete")),
        )
