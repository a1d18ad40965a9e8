"""Bad rows are each named with their row and what to fix, and with any of them nothing is
stored, unless --skip-bad, which stores the good rows and lists the rest."""

from __future__ import annotations

import pytest

from bot.importing.source import BadFile
from tests.importing.helpers import FIXTURES, run_import, tasks_by_title

BAD = """id,title,due,progress,parent
1,Budget for Moss,2026-01-30,40,
2,,2026-01-30,0,
3,Forecast for Moss,31/31/2026,0,
4,Register Moss for VAT,,140,
5,Payroll for Moss,,0,99
6,Accounts for Nash,,0,7
7,Tax for Nash,,0,6
8,Filing for Nash,,0,1
"""


async def test_each_bad_row_is_named_with_what_to_fix_and_nothing_is_stored(engine, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD)
    prepared, done = await run_import(engine, sheet)

    refused = {r.where: r.reason for r in prepared.plan.refused}
    assert set(refused) == {"line 3", "line 4", "line 5", "line 6", "line 7", "line 8"}
    assert "no title" in refused["line 3"]
    assert "31/31/2026" in refused["line 4"] and "2026-03-14" in refused["line 4"]
    assert "140" in refused["line 5"] and "0 to 100" in refused["line 5"]
    assert "parent 99 is not in the file" in refused["line 6"]
    assert "cycle" in refused["line 7"] and "line 7 → line 8 → line 7" in refused["line 7"]
    assert done is None and tasks_by_title(engine) == {}


async def test_skip_bad_stores_the_good_rows(engine, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD)
    prepared, done = await run_import(engine, sheet, skip_bad=True)
    tasks = tasks_by_title(engine)
    assert set(tasks) == {"Budget for Moss", "Filing for Nash"}
    assert tasks["Filing for Nash"].parent_id == tasks["Budget for Moss"].id
    assert done.created == 2 and len(prepared.plan.refused) == 6


async def test_a_subtask_of_a_refused_row_is_refused_with_it(engine, tmp_path):
    sheet = tmp_path / "tree.csv"
    sheet.write_text("id,title,progress,parent\n1,Audit for Oak,140,\n2,Testing for Oak,0,1\n")
    prepared, _ = await run_import(engine, sheet)
    assert [(r.where, "line 2" in r.reason) for r in prepared.plan.refused] == [
        ("line 2", False),
        ("line 3", True),
    ]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("board.xlsx", b"title,owner\nA,B\n", "is not an Excel workbook"),
        ("board.json", b'{"tasks": []}', "not a Trello board export"),
        ("board.json", b'{"cards": [', "not valid JSON"),
        ("board.csv", b"\x00\x01\x02binary", "not a CSV file"),
        ("board.csv", b"", "is empty"),
    ],
)
async def test_a_file_that_is_not_what_it_claims_is_refused_whole(
    engine, tmp_path, name, content, said
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadFile, match=said):
        await run_import(engine, path)


async def test_from_a_tool_whose_columns_the_file_lacks(engine):
    with pytest.raises(BadFile, match="does not look like a jira export"):
        await run_import(engine, FIXTURES / "asana.csv", tool="jira")


async def test_map_names_the_columns_of_an_odd_sheet(engine, tmp_path):
    sheet = tmp_path / "odd.csv"
    sheet.write_text("Job,Who,When\nAccounts for Pym,<@UDANA>,2026-02-02\n")
    await run_import(engine, sheet, mapping={"Job": "title", "Who": "owner", "When": "due"})
    task = tasks_by_title(engine)["Accounts for Pym"]
    assert task.owner_id == "UDANA" and task.due_at is not None


async def test_two_rows_with_one_id_or_without_ids_one_title(engine, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text("id,title\n7,Budget\n7,Forecast\n")
    titles = tmp_path / "titles.csv"
    titles.write_text("title,owner\nBudget,\nBudget,\n")
    by_id, _ = await run_import(engine, ids, save=False)
    by_title, _ = await run_import(engine, titles, save=False)
    assert [str(r) for r in by_id.plan.refused] == [
        "line 3: its id 7 is also on line 2; each card needs its own id."
    ]
    assert [str(r) for r in by_title.plan.refused] == [
        "line 3: the same title is on line 2; without an id column, each title must differ."
    ]
