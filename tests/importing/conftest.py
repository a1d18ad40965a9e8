from __future__ import annotations

import pytest

from bot.monitor.gateway import make_client
from tests.conftest import TOKEN


@pytest.fixture
async def slack(standin):
    """The stand-in's people with their emails, and one whose name has accents in exports."""
    standin.set_email("UDANA", "dana@firm.example")
    standin.set_email("ULEE", "lee@firm.example")
    standin.add_user("UJOSE", name="jose nunez", tz="Europe/Madrid")
    client = make_client(TOKEN, standin.url)
    yield client
    if client.session:
        await client.session.close()
