"""Assignment: one accountable KAM per key account, lowest tier-weighted load under capacity."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.team import TierWeights
from kam_domain.application import KamApplication
from kam_domain.errors import InvalidTransition, MemberInactive
from kam_domain.policies import Decision
from kam_domain.policies.assignment import AssignKam, AssignmentPolicy, AssignmentPolicyV2
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import AccountId, MemberId, Role, Tier
from tests.conftest import STRATEGIES, Org, build_org
from tests.policies.team_story import Story, TeamContext
from tests.support import T0, unchanged

# -- designation --------------------------------------------------------------------------------


def test_gives_a_new_key_account_to_the_least_loaded_kam() -> None:
    """A key account without a KAM goes to the KAM with the lowest tier-weighted load."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("Busy", Tier.MAJOR, kam=li)
    account = story.register("Acme")

    decision = story.designate(account, Tier.STRATEGIC)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert "Chen, the KAM with room and the lowest load (load 0 of 12)" in decision.reason
    assert decision.inputs[f"kam {li}"] == (
        "{name: Li, load: 2, capacity: 12, accounts: 1, backup: no}"
    )
    assert decision.inputs[f"kam {chen}"] == (
        "{name: Chen, load: 0, capacity: 12, accounts: 0, backup: no}"
    )
    assert decision.inputs[f"account {account}"] == (
        f"{{name: Acme, tier: strategic, weight: 3, from: none, to: {chen}, via: lowest load}}"
    )
    assert decision.inputs["over_capacity"] == "none"
    assert [type(action) for action in decision.actions] == [AssignKam]


def test_assignment_makes_the_chosen_kam_accountable_as_the_policy() -> None:
    """Carrying out the decision records the KAM, the reason and the deciding policy version."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    account = story.register("Acme")
    decision = story.designate(account, Tier.MAJOR)

    story.carry_out(decision)

    record = story.accounts[account]
    assert record.accountable_kam == li
    assignment = record.assignment_history[-1]
    assert assignment.decided_by == "policy:assignment@1"
    assert assignment.reason.startswith("Acme designated a major key account: Acme (weight 2)")


def test_breaks_equal_loads_by_fewest_accounts() -> None:
    """Between equal loads, the KAM carrying fewer accounts is chosen."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    for name in ("A", "B", "C"):
        story.key_account(name, Tier.STANDARD, kam=li)
    story.key_account("D", Tier.STRATEGIC, kam=chen)
    account = story.register("Acme")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"


def test_breaks_equal_loads_and_counts_by_who_joined_first() -> None:
    """Between equal loads and account counts, the KAM who joined the team first is chosen."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("A", Tier.MAJOR, kam=chen)
    story.key_account("B", Tier.MAJOR, kam=li)
    account = story.register("Acme")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {li}"


def test_skips_a_less_loaded_kam_without_room_for_the_account() -> None:
    """A KAM whose load plus the account's weight exceeds their capacity is passed over."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li", capacity=3), story.kam("Chen")
    story.key_account("A", Tier.STANDARD, kam=li)
    story.key_account("B", Tier.MAJOR, kam=chen)
    account = story.register("Acme")

    decision = story.designate(account, Tier.STRATEGIC)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert decision.inputs[f"kam {li}"] == (
        "{name: Li, load: 1, capacity: 3, accounts: 1, backup: no}"
    )


def test_assigns_over_capacity_when_no_kam_has_room() -> None:
    """With every KAM full, the least-loaded still takes the account and the reason says so."""
    story = Story(AssignmentPolicy(), default_capacity=2)
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("A", Tier.MAJOR, kam=li)
    story.key_account("B", Tier.STANDARD, kam=chen)
    account = story.register("Acme")

    decision = story.designate(account, Tier.MAJOR)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert "over capacity" in decision.reason
    assert "least-loaded KAM Chen (load 1 of 2)" in decision.reason
    assert decision.inputs["over_capacity"] == f"[{account}]"
    story.carry_out(decision)
    assert story.accounts[account].accountable_kam == chen


