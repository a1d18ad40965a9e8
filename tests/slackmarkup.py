"""Find text Slack would act on that the bot did not mean: a `<` or `>` in mrkdwn that is not
part of a mention or link the bot made itself (`<!channel>`, `<title>`, a user's `<@U…>`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MARKUP = re.compile(r"<([^<>]*)>")
BOT_MADE = re.compile(r"^(@[UW][A-Z0-9]+|https://standin\.slack\.com/[^|\s]*(\|[^<>]*)?)$")


def stray(text: str, people: Iterable[str]) -> list[str]:
    """Markup in `text` that is not a mention of one of `people` or a link to a Slack message;
    and any bracket left over outside markup."""
    people = set(people)
    found = []
    for inner in MARKUP.findall(text):
        made = BOT_MADE.match(inner)
        if not made or (inner.startswith("@") and inner[1:] not in people):
            found.append(f"<{inner}>")
    rest = MARKUP.sub("", text)
    found += [c for c in rest if c in "<>"]
    return found


def mrkdwn_texts(thing: object) -> Iterator[str]:
    """Every string Slack reads as mrkdwn in a message, a reply or a view: `text` fallbacks
    and mrkdwn text objects (plain_text is shown as typed and never parsed)."""
    if isinstance(thing, dict):
        if thing.get("type") == "mrkdwn" and isinstance(thing.get("text"), str):
            yield thing["text"]
        elif thing.get("type") != "plain_text" and isinstance(thing.get("text"), str):
            yield thing["text"]  # a message's or a reply's fallback text
        for key, value in thing.items():
            if key != "text" or not isinstance(value, str):
                yield from mrkdwn_texts(value)
    elif isinstance(thing, list):
        for item in thing:
            yield from mrkdwn_texts(item)
