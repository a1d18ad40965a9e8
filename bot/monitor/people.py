"""People as Slack describes them: their time zone, whether they left, and whether their
status says they are away (product.md §3, "People who are away").

An owner is away while their status emoji is one of `AWAY_EMOJI`, or its text says so
(`AWAY_WORDS`, in any case), until the status expires. While away they get no DMs from Vigil,
their stall clock does not run, and a case of theirs that needs someone goes to the managers,
saying until when. What `users.info` says is cached in `slack_user`; the `user_change` event
keeps it current, and tells at once that someone was deactivated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session

from bot.models import LIVE_STATUSES, SlackUser, Task

AWAY_EMOJI = frozenset(
    {":palm_tree:", ":airplane:", ":face_with_thermometer:", ":beach_with_umbrella:"}
)
AWAY_WORDS = re.compile(r"\b(ooo|out of (the )?office|vacation|holiday|on leave|sick)\b", re.I)


@dataclass(frozen=True)
class Person:
    """What Slack says of one user, as Vigil needs it."""

    id: str
    tz: str | None = None
    name: str | None = None
    deleted: bool = False
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0  # unix seconds; 0: no expiry

    @classmethod
    def from_slack(cls, user: dict) -> Person:
        """From a user object as `users.info` returns it and `user_change` carries it."""
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        expiration = profile.get("status_expiration") or 0
        return cls(
            id=str(user.get("id") or ""),
            tz=user.get("tz") if isinstance(user.get("tz"), str) else None,
            name=user.get("real_name") or user.get("name"),
            deleted=bool(user.get("deleted")),
            status_text=str(profile.get("status_text") or ""),
            status_emoji=str(profile.get("status_emoji") or ""),
            status_expiration=expiration if isinstance(expiration, int) else 0,
        )

    def away_until(self, now: datetime) -> tuple[bool, datetime | None]:
        """(away now, until when: None for a status with no expiry)."""
        away = self.status_emoji in AWAY_EMOJI or bool(AWAY_WORDS.search(self.status_text))
        until = (
            datetime.fromtimestamp(self.status_expiration, UTC) if self.status_expiration else None
        )
        if not away or (until is not None and until <= now):
            return False, None
        return True, until

    def status(self) -> str | None:
        shown = " ".join(p for p in (self.status_emoji, self.status_text) if p)
        return shown or None


def record(session: Session, person: Person, now: datetime) -> bool:
    """Store what Slack said of `person`. When it changes what the rules see (they left, they
    went away or came back), their open tasks are looked at again at the next sweep. Returns
    whether it did."""
    row = session.get(SlackUser, person.id) or SlackUser(id=person.id, fetched_at=now)
    away, until = person.away_until(now)
    was_away = row.away_from is not None and (row.away_until is None or row.away_until > now)
    before = (row.deleted, was_away, row.away_until)
    row.tz, row.name, row.deleted, row.fetched_at = person.tz, person.name, person.deleted, now
    row.status = person.status()
    if away:
        if not was_away:
            row.away_from = now
        row.away_until = until
    elif was_away:
        row.away_until = now  # back: the spell ends here, and its days still do not count
    session.add(row)
    changed = before != (row.deleted, away, row.away_until if away else before[2])
    if changed:
        session.execute(
            update(Task)
            .where(Task.owner_id == person.id, Task.status.in_(LIVE_STATUSES))
            .values(next_check_at=now)
        )
    return changed


def away_until(row: SlackUser | None, now: datetime) -> tuple[bool, datetime | None]:
    """Whether the cached person is away at `now`, and until when (None: no end given)."""
    if row is None or row.away_from is None or row.away_from > now:
        return False, None
    if row.away_until is not None and row.away_until <= now:
        return False, None
    return True, row.away_until