def test_flags_a_key_account_when_the_team_has_no_kam() -> None:
    """With no active KAM on the team the decision is a flag that changes nothing."""
    story = Story(AssignmentPolicy())
    story.join("Sun", Role.KEY_ACCOUNT_REPRESENTATIVE)
    account = story.register("Acme")

    decision = story.designate(account, Tier.MAJOR)

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.actions == ()
    assert "has no active KAM: Acme stay without one" in decision.reason
    assert decision.inputs["unassigned"] == f"[{account}]"


def test_respects_a_kam_already_serving_a_redesignated_account() -> None:
    """Changing the tier of an account whose KAM serves decides nothing: that KAM stays."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    story.kam("Chen")
    story.key_account("Other", Tier.STRATEGIC, kam=li)
    account = story.key_account("Acme", Tier.STANDARD, kam=li)

    decision = story.designate(account, Tier.MAJOR)

    assert decision is None


def test_reassigns_a_redesignated_account_whose_kam_has_left() -> None:
    """An account whose KAM no longer serves is treated as without a KAM on redesignation."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    account = story.key_account("Acme", Tier.STANDARD, kam=li)
    story.leave(li)

    decision = story.designate(account, Tier.MAJOR)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert decision.inputs[f"account {account}"].startswith(
        f"{{name: Acme, tier: major, weight: 2, from: {li}, to: {chen}"
    )


def test_uses_the_team_tier_weights() -> None:
    """The load is weighted by the team's own tier weights."""
    story = Story(AssignmentPolicy())
    story.set_tier_weights(TierWeights(strategic=10, major=1, standard=1))
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("A", Tier.STRATEGIC, kam=li)
    for name in ("B", "C"):
        story.key_account(name, Tier.MAJOR, kam=chen)
    account = story.register("Acme")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert decision.inputs["tier_weights"] == "{strategic: 10, major: 1, standard: 1}"


def test_does_nothing_when_an_account_stops_being_key() -> None:
    """Undesignation releases the KAM by itself: the policy has nothing to decide."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    account = story.key_account("Acme", Tier.MAJOR, kam=li)

    decision = story.undesignate(account)

    assert decision is None


# -- departure ----------------------------------------------------------------------------------


def test_moves_a_departing_kams_accounts_to_their_backup() -> None:
    """A KAM who leaves hands each key account to their backup while the backup has room."""
    story = Story(AssignmentPolicy())
    li, chen, zhao = story.kam("Li"), story.kam("Chen"), story.kam("Zhao")
    story.key_account("Busy", Tier.STRATEGIC, kam=chen)
    first = story.key_account("A", Tier.MAJOR, kam=li)
    second = story.key_account("B", Tier.STANDARD, kam=li)
    story.backup(li, chen)

    decision = story.leave(li)

    assert decision is not None
    assert decision.outcome == "assign 2 accounts"
    assert decision.reason.startswith("Li left the team: 2 key accounts move: ")
    assert "A to Chen (backup); B to Chen (backup)" in decision.reason
    assert decision.inputs["backup"] == str(chen)
    assert decision.inputs[f"kam {chen}"] == (
        "{name: Chen, load: 3, capacity: 12, accounts: 1, backup: yes}"
    )
    assert decision.inputs[f"kam {zhao}"].endswith("backup: no}")
    assert [action.aggregate_id for action in decision.actions] == [first, second]
    story.carry_out(decision)
    assert story.accounts[first].accountable_kam == chen
    assert story.accounts[second].accountable_kam == chen


def test_moves_to_the_least_loaded_kam_once_the_backup_is_full() -> None:
    """Accounts the backup has no room for go to the least-loaded KAM with room."""
    story = Story(AssignmentPolicy())
    li, chen, zhao = story.kam("Li"), story.kam("Chen", capacity=3), story.kam("Zhao")
    first = story.key_account("A", Tier.MAJOR, kam=li)
    second = story.key_account("B", Tier.MAJOR, kam=li)
    story.backup(li, chen)

    decision = story.leave(li)

    assert decision is not None
    moves = {a.aggregate_id: a.kam_id for a in decision.actions if isinstance(a, AssignKam)}
    assert moves == {first: chen, second: zhao}
    assert decision.inputs[f"account {second}"].endswith(f"to: {zhao}, via: lowest load}}")


def test_ignores_a_backup_who_is_not_a_kam() -> None:
    """A backup who does not serve as a KAM is not given accounts; the least loaded is."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    rep = story.join("Sun", Role.KEY_ACCOUNT_REPRESENTATIVE)
    account = story.key_account("A", Tier.MAJOR, kam=li)
    story.backup(li, rep)

    decision = story.leave(li)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert decision.inputs["backup"] == str(rep)
    assert f"kam {rep}" not in decision.inputs
    assert decision.inputs[f"account {account}"].endswith("via: lowest load}")


