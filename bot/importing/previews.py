"""Exports uploaded with `/task import`, waiting for their preview's button: kept in the
database for half an hour, so that whichever replica gets the click (or this one after a
restart) stores what was previewed. A click takes the export: a second click, anywhere, finds
nothing, and nothing is stored twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete

from bot.db import transaction
from bot.models import ImportPreview

KEEP = timedelta(minutes=30)


def keep(engine: Engine, *, user: str, name: str, content: bytes, now: datetime) -> str:
    """Keeps the export until `now` + KEEP; the key its preview's button carries."""
    key = uuid.uuid4().hex
    with transaction(engine) as session:
        session.execute(delete(ImportPreview).where(ImportPreview.expires_at < now))
        session.add(
            ImportPreview(key=key, user_id=user, name=name, content=content, expires_at=now + KEEP)
        )
    return key


def take(engine: Engine, key: str, *, user: str, now: datetime) -> tuple[str, bytes] | None:
    """The export's name and content, if `user` uploaded it and it has not expired; None
    otherwise. Taken: it is no longer kept."""
    with transaction(engine) as session:
        session.execute(delete(ImportPreview).where(ImportPreview.expires_at < now))
        found = session.get(ImportPreview, key)
        if found is None or found.user_id != user:
            return None
        name, content = found.name, found.content
        # Two clicks at once on two replicas both read it; only one deletes it.
        claimed = session.execute(delete(ImportPreview).where(ImportPreview.key == key))
        if claimed.rowcount != 1:
            return None
    return name, content
