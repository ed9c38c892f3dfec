"""An action recorded in a policy's name that says something its decision did not decide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks.conftest import kam, position_of, rechain, state, url, write_state


def alter_policy_approval(demo: Path) -> int:
    """The price of the discount price_approval@1 approved (4% off 2,080,000, within Li Na's 5%)
    becomes 1,880,000.00: 9.6% off, above the floor, beyond her authority. Links recomputed."""
    [position] = position_of(demo, "Project.DiscountApproved", "price_approval@1")
    fields = state(demo, position)
    assert fields["price"]["_data_"]["amount"]["_data_"] == "1996800.00"
    fields["price"]["_data_"]["amount"]["_data_"] = "1880000.00"
    write_state(demo, position, fields)
    rechain(demo)
    return position


def test_replay_notices_a_policy_action_that_its_decision_did_not_decide(demo: Path) -> None:
    """A policy's approval whose price was edited (links recomputed) is a replay divergence."""
    alter_policy_approval(demo)
    result = kam("replay", "--store", url(demo))
    assert result.returncode == 3, result.stdout
    assert "0 diverged" not in result.stdout


@pytest.mark.xfail(
    strict=True,
    reason="open: the exceptions report re-derives the authority of members' approvals only; "
    "a policy's altered approval is caught by kam replay (actions' events differ)",
)
def test_exceptions_list_an_approved_price_beyond_the_approvers_authority(demo: Path) -> None:
    """A policy's approval edited beyond its approver's authority is listed by the report."""
    alter_policy_approval(demo)
    result = kam("audit", "exceptions", "--store", url(demo), "--format", "json")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert counts["approval_outside_authority"] + counts["policy_event_without_decision"] >= 1, (
        counts
    )


def test_replay_notices_a_policy_assignment_moved_to_another_kam_on_its_reason(demo: Path) -> None:
    """The reason written on the policy's KamAssigned is replaced: nothing downstream reads it,
    so the only witness is the decision, which says otherwise."""
    position = position_of(demo, "ClientAccount.KamAssigned", "assignment@1")[-1]
    fields = state(demo, position)
    fields["reason"] = "assigned by the sales director's instruction"
    write_state(demo, position, fields)
    rechain(demo)
    result = kam("replay", "--store", url(demo))
    assert result.returncode == 3, result.stdout
