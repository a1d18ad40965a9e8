"""The kill loop, small: `python -m bot sweep` and `python -m bot` (HTTP mode, sweeping on its
scheduler as of CLOCK_FILE) SIGKILLed in turn at random moments through a Monday of DMs
batched per person, the managers' digest, and the edits that resolutions make, each post's
answer held after Slack took it so that kills land between Slack's ok and the record. Counted
at the stand-in: nothing lost, nothing twice. On a SQLite file, and on PostgreSQL where one is
given. The full loop (a week, over a hundred kills, the reconcile on and off) is
`python -m bot.bench.chaos`."""

import pytest

from bot.bench.chaos import Setting, run
from tests.conftest import POSTGRES_URL, needs_postgres

pytestmark = pytest.mark.slow

KILLS = 8


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=needs_postgres)])
def test_killed_sweeps_and_bots_lose_nothing_and_send_nothing_twice(tmp_path, database):
    url = POSTGRES_URL if database == "postgres" else None
    calm = Setting(reconcile=True, slow=0.0, database_url=url)
    _, expected, sends = run(tmp_path, 4, 0, calm, seed=1, instants=2)
    kinds = {kind for kind, _, _ in expected}
    assert {"dm", "digest"} <= kinds
    assert any(len(tasks) > 1 for kind, _, tasks in expected if kind == "dm")  # batched
    assert sends[1] > 0  # Monday afternoon's resolutions edit what was sent

    killed = tmp_path / "killed"
    killed.mkdir()
    result, _, _ = run(
        killed,
        4,
        KILLS,
        Setting(reconcile=True, slow=0.3, database_url=url),
        seed=7,
        per_phase=sends,
        expected=expected,
        instants=2,
    )
    assert result is not None
    print(result.line())
    assert result.kills == KILLS
    assert 0 < result.kills_serve < KILLS  # both kinds of process were killed
    assert (result.lost, result.doubled, result.unexpected, result.pending) == (0, 0, 0, 0)
    assert result.text_differs == 0  # every edit reached its message
    assert result.delivered == result.expected == sum(len(v) for v in expected.values())