def test_moves_the_accounts_of_a_kam_who_changes_role() -> None:
    """A KAM who stops being a KAM hands their accounts over as if they had left."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    account = story.key_account("A", Tier.MAJOR, kam=li)

    decision = story.change_role(li, Role.PROJECT_DIRECTOR)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"
    assert decision.reason.startswith("Li is now a project director: A (weight 2) goes to Chen")
    story.carry_out(decision)
    assert story.accounts[account].accountable_kam == chen


def test_never_moves_accounts_whose_kam_still_serves() -> None:
    """A departure moves only the accounts left without a serving KAM."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    kept = story.key_account("Kept", Tier.MAJOR, kam=chen)
    moved = story.key_account("Moved", Tier.MAJOR, kam=li)

    decision = story.leave(li)

    assert decision is not None
    assert [action.aggregate_id for action in decision.actions] == [moved]
    assert f"account {kept}" not in decision.inputs


def test_flags_a_departure_that_leaves_no_kam() -> None:
    """When the last KAM leaves, their accounts are flagged as without a KAM."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    account = story.key_account("A", Tier.MAJOR, kam=li)

    decision = story.leave(li)

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.inputs["unassigned"] == f"[{account}]"
    assert decision.reason.startswith("Li left the team, but team East key accounts has no")


def test_decides_nothing_when_a_kam_without_accounts_or_another_member_leaves() -> None:
    """Departures that leave no key account without a KAM need no decision."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    story.kam("Chen")
    rep = story.join("Sun", Role.KEY_ACCOUNT_REPRESENTATIVE)

    assert story.leave(li) is None
    assert story.leave(rep) is None
    assert story.change_role(story.join("Wu", Role.CONSULTANT), Role.TECHNICAL_SUPPORT) is None


# -- arrival ------------------------------------------------------------------------------------


def test_gives_accounts_nobody_could_take_to_a_kam_who_joins() -> None:
    """Key accounts left without a KAM go to the first KAM who joins afterwards."""
    story = Story(AssignmentPolicy())
    account = story.key_account("A", Tier.MAJOR)

    decision = story.hire("Li")

    assert decision is not None
    kam = next(iter(story.team.active_members(Role.KEY_ACCOUNT_MANAGER))).member_id
    assert decision.outcome == f"assign {kam}"
    assert decision.reason.startswith("Li joined as a KAM: A (weight 2) goes to Li")
    story.carry_out(decision)
    assert story.accounts[account].accountable_kam == kam


def test_gives_accounts_to_a_member_who_becomes_a_kam() -> None:
    """A member moved into the KAM role picks up the key accounts nobody serves."""
    story = Story(AssignmentPolicy())
    account = story.key_account("A", Tier.MAJOR)
    member = story.join("Sun", Role.KEY_ACCOUNT_REPRESENTATIVE)

    decision = story.change_role(member, Role.KEY_ACCOUNT_MANAGER)

    assert decision is not None
    assert decision.outcome == f"assign {member}"
    story.carry_out(decision)
    assert story.accounts[account].accountable_kam == member


