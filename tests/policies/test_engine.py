"""The engine records each decision exactly once, parks failures, and resumes where it stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.application import KamApplication
from kam_domain.errors import PolicyNotFound, ValidationError
from kam_domain.policies import Action, ActionContext, Decision, Policy, World
from kam_domain.policies.records import DeadLetter, PolicyDecision
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.runtime.engine import ENGINE_TRACKING
from kam_domain.values import Actor, Role, Tier
from tests.conftest import STRATEGIES, Org, build_org
from tests.support import unchanged


class Noticer(Policy):
    """Flags every account designated key (a decision without actions)."""

    name = "noticer"
    version = 1
    handles = (ClientAccount.KeyAccountDesignated,)
    parameters: ClassVar[dict[str, Any]] = {"label": "key"}

    def decide(self, event: Any, world: World) -> Decision | None:
        account = world.get(event.originator_id, ClientAccount)
        assert account is not None
        label = self.settings(world)["label"]
        return Decision("flag", f"{account.name} became {label}", {"tier": event.tier.value})


class NoticerV2(Noticer):
    """Version 2 says more."""

    version = 2

    def decide(self, event: Any, world: World) -> Decision | None:
        return Decision("flag v2", "designated", {"tier": event.tier.value})


class Fragile(Policy):
    """Fails on accounts whose name starts with 'Poison' until it is fixed."""

    name = "fragile"
    version = 1
    handles = (ClientAccount.KeyAccountDesignated,)
    fixed = False

    def decide(self, event: Any, world: World) -> Decision | None:
        account = world.get(event.originator_id, ClientAccount)
        assert account is not None
        if account.name.startswith("Poison") and not type(self).fixed:
            raise RuntimeError(f"cannot handle {account.name}")
        return Decision("ok", "handled")


class Assign(Action):
    """Makes a member the account's KAM (an action that changes a record)."""

    def __init__(self, account_id: Any, team_id: Any, member_id: Any) -> None:
        self.aggregate_id = account_id
        self.team_id = team_id
        self.member_id = member_id

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        member = context.credentials(self.team_id, self.member_id, meta.at)
        aggregate.assign_kam(meta, None, member, reason="first in the team")

    def describe(self) -> str:
        return f"assign {self.member_id} to {self.aggregate_id}"


class Assigner(Noticer):
    """Assigns each new key account to the team member of the role in ``role``."""

    name = "assigner"
    role = Role.KEY_ACCOUNT_MANAGER

    def decide(self, event: Any, world: World) -> Decision | None:
        account = world.get(event.originator_id, ClientAccount)
        assert account is not None
        team = world.team(account.team_id)
        assert team is not None
        member = team.active_members(self.role)[0]
        return Decision(
            f"assign {member.member_id}",
            "first of the role",
            actions=[Assign(account.id, team.id, member.member_id)],
        )


def app_with(store: str, *policies: type[Policy], run: bool = True) -> KamApplication:
    return KamApplication(store, policies=PolicyRegistry(policies), run_policies=run)


def designate(app: KamApplication, org: Org, name: str) -> Any:
    account = app.register_account(org.team_id, org.director, name=name, industry="x", region="y")
    app.designate_key_account(account, org.director, tier=Tier.MAJOR, strategies=STRATEGIES)
    return account


def test_a_command_returns_with_its_decisions_recorded(store: str) -> None:
    """Embedded: designating a key account records the policy's decision before returning."""
    app = app_with(store, Noticer)
    org = build_org(app)

    account = designate(app, org, "Acme")

    (decision,) = app.decisions("noticer")
    assert decision.outcome == "flag"
    assert decision.reason == "Acme became key"
    assert decision.inputs == {"tier": "major"}
    designated = list(app.repository.event_store.get(account))[-1]
    assert decision.cause_id == designated.event_id
    app.close()


