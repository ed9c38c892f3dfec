"""Coverage: a key account whose KAM has no active cross-trained backup is flagged, once."""

from __future__ import annotations

from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.team import TrainingKind
from kam_domain.application import KamApplication
from kam_domain.policies import Decision
from kam_domain.policies.assignment import AssignmentPolicy
from kam_domain.policies.coverage import CoverageGap, CoveragePolicy, open_gaps
from kam_domain.policies.records import PolicyDecision
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import AccountId, Actor, MemberId, Role, Tier
from tests.conftest import STRATEGIES, build_org
from tests.policies.team_story import Story
from tests.support import T0


def _story() -> tuple[Story, MemberId, MemberId]:
    story = Story(CoveragePolicy())
    return story, story.kam("Li"), story.kam("Chen")


def test_flags_a_key_account_whose_kam_has_no_backup() -> None:
    """Assigning a KAM without a designated backup opens a gap, flagged with no actions."""
    story, li, _ = _story()
    account = story.key_account("Acme", Tier.MAJOR)

    decision = story.assign(account, li)

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.actions == ()
    assert decision.reason == "no active cross-trained backup covers the KAM of Acme"
    assert decision.inputs["opened"] == f"[{account}/{li}]"
    assert decision.inputs["closed"] == "[]"
    assert decision.inputs[f"gap {account}/{li}"] == (
        f"{{name: Acme, kam: {li}, kam_name: Li, backup: none, backup_active: n/a, "
        "cross_trained: n/a, gap: open}"
    )


def test_does_not_flag_a_kam_covered_by_a_cross_trained_backup() -> None:
    """A KAM whose active backup is cross-trained for them leaves nothing to flag."""
    story, li, chen = _story()
    story.backup(li, chen)
    story.train(chen, covers=li)
    account = story.key_account("Acme", Tier.MAJOR)

    decision = story.assign(account, li)

    assert decision is None


def test_a_backup_without_cross_training_still_leaves_the_gap_open() -> None:
    """Designating an untrained backup changes nothing: the gap is not flagged again."""
    story, li, chen = _story()
    account = story.key_account("Acme", Tier.MAJOR)
    flagged = story.assign(account, li)

    decision = story.backup(li, chen)

    assert flagged is not None
    assert flagged.outcome == "flag"
    assert decision is None


def test_training_the_backup_closes_the_gap_with_an_unflag() -> None:
    """Cross-training the designated backup records an unflag naming the closed gap."""
    story, li, chen = _story()
    account = story.key_account("Acme", Tier.MAJOR, kam=li)
    story.backup(li, chen)

    decision = story.train(chen, covers=li)

    assert decision is not None
    assert decision.outcome == "unflag"
    assert decision.reason == "coverage gap closed for Acme: closed: covered by Chen"
    assert decision.inputs["opened"] == "[]"
    assert decision.inputs["closed"] == f"[{account}/{li}]"
    assert decision.inputs[f"gap {account}/{li}"].endswith("gap: closed: covered by Chen}")


def test_training_a_member_who_is_not_the_backup_changes_nothing() -> None:
    """Cross-training someone other than the designated backup does not cover the KAM."""
    story, li, chen = _story()
    zhao = story.kam("Zhao")
    story.key_account("Acme", Tier.MAJOR, kam=li)
    story.backup(li, chen)

    decision = story.train(zhao, covers=li)

    assert decision is None


def test_designating_an_already_trained_backup_closes_the_gap() -> None:
    """A backup trained beforehand covers the KAM from the moment they are designated."""
    story, li, chen = _story()
    account = story.key_account("Acme", Tier.MAJOR, kam=li)
    story.train(chen, covers=li)

    decision = story.backup(li, chen)

    assert decision is not None
    assert decision.outcome == "unflag"
    assert decision.inputs["closed"] == f"[{account}/{li}]"