def test_decides_nothing_when_a_kam_joins_and_every_account_is_served() -> None:
    """A KAM joining a team whose key accounts all have a KAM changes nothing."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    story.key_account("A", Tier.MAJOR, kam=li)

    decision = story.hire("Chen")

    assert decision is None


# -- carrying out -------------------------------------------------------------------------------


def test_refuses_to_override_a_manual_assignment_made_after_the_decision() -> None:
    """If a director assigned a KAM after the decision, the action is refused, not applied."""
    story = Story(AssignmentPolicy())
    story.kam("Li")
    chen = story.kam("Chen")
    account = story.register("Acme")
    decision = story.designate(account, Tier.MAJOR)
    assert decision is not None
    story.assign(account, chen)
    record = story.accounts[account]

    with unchanged(record), pytest.raises(InvalidTransition, match="changed after the decision"):
        decision.actions[0].apply(record, story.policy_meta(), TeamContext(story))

    assert record.accountable_kam == chen


def test_refuses_to_assign_a_kam_who_left_after_the_decision() -> None:
    """A chosen KAM who left before the action is carried out makes it refused."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    story.kam("Chen")
    account = story.register("Acme")
    decision = story.designate(account, Tier.MAJOR)
    assert decision is not None
    story.leave(li)
    record = story.accounts[account]

    with unchanged(record), pytest.raises(MemberInactive):
        decision.actions[0].apply(record, story.policy_meta(), TeamContext(story))


def test_describes_each_action_for_the_decision_record() -> None:
    """An action's description names the account, the new KAM and the previous one."""
    story = Story(AssignmentPolicy())
    li = story.kam("Li")
    account = story.register("Acme")

    decision = story.designate(account, Tier.MAJOR)

    assert decision is not None
    assert decision.actions[0].describe() == f"assign KAM {li} to account {account} (was none)"


def test_decides_the_same_twice_on_the_same_world() -> None:
    """Deciding again on the same event and world gives an equal decision."""
    story = Story(AssignmentPolicy())
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("A", Tier.MAJOR, kam=li)
    story.key_account("B", Tier.STANDARD, kam=li)
    story.key_account("C", Tier.STANDARD, kam=chen)
    story.tick()
    story.team.leave(story.tick(), story.director, li, reason="moved on")
    (event,) = story.team.collect_events()
    story.scenario.given(event)

    first = story.policy.decide(event, story.scenario.world)
    second = story.policy.decide(event, story.scenario.world)

    assert first is not None
    assert first == second


# -- version 2 ----------------------------------------------------------------------------------


def _industry_story(policy: AssignmentPolicy) -> tuple[Story, MemberId, MemberId]:
    """Li serves a bank and carries more; Chen serves a telecom client and carries less."""
    story = Story(policy)
    li, chen = story.kam("Li"), story.kam("Chen")
    story.key_account("Bank", Tier.STRATEGIC, kam=li, industry="banking", region="north")
    story.key_account("Telco", Tier.STANDARD, kam=chen, industry="telecom", region="east")
    return story, li, chen


def test_version_two_prefers_a_kam_serving_the_same_industry() -> None:
    """Version 2 gives a bank to the KAM already serving a bank, though he carries more."""
    story, li, _ = _industry_story(AssignmentPolicyV2())
    account = story.register("Second bank", industry="banking", region="south")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {li}"
    assert "Li, who serves banking (load 3 of 12)" in decision.reason
    assert decision.inputs[f"kam {li}"] == (
        "{name: Li, load: 3, capacity: 12, accounts: 1, backup: no, "
        "industries: [banking], regions: [north]}"
    )


