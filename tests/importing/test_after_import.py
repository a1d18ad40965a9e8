"""After an import the monitor judges the imported tasks like any other: a card that came in at
40% and then sat for a week is flagged to its owner; one without an owner asks for one."""

from __future__ import annotations

from bot.monitor.sweep import run_sweep
from tests.conftest import london
from tests.importing.helpers import FIXTURES, run_import, tasks_by_title


def dms_to(standin, user):
    channel = standin.dm_channel(user)
    return standin.messages(channel) if channel else []


async def test_an_imported_task_sitting_at_40_percent_for_a_week_is_flagged(
    monitor, standin, engine, slack
):
    await run_import(engine, FIXTURES / "monday.xlsx", slack)  # Monday 5 January, 09:00
    vat = tasks_by_title(engine)["VAT return for Gale"]
    assert (vat.owner_id, vat.progress) == ("UDANA", 40)

    # The same morning: the card whose owner Slack does not know asks its creator for one.
    await run_sweep(monitor, london("2026-01-05T10:00"))
    ives = tasks_by_title(engine)["Accounts for Ives"]
    [asked] = dms_to(standin, "UMARCUS")
    assert f"#{ives.id}" in asked.text and "no owner" in asked.text
    assert dms_to(standin, "UDANA") == []  # 40% on the day it came in: nothing to say

    await run_sweep(monitor, london("2026-01-12T09:30"))  # a week on, nothing reported

    dms = dms_to(standin, "UDANA")
    assert len(dms) == 1
    assert f"#{vat.id}" in dms[0].text and "no progress" in dms[0].text and "40%" in dms[0].text


async def test_pages_of_a_large_file_import_whole_and_once(engine, tmp_path):
    rows = ["id,title,parent,progress"]
    for n in range(1, 1201):  # more than two pages of 500, subtasks after their parents' pages
        parent = str(n - 600) if n > 600 else ""
        rows.append(f"{n},Task {n},{parent},{n % 100}")
    sheet = tmp_path / "big.csv"
    sheet.write_text("\n".join(rows) + "\n")

    _, done = await run_import(engine, sheet)
    again, second = await run_import(engine, sheet)

    tasks = tasks_by_title(engine)
    assert (done.created, second.created, second.unchanged, len(tasks)) == (1200, 0, 1200, 1200)
    assert tasks["Task 1000"].parent_id == tasks["Task 400"].id