def test_a_backup_leaving_reopens_the_gap() -> None:
    """When the backup leaves, the KAM's accounts are flagged again: a new uncovered state."""
    story, li, chen = _story()
    account = story.key_account("Acme", Tier.MAJOR, kam=li)
    story.backup(li, chen)
    story.train(chen, covers=li)

    decision = story.leave(chen)

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.inputs[f"gap {account}/{li}"] == (
        f"{{name: Acme, kam: {li}, kam_name: Li, backup: {chen}, backup_active: no, "
        "cross_trained: yes, gap: open}"
    )


def test_flags_each_account_and_kam_once() -> None:
    """A second uncovered account of the same KAM is flagged alone; the first is not repeated."""
    story, li, chen = _story()
    first = story.key_account("A", Tier.MAJOR, kam=li)
    second = story.key_account("B", Tier.MAJOR)

    decision = story.assign(second, li)

    assert decision is not None
    assert decision.inputs["opened"] == f"[{second}/{li}]"
    assert f"gap {first}/{li}" not in decision.inputs
    assert story.train(chen, covers=None) is None


def test_a_new_kam_closes_one_gap_and_opens_another() -> None:
    """Moving an account between two uncovered KAMs closes the old pair and flags the new one."""
    story, li, chen = _story()
    account = story.key_account("Acme", Tier.MAJOR, kam=li)

    decision = story.assign(account, chen)

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.inputs["opened"] == f"[{account}/{chen}]"
    assert decision.inputs["closed"] == f"[{account}/{li}]"
    assert decision.reason.endswith("; closed: Acme")
    assert decision.inputs[f"gap {account}/{chen}"].endswith("gap: open}")
    assert decision.inputs[f"gap {account}/{li}"].endswith(f"the KAM is now {chen}}}")


def test_moving_an_account_to_a_covered_kam_closes_its_gap() -> None:
    """An account given to a covered KAM has its gap closed, naming the new KAM."""
    story, li, chen = _story()
    zhao = story.kam("Zhao")
    story.backup(chen, zhao)
    story.train(zhao, covers=chen)
    account = story.key_account("Acme", Tier.MAJOR, kam=li)

    decision = story.assign(account, chen)

    assert decision is not None
    assert decision.outcome == "unflag"
    assert f"closed: the KAM is now {chen}" in decision.reason


def test_an_account_that_stops_being_key_closes_its_gap() -> None:
    """Undesignation ends the gap: the exceptions report must not keep it open."""
    story, li, _ = _story()
    account = story.key_account("Acme", Tier.MAJOR, kam=li)

    decision = story.undesignate(account)

    assert decision is not None
    assert decision.outcome == "unflag"
    assert "closed: no longer a key account" in decision.reason
    assert decision.inputs["closed"] == f"[{account}/{li}]"


def test_decides_the_same_twice_on_the_same_world() -> None:
    """Deciding again about the same event gives an equal decision."""
    story, li, _ = _story()
    account = story.key_account("Acme", Tier.MAJOR)
    story.assign(account, li)

    first = story.policy.decide(story.last[-1], story.scenario.world)
    second = story.policy.decide(story.last[-1], story.scenario.world)

    assert first is not None
    assert first == second


def test_open_gaps_reads_flags_and_unflags_in_order() -> None:
    """The report helper keeps gaps flagged and not closed since, in the order opened."""
    account, other = AccountId(uuid4()), AccountId(uuid4())
    li, chen = MemberId(uuid4()), MemberId(uuid4())
    decisions = [
        _recorded("flag", opened=[f"{account}/{li}", f"{other}/{li}"], closed=[]),
        _recorded("flag", opened=[f"{account}/{chen}"], closed=[f"{account}/{li}"]),
    ]

    gaps = open_gaps(decisions)

    assert gaps == [CoverageGap(other, li), CoverageGap(account, chen)]


# -- properties ---------------------------------------------------------------------------------