def test_version_one_gives_the_same_account_to_the_least_loaded_kam() -> None:
    """On the same history version 1 decides differently, which a what-if replay shows."""
    story, _, chen = _industry_story(AssignmentPolicy())
    account = story.register("Second bank", industry="banking", region="south")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"


def test_version_two_prefers_the_same_region_when_no_industry_matches() -> None:
    """Without an industry match, version 2 prefers a KAM serving the same region."""
    story, li, _ = _industry_story(AssignmentPolicyV2())
    account = story.register("Mine", industry="mining", region="north")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {li}"
    assert decision.inputs[f"account {account}"].endswith("via: serves north}")


def test_version_two_respects_capacity_before_affinity() -> None:
    """Version 2 never prefers an affine KAM without room over one with room."""
    story = Story(AssignmentPolicyV2())
    li, chen = story.kam("Li", capacity=3), story.kam("Chen")
    story.key_account("Bank", Tier.STRATEGIC, kam=li, industry="banking")
    account = story.register("Second bank", industry="banking")

    decision = story.designate(account, Tier.STANDARD)

    assert decision is not None
    assert decision.outcome == f"assign {chen}"


def test_versions_share_a_name_and_differ_in_number() -> None:
    """Both versions are versions of the one assignment policy."""
    assert (AssignmentPolicy.name, AssignmentPolicy.version) == ("assignment", 1)
    assert (AssignmentPolicyV2.name, AssignmentPolicyV2.version) == ("assignment", 2)


# -- properties ---------------------------------------------------------------------------------

_kams = st.lists(
    st.tuples(st.integers(min_value=0, max_value=8), st.booleans()), min_size=0, max_size=4
)
_tiers = st.lists(st.sampled_from(list(Tier)), min_size=1, max_size=10)
_weights = st.builds(
    TierWeights,
    strategic=st.integers(0, 4),
    major=st.integers(0, 4),
    standard=st.integers(0, 4),
)


@given(kams=_kams, tiers=_tiers, weights=_weights, leavers=st.lists(st.integers(0, 3)))
def test_every_key_account_gets_a_minimum_load_kam_within_capacity_when_possible(
    kams: list[tuple[int, bool]],
    tiers: list[Tier],
    weights: TierWeights,
    leavers: list[int],
) -> None:
    """Over random teams: each choice has minimum load among KAMs with room (capacity kept when
    anyone had room), and once the policy has run no key account lacks a serving KAM."""
    story = Story(AssignmentPolicy())
    story.set_tier_weights(weights)
    ids = [story.kam(f"K{n}", capacity=capacity) for n, (capacity, _) in enumerate(kams)]
    for n, (_, wants_backup) in enumerate(kams):
        if wants_backup and len(ids) > 1:
            story.backup(ids[n], ids[(n + 1) % len(ids)])

    def serving() -> list[MemberId]:
        return [m.member_id for m in story.team.active_members(Role.KEY_ACCOUNT_MANAGER)]

    def check(decision: Decision | None, weight_of: dict[AccountId, int]) -> None:
        if decision is None:
            assert not any(r.is_key and r.kam_id not in serving() for r in story.accounts.values())
            return
        for action in decision.actions:
            assert isinstance(action, AssignKam)
            weight = weight_of[action.aggregate_id]
            loads = {kam: story.load(kam) for kam in serving()}
            roomy = [k for k in loads if loads[k] + weight <= story.team.capacity_of(k)]
            chosen = action.kam_id
            previous = story.team.members.get(action.previous_kam_id or chosen)
            to_backup = previous is not None and previous.backup_id == chosen
            if roomy:
                assert chosen in roomy
                assert to_backup or loads[chosen] == min(loads[k] for k in roomy)
            else:
                assert loads[chosen] == min(loads.values())
            story.apply(action)

    for n, tier in enumerate(tiers):
        account = story.register(f"A{n}")
        check(story.designate(account, tier), {account: weights.of(tier)})
    for index in leavers:
        current = serving()
        if not current:
            break
        weight_of = {a: weights.of(r.tier) for a, r in story.accounts.items() if r.tier}
        check(story.leave(current[index % len(current)]), weight_of)

    if serving():
        assert all(
            record.kam_id in serving() for record in story.accounts.values() if record.is_key
        )


