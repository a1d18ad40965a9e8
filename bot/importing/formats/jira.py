"""Jira: issues exported from the issue navigator as CSV (Export › CSV (all fields)).

Columns: Summary, Issue key, Issue id, Parent id (the parent's Issue id), Issue Type, Status,
Assignee, Due date, Description, Progress, Created, Updated, Resolution; dates such as
`14/Mar/26 5:00 PM`. Sources: Atlassian's note on keeping parent links through a CSV round
trip (Issue ID, and the parent column pointing at it),
https://support.atlassian.com/jira/kb/keep-issue-parent-child-mapping-during-csv-import-to-jira-cloud/ ,
and Jira's issue fields (key, summary, assignee, status, due date, resolution) as its data
export documents them,
https://confluence.atlassian.com/adminjiraserver0818/data-pipeline-export-schema-1082267378.html
"""

from __future__ import annotations

from bot.importing.formats.common import column_map, has_columns, table_cards

NAME = "jira"
KIND = "table"
PARENT_BY = "id"
COLUMNS = {
    "id": ("Issue id",),
    "title": ("Summary",),
    "description": ("Description",),
    "owner": ("Assignee",),
    "due": ("Due date", "Due Date"),
    "progress": ("Progress", "Σ Progress"),
    "status": ("Status",),
    "parent": ("Parent id", "Parent"),
}


def detect(columns: set[str]) -> bool:
    return has_columns(columns, "Summary", "Issue key", "Issue id")


def cards(table, overrides=None):  # type: ignore[no-untyped-def]
    return table_cards(table, column_map(table.columns, COLUMNS, overrides))