_steps = st.lists(
    st.tuples(
        st.sampled_from(["assign", "backup", "train", "leave", "undesignate"]),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    max_size=25,
)


@given(steps=_steps)
def test_flags_and_unflags_add_up_to_the_uncovered_accounts(
    steps: list[tuple[str, int, int]],
) -> None:
    """Over random histories, the gaps left open by the decisions are exactly the key accounts
    whose KAM is not covered, and no decision opens a gap already open or closes one not open."""
    story = Story(CoveragePolicy())
    for name in ("Li", "Chen", "Zhao", "Qian"):
        story.kam(name)
    accounts = [story.key_account(name, Tier.MAJOR) for name in ("A", "B", "C")]
    decisions: list[Decision] = []

    for step, i, j in steps:
        active = [m.member_id for m in story.team.active_members(Role.KEY_ACCOUNT_MANAGER)]
        if len(active) < 2:
            break
        kam, other = active[i % len(active)], active[j % len(active)]
        account = story.accounts[accounts[i % len(accounts)]]
        decision: Decision | None = None
        if step == "assign" and account.is_key and account.kam_id != kam:
            decision = story.assign(AccountId(account.id), kam)
        elif step == "backup" and kam != other:
            decision = story.backup(kam, other)
        elif step == "train" and kam != other:
            decision = story.train(other, covers=kam)
        elif step == "leave" and len(active) > 2:
            decision = story.leave(kam)
        elif step == "undesignate" and account.is_key:
            decision = story.undesignate(AccountId(account.id))
        if decision is not None:
            decisions.append(decision)

    records = [_recorded(d.outcome, decision=d) for d in decisions]
    assert set(open_gaps(records)) == _uncovered(story)
    seen: set[str] = set()
    for decision in decisions:
        opened = _items(decision.inputs["opened"])
        closed = _items(decision.inputs["closed"])
        assert not opened & seen
        assert closed <= seen
        seen = (seen - closed) | opened


# -- helpers ------------------------------------------------------------------------------------


def _uncovered(story: Story) -> set[CoverageGap]:
    gaps = set()
    for account in story.accounts.values():
        if account.is_key and account.kam_id is not None:
            kam = story.team.members[account.kam_id]
            covered = kam.backup_id is not None and story.team.is_cross_trained(
                kam.backup_id, account.kam_id
            )
            if not covered:
                gaps.add(CoverageGap(AccountId(account.id), account.kam_id))
    return gaps


def _items(text: str) -> set[str]:
    inner = text.strip("[]")
    return {item.strip() for item in inner.split(",") if item.strip()}


def _recorded(
    outcome: str,
    *,
    opened: list[str] | None = None,
    closed: list[str] | None = None,
    decision: Decision | None = None,
) -> PolicyDecision:
    """A decision as the engine records it (only what :func:`open_gaps` reads matters)."""
    if decision is None:
        decision = Decision(outcome, "test", {"opened": opened or [], "closed": closed or []})
    return PolicyDecision.make(
        Meta.command(Actor.policy("coverage", 1), at=T0),
        policy="coverage",
        version=1,
        cause_id=uuid4(),
        cause_position=1,
        cause_topic="test",
        basis_position=1,
        outcome=decision.outcome,
        reason=decision.reason,
        inputs=decision.inputs,
        actions=(),
        refusal=None,
    )


# -- through the application --------------------------------------------------------------------


def test_the_application_flags_and_closes_coverage_gaps(store: str) -> None:
    """Embedded, beside assignment: a gap is flagged once and closed when the backup is trained."""
    app = KamApplication(store, policies=PolicyRegistry([AssignmentPolicy, CoveragePolicy]))
    org = build_org(app)
    account = app.register_account(
        org.team_id, org.director, name="Acme", industry="telecom", region="east", at=T0
    )
    app.designate_key_account(account, org.director, tier=Tier.MAJOR, strategies=STRATEGIES, at=T0)
    app.designate_backup(org.team_id, org.director, org.kam, backup_id=org.kam2, at=T0)
    flagged = open_gaps(app.decisions("coverage"))

    app.record_training(
        org.team_id,
        org.admin,
        org.kam2,
        kind=TrainingKind.BACKUP,
        skill="the Acme account",
        covers_member_id=org.kam,
        at=T0,
    )

    assert flagged == [CoverageGap(AccountId(account), org.kam)]
    assert [d.outcome for d in app.decisions("coverage")] == ["flag", "unflag"]
    assert open_gaps(app.decisions("coverage")) == []
    app.close()