def test_decisions_name_policy_version_cause_and_chain(store: str) -> None:
    """A decision record carries policy@version as actor, the cause and its correlation."""
    app = app_with(store, Noticer)
    org = build_org(app)
    account = designate(app, org, "Acme")

    (decision,) = app.decisions("noticer")
    designated = list(app.repository.event_store.get(account))[-1]

    assert decision.version == 1
    assert decision.cause_id == designated.event_id
    assert decision.cause_topic.endswith("ClientAccount.KeyAccountDesignated")
    made = next(iter(app.repository.event_store.get(decision.id)))
    assert made.actor == Actor.policy("noticer", 1)
    assert made.causation_id == designated.event_id
    assert made.correlation_id == designated.correlation_id
    app.close()


def test_running_again_records_nothing_twice(store: str) -> None:
    """Running the engine again, or a second engine on the same store, adds no decision."""
    app = app_with(store, Noticer)
    org = build_org(app)
    designate(app, org, "Acme")
    designate(app, org, "Beta")

    again = app.run_policies()
    if store != "memory://":
        second = app_with(store, Noticer)
        assert second.run_policies() == 0
        assert len(second.decisions("noticer")) == 2
        second.close()

    assert again == 0
    assert len(app.decisions("noticer")) == 2
    app.close()


def test_a_later_engine_resumes_from_its_tracked_position(tmp_path: Path) -> None:
    """Events recorded while no engine ran are decided, once, by the next engine."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    host = app_with(store, Noticer, run=False)
    org = build_org(host)
    for name in ("A", "B", "C"):
        designate(host, org, name)
    first = app_with(store, Noticer, run=False)
    head = first.recorder.max_notification_id() or 0
    position_of_b = next(
        n.id
        for n in first.recorder.select_notifications(start=1, limit=head)
        if n.topic.endswith("KeyAccountDesignated")
    )

    first.policies.run(until=position_of_b)  # stops (as if it crashed) after the first one
    resumed = app_with(store, Noticer, run=False)
    resumed.run_policies()

    assert [d.reason for d in resumed.decisions("noticer")] == [
        "A became key",
        "B became key",
        "C became key",
    ]
    assert resumed.recorder.max_tracking_id(ENGINE_TRACKING) >= position_of_b  # type: ignore[attr-defined]
    for app in (host, first, resumed):
        app.close()


def test_a_failing_event_is_parked_and_the_rest_proceed(store: str) -> None:
    """A policy raising on one event parks it; later events and other policies go on."""
    Fragile.fixed = False
    app = app_with(store, Fragile, Noticer)
    org = build_org(app)

    designate(app, org, "Poison Pill Ltd")
    designate(app, org, "Healthy Co")

    (letter,) = app.dead_letters()
    assert letter.policy == "fragile"
    assert letter.error_type == "RuntimeError"
    assert "Poison Pill Ltd" in letter.error
    assert [d.outcome for d in app.decisions("fragile")] == ["ok"]
    assert len(app.decisions("noticer")) == 2
    app.close()


def test_retry_after_the_fix_succeeds(store: str) -> None:
    """Given a parked event, when the policy is fixed and retried, then it is decided once."""
    Fragile.fixed = False
    app = app_with(store, Fragile)
    org = build_org(app)
    designate(app, org, "Poison Pill Ltd")
    (letter,) = app.dead_letters()

    still_failing = app.retry_dead_letters()
    Fragile.fixed = True
    fixed = app.retry_dead_letters(letter.id)

    assert [(x.attempts, x.resolved) for x in still_failing] == [(2, False)]
    assert [(x.attempts, x.resolved) for x in fixed] == [(3, True)]
    assert app.dead_letters() == []
    (decision,) = app.decisions("fragile")
    assert decision.cause_position == letter.cause_position
    assert decision.basis_position > letter.cause_position
    Fragile.fixed = False
    app.close()


def test_actions_change_records_as_the_policy(store: str) -> None:
    """A decision's actions are recorded with the policy as actor, caused by the decision."""
    app = app_with(store, Assigner)
    org = build_org(app)

    account = designate(app, org, "Acme")

    (decision,) = app.decisions("assigner")
    assigned = list(app.repository.event_store.get(account))[-1]
    made = next(iter(app.repository.event_store.get(decision.id)))
    assert isinstance(assigned, ClientAccount.KamAssigned)
    assert app.get_account(account).accountable_kam == org.kam
    assert assigned.actor == Actor.policy("assigner", 1)
    assert assigned.causation_id == made.event_id
    assert assigned.correlation_id == made.correlation_id
    assert decision.actions == [f"assign {org.kam} to {account}"]
    assert decision.refusal is None
    app.close()


