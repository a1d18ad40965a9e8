"""Owners found in Slack: by email through users.lookupByEmail, by name through users.list read
once a run page by page, blind to case and accents; a name two people share finds no one."""

from __future__ import annotations

from bot.importing.people import People, fold
from bot.monitor.gateway import make_client
from tests.conftest import TOKEN


async def test_names_are_matched_across_pages_once_per_run_without_case_or_accents(standin):
    for n in range(450):  # three pages of users.list at 200
        standin.add_user(f"UFILL{n:04d}", name=f"filler {n}")
    standin.add_user("UZZJOSE", name="josé núñez")
    client = make_client(TOKEN, standin.url)
    people = People(client)

    found = await people.resolve(["JOSE NUNEZ", "Dana", "Nobody Here"])
    again = await people.resolve(["jose nunez"])

    assert found == {"JOSE NUNEZ": "UZZJOSE", "Dana": "UDANA", "Nobody Here": None}
    assert again == {"jose nunez": "UZZJOSE"}
    assert len(standin.calls_to("users.list")) == 3  # every page, and only in the first run
    if client.session:
        await client.session.close()


async def test_emails_are_looked_up_and_a_shared_name_finds_no_one(standin):
    standin.set_email("ULEE", "lee@firm.example")
    standin.add_user("UDANA2", name="Dana")  # a second Dana
    client = make_client(TOKEN, standin.url)

    found = await People(client).resolve(["LEE@firm.example", "ghost@firm.example", "Dana"])

    assert found == {"LEE@firm.example": "ULEE", "ghost@firm.example": None, "Dana": None}
    assert [c.params["email"] for c in standin.calls_to("users.lookupByEmail")] == [
        "lee@firm.example",
        "ghost@firm.example",
    ]
    if client.session:
        await client.session.close()


def test_fold_drops_case_accents_and_punctuation_between_names():
    assert fold("  Zoë  O.Brien ") == fold("zoe o brien")
