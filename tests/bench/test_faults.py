"""Slack failing a fifth of all calls at random through a working week of alerts: nothing
lost, nothing doubled, nothing called inside a Retry-After, no call longer than the timeout."""

from __future__ import annotations

from bot.bench.faults import run


async def test_slack_failing_a_fifth_of_calls_loses_and_doubles_nothing(database_url):
    """On SQLite, and on PostgreSQL where one is given (`database_url`)."""
    counts = await run(
        tasks=24, people=6, rate=0.2, seed=3, slack_timeout=0.3, database_url=database_url
    )
    print("\n".join(counts.lines()))  # the counts, for the log of the run
    # The faults did happen, of every kind, some after Slack had applied the call.
    assert all(counts.faults[k] > 0 for k in ("429", "500", "503", "timeout", "reset"))
    assert counts.lost_after_effect > 0
    # Enough went out to mean something (how many posts depends on which DMs the faults held
    # back together into one: 37 to 50 in runs seen).
    assert counts.posts_expected > 30 and counts.edits_expected > 0
    assert counts.lost == 0 and counts.doubled == 0 and counts.unaccounted == 0
    assert counts.posts_at_slack == counts.posts_expected
    assert counts.edits_at_slack >= counts.edits_expected
    assert counts.inside_retry_after == 0
    assert counts.longest_call < counts.timeout + 0.1
