"""Text as Slack sends it, made plain, and plain text made safe to show.

Slack sends what people type with `&`, `<` and `>` escaped, and with mentions, channels and
links as `<...>` markup (`<@U123|dana>`, `<#C1|general>`, `<!here>`, `<https://x|label>`).
Vigil stores what a person would read (`@dana`, `#general`, `@here`), and escapes it again,
once, whenever it shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.slack.blocks import escape

MARKUP = re.compile(r"<([^<>]*)>")
USER_MENTION = re.compile(r"^@([UW][A-Z0-9]+)(?:\|(.*))?$")
# Control characters but tab and newline, the Unicode line separators, and the byte-order mark.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def unescape(text: str) -> str:
    """Slack's three entities back to the characters typed (`&amp;` last, so `&amp;lt;` stays
    the text `&lt;` as typed)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_markup(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    user = USER_MENTION.match(inner)
    if user:
        name = user.group(2) or names.get(user.group(1)) or user.group(1)
        return "@" + name.lstrip("@")
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|fallback>: the words, no ping.
        word = label or target[1:].split("^")[0]
        return word if word.startswith("@") or target.startswith("!date") else "@" + word
    if label and label != target:
        return f"{label} ({target})"
    return target


def plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """What a person reads: markup turned into words (`@dana`, `#general`, `@here`, a link's
    label and address), entities unescaped, control characters removed. `names` gives a name
    for a mention that arrived without one."""
    names = names or {}
    # Odd pieces are the insides of <...>; each piece is unescaped once, on its own.
    pieces = MARKUP.split(text)
    return clean(
        "".join(
            _plain_markup(unescape(piece), names) if i % 2 else unescape(piece)
            for i, piece in enumerate(pieces)
        )
    )


def clean(text: str) -> str:
    """No NUL or other control characters: they break storage and display, and nobody means
    to type them. Tabs and newlines stay."""
    return CONTROL.sub("", text)


def shown(text: str) -> str:
    """Slack-encoded text, echoed back in a message: plain, then escaped exactly once."""
    return escape(plain(text))


def mentioned_users(text: str) -> list[str]:
    """User ids mentioned in Slack-encoded text, in order, each once."""
    seen: list[str] = []
    for inner in MARKUP.findall(text):
        user = USER_MENTION.match(inner)
        if user and user.group(1) not in seen:
            seen.append(user.group(1))
    return seen
