"""Records as they stood at a moment: the as-of index agrees with replaying the history."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.errors import AccountNotFound, TeamNotFound, ValidationError
from kam_domain.ledger import IndexedRecorder
from kam_domain.testing.storage import state
from kam_domain.values import Percentage, Role
from tests.conftest import Org, key_account
from tests.support import T0, at, unchanged

HOUR = timedelta(hours=1)

#: Hours between one change and the next (0: the same moment), and the capacity it sets.
steps = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40)), min_size=1, max_size=8)
#: Moments asked about, in hours after the team was formed (some before it, some long after).
probes = st.lists(st.integers(-2, 30), min_size=1, max_size=8)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@given(changes=steps, moments=probes, joins=st.booleans())
def test_as_of_a_moment_equals_replaying_the_events_up_to_it(
    backend: str, changes: list[tuple[int, int]], moments: list[int], joins: bool
) -> None:
    """For any history and moment, get_team(at=) is the team rebuilt from events not later."""
    with tempfile.TemporaryDirectory() as folder:
        url = "memory://" if backend == "memory" else f"sqlite:///{Path(folder) / 'kam.db'}"
        app = KamApplication(url, run_policies=False)
        try:
            team_id, director = app.form_team(
                name="T",
                segment="s",
                region="r",
                director_name="D",
                top_authority=Percentage.of(10),
                at=T0,
            )
            moment = T0
            for hours, capacity in changes:
                moment += hours * HOUR
                app.set_capacity(team_id, director, director, capacity=capacity, at=moment)
                if joins and capacity % 3 == 0:
                    app.add_member(
                        team_id,
                        director,
                        name=f"M{capacity}",
                        role=Role.TECHNICAL_SUPPORT,
                        at=moment,
                    )
            history = list(app.events.get(team_id))
            index = app.recorder
            assert isinstance(index, IndexedRecorder)

            for offset in moments:
                probe = T0 + offset * HOUR
                prefix = [event for event in history if event.timestamp <= probe]
                assert history[: len(prefix)] == prefix  # each history is in time order
                if not prefix:
                    with unchanged(app), pytest.raises(TeamNotFound):
                        app.get_team(team_id, at=probe)
                    continue
                replayed = None
                for event in prefix:
                    replayed = event.mutate(replayed)
                assert state(app.get_team(team_id, at=probe)) == state(replayed)
                assert index.version_at(team_id, probe) == prefix[-1].originator_version
        finally:
            app.close()


def test_every_aggregate_answers_as_of_a_moment(app: KamApplication, org: Org) -> None:
    """Accounts answer at= like teams; before their first event they are not found."""
    account = key_account(app, org, "As Of Telecom", when=at(1))
    app.assign_kam(account, org.director, org.kam2, reason="rebalanced", at=at(5))

    before = app.get_account(account, at=at(4))
    after = app.get_account(account, at=at(5))

    assert before.kam_id == org.kam
    assert after.kam_id == org.kam2
    with unchanged(app), pytest.raises(AccountNotFound):
        app.get_account(account, at=at(0))


def test_as_of_is_looked_up_in_the_index(app: KamApplication, org: Org) -> None:
    """On every built-in backend the recorder keeps the index the facade looks up."""
    recorder = app.recorder
    assert isinstance(recorder, IndexedRecorder)

    found = recorder.version_at(org.team_id, T0)

    assert found == app.get_team(org.team_id).version


def test_a_moment_must_be_timezone_aware_and_alone(app: KamApplication, org: Org) -> None:
    """A naive moment, or a moment with a version, is a ValidationError naming ``at``."""
    with unchanged(app), pytest.raises(ValidationError, match=r"^at: "):
        app.get_team(org.team_id, at=T0.replace(tzinfo=None))
    with unchanged(app), pytest.raises(ValidationError, match=r"^at: "):
        app.get_team(org.team_id, version=1, at=T0)