def test_refused_actions_are_recorded_as_refusals(store: str) -> None:
    """An action the record refuses leaves the decision recorded with the refusal, no change."""

    class AssignRepresentative(Assigner):
        name = "assign_representative"
        role = Role.KEY_ACCOUNT_REPRESENTATIVE

    app = app_with(store, AssignRepresentative)
    org = build_org(app)

    account = designate(app, org, "Acme")

    (decision,) = app.decisions("assign_representative")
    assert decision.refusal is not None
    assert ": RoleRequired: " in decision.refusal
    assert app.get_account(account).accountable_kam is None
    app.close()


class Both(Assigner):
    """Assigns org's KAM to the designated account and to ``plain``, which is not a key account."""

    name = "both"
    plain: ClassVar[Any] = None
    org: ClassVar[Any] = None

    def decide(self, event: Any, world: World) -> Decision | None:
        team, kam = self.org.team_id, self.org.kam
        actions = [Assign(self.plain, team, kam), Assign(event.originator_id, team, kam)]
        return Decision("assign both", "one cannot", actions=actions)


def test_records_that_accept_their_actions_keep_them_when_another_refuses(store: str) -> None:
    """One decision's actions on two records: the refused one is noted, the other applies."""
    app = app_with(store, Both)
    org = build_org(app)
    Both.org = org
    Both.plain = app.register_account(
        org.team_id, org.director, name="Plain", industry="x", region="y"
    )

    account = designate(app, org, "Key Co")

    (decision,) = app.decisions("both")
    assert app.get_account(account).accountable_kam == org.kam
    assert app.get_account(Both.plain).accountable_kam is None
    assert decision.refusal is not None
    assert f"to {Both.plain}: AccountNotKey" in decision.refusal
    app.close()


def test_versions_are_activated_by_recorded_events(store: str) -> None:
    """Version 1 decides until version 2 is activated; the records say which one decided."""
    app = app_with(store, Noticer, NoticerV2)
    org = build_org(app)
    designate(app, org, "Before")

    app.activate_policy_version("noticer", 2, Actor.system("company"), reason="clearer reasons")
    designate(app, org, "After")

    assert [(d.version, d.outcome) for d in app.decisions("noticer")] == [
        (1, "flag"),
        (2, "flag v2"),
    ]
    with unchanged(app), pytest.raises(ValidationError, match="version"):
        app.activate_policy_version("noticer", 3, Actor.system("company"), reason="none")
    with unchanged(app), pytest.raises(PolicyNotFound):
        app.activate_policy_version("nosuch", 1, Actor.system("company"), reason="none")
    app.close()


def test_parameters_are_recorded_configuration(store: str) -> None:
    """A configured parameter changes decisions from then on, and unknown ones are refused."""
    app = app_with(store, Noticer)
    org = build_org(app)
    designate(app, org, "Before")

    app.configure_policy("noticer", {"label": "strategic"}, Actor.system("company"), reason="x")
    designate(app, org, "After")

    assert [d.reason for d in app.decisions("noticer")] == [
        "Before became key",
        "After became strategic",
    ]
    with unchanged(app), pytest.raises(ValidationError, match="parameters"):
        app.configure_policy("noticer", {"colour": "red"}, Actor.system("company"), reason="x")
    app.close()


def test_dead_letters_are_records_in_the_log(store: str) -> None:
    """A parked event is itself an event in the log, with its policy and error."""
    Fragile.fixed = False
    app = app_with(store, Fragile)
    org = build_org(app)
    designate(app, org, "Poison Pill Ltd")

    (letter,) = app.dead_letters()
    stored = list(app.repository.event_store.get(letter.id))

    assert isinstance(stored[0], DeadLetter.Parked)
    assert stored[0].actor == Actor.policy("fragile", 1)
    assert all(not isinstance(d, PolicyDecision) for d in app.dead_letters())
    app.close()