# -- through the application --------------------------------------------------------------------


def _app(store: str) -> KamApplication:
    registry = PolicyRegistry([AssignmentPolicy, AssignmentPolicyV2])
    return KamApplication(store, policies=registry)


def _designate(app: KamApplication, org: Org, name: str, industry: str = "telecom") -> AccountId:
    account = app.register_account(
        org.team_id, org.director, name=name, industry=industry, region="east", at=T0
    )
    app.designate_key_account(account, org.director, tier=Tier.MAJOR, strategies=STRATEGIES, at=T0)
    return AccountId(account)


def test_the_application_assigns_and_reassigns_as_the_policy(store: str) -> None:
    """Embedded: designation assigns the least-loaded KAM; a departure moves to the backup."""
    app = _app(store)
    org = build_org(app)
    first = _designate(app, org, "Acme")
    second = _designate(app, org, "Beta")
    app.designate_backup(org.team_id, org.director, org.kam, backup_id=org.kam2, at=T0)

    app.remove_member(org.team_id, org.senior, org.kam, reason="moved on", at=T0)

    assert app.get_account(first).accountable_kam == org.kam2
    assert app.get_account(second).accountable_kam == org.kam2
    decisions = app.decisions("assignment")
    assert [d.outcome for d in decisions] == [
        f"assign {org.kam}",
        f"assign {org.kam2}",
        f"assign {org.kam2}",
    ]
    assert decisions[-1].inputs["backup"] == str(org.kam2)
    assert all(d.refusal is None and d.version == 1 for d in decisions)
    assert app.get_account(first).assignment_history[-1].decided_by == "policy:assignment@1"
    app.close()


def test_a_manual_assignment_stands_after_the_policy_decided(store: str) -> None:
    """A director's later assignment replaces the policy's and the policy does not undo it."""
    app = _app(store)
    org = build_org(app)
    account = _designate(app, org, "Acme")

    app.assign_kam(account, org.director, org.kam2, reason="knows the CTO", at=T0)
    app.designate_key_account(
        account, org.director, tier=Tier.STRATEGIC, strategies=STRATEGIES, at=T0
    )

    assert app.get_account(account).accountable_kam == org.kam2
    assert len(app.decisions("assignment")) == 1
    app.close()


def test_activating_version_two_changes_who_decides(store: str) -> None:
    """After version 2 is activated its affinity rule decides, and the record names it."""
    app = _app(store)
    org = build_org(app)
    bank = _designate(app, org, "Bank", industry="banking")
    _designate(app, org, "Telco")
    _designate(app, org, "Telco 2")
    app.activate_policy_version("assignment", 2, org.senior, reason="try affinity", at=T0)

    second_bank = _designate(app, org, "Second bank", industry="banking")

    banker = app.get_account(bank).accountable_kam
    assert app.get_account(second_bank).accountable_kam == banker
    last = app.decisions("assignment")[-1]
    assert last.version == 2
    assert last.outcome == f"assign {banker}"
    app.close()


def test_decisions_and_assignments_reload_from_the_store(tmp_path: Path) -> None:
    """A fresh application on the same SQLite file sees the same decisions and KAMs."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    app = _app(store)
    org = build_org(app)
    account = _designate(app, org, "Acme")
    app.remove_member(org.team_id, org.senior, org.kam, reason="moved on", at=T0)

    reloaded = _app(store)

    assert reloaded.run_policies() == 0
    assert [d.outcome for d in reloaded.decisions("assignment")] == [
        d.outcome for d in app.decisions("assignment")
    ]
    assert reloaded.get_account(account).accountable_kam == org.kam2
    app.close()
    reloaded.close()
