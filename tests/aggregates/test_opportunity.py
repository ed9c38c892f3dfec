"""Opportunity: opened for a key account, moved between stages with a dated history, revised,
reassigned, won with its project or lost, and a team's pipeline settings; each rule
given-when-then, each refusal recording nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import (
    DEFAULT_PROBABILITIES,
    Opportunity,
    OpportunityStage,
    PipelineSettings,
    StageProbabilities,
    pipeline_settings_id,
)
from kam_domain.errors import (
    AccountNotKey,
    AmountNotPositive,
    CloseDateBeforeOpening,
    CurrencyMismatch,
    InvalidTransition,
    KamDomainError,
    MemberInactive,
    NotAssignedToAccount,
    NotOnTeam,
    NumberOutOfRange,
    OpportunityClosed,
    ProjectOfAnotherAccount,
    RoleRequired,
    StageUnchanged,
    ValidationError,
)
from kam_domain.values import AccountId, Money, OpportunityId, Percentage, ProjectId, Role, TeamId
from tests.support import at, creds, given, history, meta, recorded, then, unchanged

ACCOUNT = AccountId(uuid4())
OTHER_ACCOUNT = AccountId(uuid4())
PROJECT = ProjectId(uuid4())

Stage = OpportunityStage


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


@dataclass(frozen=True)
class Cast:
    team_id: TeamId
    senior: Credentials
    director: Credentials
    kam: Credentials
    kam2: Credentials
    rep: Credentials
    pd: Credentials
    support: Credentials


@pytest.fixture(name="people")
def fixture_people() -> Cast:
    """One team's people as their Team would credential them."""
    team_id = TeamId(uuid4())

    def member(role: Role) -> Credentials:
        return creds(role, team_id=team_id)

    return Cast(
        team_id=team_id,
        senior=member(Role.SENIOR_SALES_DIRECTOR),
        director=member(Role.SALES_DIRECTOR),
        kam=member(Role.KEY_ACCOUNT_MANAGER),
        kam2=member(Role.KEY_ACCOUNT_MANAGER),
        rep=member(Role.KEY_ACCOUNT_REPRESENTATIVE),
        pd=member(Role.PROJECT_DIRECTOR),
        support=member(Role.TECHNICAL_SUPPORT),
    )


def open_opportunity(people: Cast, by: Credentials | None = None, **changes: Any) -> Opportunity:
    """The account's KAM opens 1000 CNY of prospecting on day 1, expected to close on day 60."""
    by = by or people.kam
    options: dict[str, Any] = {
        "team_id": people.team_id,
        "account_id": ACCOUNT,
        "name": "Core network renewal",
        "amount": cny(1000),
        "expected_close": at(60),
        "owned_by": people.kam,
        "account_manager_id": people.kam.member_id,
        "account_is_key": True,
    }
    options.update(changes)
    return Opportunity.open(meta(by, at(1)), by, OpportunityId(uuid4()), **options)


@pytest.fixture(name="opportunity")
def fixture_opportunity(people: Cast) -> Opportunity:
    """An opportunity in prospecting, with its opening as the given history."""
    opportunity = open_opportunity(people)
    return given(history(opportunity))  # type: ignore[no-any-return]


def closed(people: Cast, outcome: str) -> Opportunity:
    record = open_opportunity(people)
    kam = people.kam
    if outcome == "won":
        record.win(
            meta(kam, at(5)),
            kam,
            account_manager_id=kam.member_id,
            project_id=PROJECT,
            project_account_id=ACCOUNT,
        )
    else:
        record.lose(meta(kam, at(5)), kam, account_manager_id=kam.member_id, reason="price")
    return given(history(record))  # type: ignore[no-any-return]


# -- opening --------------------------------------------------------------------------------------


def test_the_accountable_kam_opens_an_opportunity_in_prospecting(people: Cast) -> None:
    """Given a key account, when its accountable KAM opens an opportunity, then it is recorded
    with its amount, close date, owner and the first stage of its dated history."""
    opportunity = open_opportunity(people)

    assert then(opportunity) == [Opportunity.Opened]
    assert opportunity.stage is Stage.PROSPECTING
    assert opportunity.amount == cny(1000)
    assert opportunity.expected_close == at(60)
    assert opportunity.owner_id == people.kam.member_id
    assert [(c.stage, c.at, c.by) for c in opportunity.stage_history] == [
        (Stage.PROSPECTING, at(1), people.kam.member_id)
    ]


def test_a_sales_director_opens_one_in_a_later_stage_owned_by_a_representative(
    people: Cast,
) -> None:
    """Given a key account, when a sales director opens an opportunity in qualification for a
    representative, then it is recorded in that stage with that owner."""
    opportunity = open_opportunity(
        people, people.director, stage=Stage.QUALIFICATION, owned_by=people.rep
    )

    assert then(opportunity) == [Opportunity.Opened]
    assert opportunity.stage is Stage.QUALIFICATION
    assert opportunity.owner_id == people.rep.member_id


def test_another_kam_may_not_open_one_for_the_account(people: Cast) -> None:
    """Given an account whose accountable KAM is someone else, when a KAM opens an
    opportunity for it, then it is refused as not theirs."""
    with pytest.raises(NotAssignedToAccount, match=r"^actor"):
        open_opportunity(people, people.kam2)


@pytest.mark.parametrize("role", ["rep", "pd", "support"])
def test_roles_other_than_the_kam_and_the_directors_may_not_open_one(
    people: Cast, role: str
) -> None:
    """Given a key account, when a representative, project director or technical support
    opens an opportunity, then it is refused for their role."""
    with pytest.raises(RoleRequired, match=r"^actor"):
        open_opportunity(people, getattr(people, role))


def test_an_account_that_is_not_key_has_no_pipeline(people: Cast) -> None:
    """Given an account not designated key, when an opportunity is opened for it, then it is
    refused."""
    with pytest.raises(AccountNotKey):
        open_opportunity(people, account_is_key=False)


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_the_amount_must_be_more_than_zero(people: Cast, amount: str) -> None:
    """Given an amount of zero or less, when an opportunity is opened with it, then it is
    refused with the amount named."""
    with pytest.raises(AmountNotPositive, match=r"^amount"):
        open_opportunity(people, amount=cny(amount))


def test_the_amount_stays_within_the_librarys_bounds(people: Cast) -> None:
    """Given an amount with more decimal places than a command accepts, when an opportunity is
    opened with it, then it is refused by the bounds check."""
    with pytest.raises(NumberOutOfRange, match=r"^amount"):
        open_opportunity(people, amount=Money(Decimal("1.00001"), "CNY"))


def test_the_amount_is_in_the_pipelines_currency_when_the_team_set_one(people: Cast) -> None:
    """Given a team whose pipeline is in CNY, when an opportunity is opened in USD, then it is
    refused as a currency mismatch."""
    with pytest.raises(CurrencyMismatch, match=r"^amount"):
        open_opportunity(people, amount=Money.of(1000, "USD"), currency="CNY")


def test_the_expected_close_is_not_before_the_opening(people: Cast) -> None:
    """Given an expected close date before the opening, when the opportunity is opened, then it
    is refused."""
    with pytest.raises(CloseDateBeforeOpening, match=r"^expected_close"):
        open_opportunity(people, expected_close=at(0))


@pytest.mark.parametrize("stage", [Stage.CLOSED_WON, Stage.CLOSED_LOST])
def test_an_opportunity_is_not_opened_closed(people: Cast, stage: OpportunityStage) -> None:
    """Given a closed stage, when an opportunity is opened in it, then it is refused: only
    winning or losing closes one."""
    with pytest.raises(InvalidTransition, match=r"^stage"):
        open_opportunity(people, stage=stage)


@pytest.mark.parametrize(
    ("owner", "refusal"),
    [("support", RoleRequired), ("pd", RoleRequired), ("elsewhere", NotOnTeam)],
)
def test_the_owner_is_a_seller_on_the_team(
    people: Cast, owner: str, refusal: type[Exception]
) -> None:
    """Given an owner who does not sell, or is on another team, when an opportunity is opened
    for them, then it is refused with the owner named."""
    owned_by = creds(Role.KEY_ACCOUNT_MANAGER) if owner == "elsewhere" else getattr(people, owner)

    with pytest.raises(refusal, match=r"^owner_id"):
        open_opportunity(people, owned_by=owned_by)


def test_a_member_who_left_may_not_own_one(people: Cast) -> None:
    """Given a representative who has left, when an opportunity is opened for them, then it is
    refused."""
    gone = creds(Role.KEY_ACCOUNT_REPRESENTATIVE, team_id=people.team_id, active=False)

    with pytest.raises(MemberInactive, match=r"^owner_id"):
        open_opportunity(people, owned_by=gone)


# -- stages ---------------------------------------------------------------------------------------


def test_moving_between_stages_keeps_a_dated_history(
    people: Cast, opportunity: Opportunity
) -> None:
    """Given an opportunity in prospecting, when it moves to proposal and back to qualification,
    then each move is recorded with its date, and the stage at any moment is known."""
    kam = people.kam.member_id
    opportunity.move_to_stage(
        meta(people.kam, at(3)), people.kam, stage=Stage.PROPOSAL, account_manager_id=kam
    )
    opportunity.move_to_stage(
        meta(people.director, at(7)),
        people.director,
        stage=Stage.QUALIFICATION,
        account_manager_id=kam,
        note="budget moved to next year",
    )

    assert then(opportunity) == [Opportunity.StageChanged, Opportunity.StageChanged]
    assert [(c.stage, c.at) for c in opportunity.stage_history] == [
        (Stage.PROSPECTING, at(1)),
        (Stage.PROPOSAL, at(3)),
        (Stage.QUALIFICATION, at(7)),
    ]
    assert opportunity.stage_history[-1].note == "budget moved to next year"
    assert opportunity.stage_at(at(5)) is Stage.PROPOSAL
    assert opportunity.stage_at(at(0)) is None


def test_moving_to_the_stage_it_is_in_is_refused(people: Cast, opportunity: Opportunity) -> None:
    """Given an opportunity in prospecting, when it is moved to prospecting, then it is refused
    and nothing is recorded."""
    kam = people.kam

    with unchanged(opportunity), pytest.raises(StageUnchanged):
        opportunity.move_to_stage(
            meta(kam, at(3)), kam, stage=Stage.PROSPECTING, account_manager_id=kam.member_id
        )


@pytest.mark.parametrize("stage", [Stage.CLOSED_WON, Stage.CLOSED_LOST])
def test_a_move_does_not_close_it(
    people: Cast, opportunity: Opportunity, stage: OpportunityStage
) -> None:
    """Given an open opportunity, when it is moved to a closed stage, then it is refused: won
    needs its project, lost its reason."""
    kam = people.kam

    with unchanged(opportunity), pytest.raises(InvalidTransition, match=r"^stage"):
        opportunity.move_to_stage(
            meta(kam, at(3)), kam, stage=stage, account_manager_id=kam.member_id
        )


# -- revisions and owner --------------------------------------------------------------------------


def test_the_amount_and_the_close_date_are_revised_with_a_reason(
    people: Cast, opportunity: Opportunity
) -> None:
    """Given an open opportunity, when its amount and then its close date are revised, then
    each revision is recorded with its reason and the new values hold."""
    kam = people.kam
    opportunity.revise(
        meta(kam, at(3)), kam, account_manager_id=kam.member_id, reason="scope", amount=cny(1500)
    )
    opportunity.revise(
        meta(kam, at(4)),
        kam,
        account_manager_id=kam.member_id,
        reason="client's budget cycle",
        expected_close=at(90),
    )

    events = recorded(opportunity)
    assert [type(e) for e in events] == [Opportunity.Revised, Opportunity.Revised]
    assert [e.reason for e in events] == ["scope", "client's budget cycle"]
    assert opportunity.amount == cny(1500)
    assert opportunity.expected_close == at(90)


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"amount": Money.of(1500, "USD")}, CurrencyMismatch),
        ({"amount": cny(0)}, AmountNotPositive),
        ({"expected_close": at(0)}, CloseDateBeforeOpening),
        ({}, ValidationError),
        ({"amount": cny(1000)}, InvalidTransition),
    ],
    ids=["other currency", "zero", "close before opening", "nothing given", "same values"],
)
def test_a_revision_keeps_the_invariants(
    people: Cast, opportunity: Opportunity, changes: dict[str, Any], refusal: type[Exception]
) -> None:
    """Given an open opportunity in CNY, when a revision would change its currency, make the
    amount zero, put the close before the opening, or change nothing, then it is refused and
    nothing is recorded."""
    kam = people.kam

    with unchanged(opportunity), pytest.raises(refusal):
        opportunity.revise(
            meta(kam, at(3)), kam, account_manager_id=kam.member_id, reason="r", **changes
        )


def test_the_owner_is_reassigned(people: Cast, opportunity: Opportunity) -> None:
    """Given an opportunity the KAM owns, when a director hands it to the representative, then
    the new owner is recorded with the reason."""
    director = people.director
    opportunity.reassign(
        meta(director, at(3)),
        director,
        people.rep,
        account_manager_id=people.kam.member_id,
        reason="day-to-day contact",
    )

    assert then(opportunity) == [Opportunity.OwnerReassigned]
    assert opportunity.owner_id == people.rep.member_id


def test_reassigning_to_the_owner_is_refused(people: Cast, opportunity: Opportunity) -> None:
    """Given an opportunity the KAM owns, when it is reassigned to the KAM, then it is refused
    and nothing is recorded."""
    kam = people.kam

    with unchanged(opportunity), pytest.raises(InvalidTransition, match=r"^owner_id"):
        opportunity.reassign(
            meta(kam, at(3)), kam, kam, account_manager_id=kam.member_id, reason="r"
        )


# -- outcome --------------------------------------------------------------------------------------


def test_won_with_the_project_it_became(people: Cast, opportunity: Opportunity) -> None:
    """Given an open opportunity, when it is won with a project of its account for a final
    amount, then it is closed won on that date, linked to the project."""
    kam = people.kam
    opportunity.win(
        meta(kam, at(5)),
        kam,
        account_manager_id=kam.member_id,
        project_id=PROJECT,
        project_account_id=ACCOUNT,
        amount=cny(950),
    )

    assert then(opportunity) == [Opportunity.Won]
    assert opportunity.stage is Stage.CLOSED_WON
    assert opportunity.project_id == PROJECT
    assert opportunity.amount == cny(950)
    assert opportunity.closed_at == at(5)
    assert opportunity.close_date == at(5)
    assert opportunity.stage_history[-1].stage is Stage.CLOSED_WON


def test_won_with_another_accounts_project_is_refused(
    people: Cast, opportunity: Opportunity
) -> None:
    """Given an open opportunity, when it is won with a project of another account, then it
    is refused and nothing is recorded."""
    kam = people.kam

    with unchanged(opportunity), pytest.raises(ProjectOfAnotherAccount, match=r"^project_id"):
        opportunity.win(
            meta(kam, at(5)),
            kam,
            account_manager_id=kam.member_id,
            project_id=PROJECT,
            project_account_id=OTHER_ACCOUNT,
        )


def test_lost_with_the_reason(people: Cast, opportunity: Opportunity) -> None:
    """Given an open opportunity, when it is lost, then it is closed lost with the reason."""
    kam = people.kam
    opportunity.lose(
        meta(kam, at(5)), kam, account_manager_id=kam.member_id, reason="incumbent's price"
    )

    assert then(opportunity) == [Opportunity.Lost]
    assert opportunity.stage is Stage.CLOSED_LOST
    assert opportunity.lost_reason == "incumbent's price"
    assert not opportunity.is_open


def _move(o: Opportunity, by: Credentials, kam: Any) -> None:
    o.move_to_stage(meta(by, at(9)), by, stage=Stage.NEGOTIATION, account_manager_id=kam)


def _revise(o: Opportunity, by: Credentials, kam: Any) -> None:
    o.revise(meta(by, at(9)), by, account_manager_id=kam, reason="r", amount=cny(5))


def _reassign(o: Opportunity, by: Credentials, kam: Any) -> None:
    o.reassign(meta(by, at(9)), by, by, account_manager_id=kam, reason="r")


def _win(o: Opportunity, by: Credentials, kam: Any) -> None:
    o.win(
        meta(by, at(9)),
        by,
        account_manager_id=kam,
        project_id=PROJECT,
        project_account_id=ACCOUNT,
    )


def _lose(o: Opportunity, by: Credentials, kam: Any) -> None:
    o.lose(meta(by, at(9)), by, account_manager_id=kam, reason="r")


AFTER_CLOSING: list[Callable[[Opportunity, Credentials, Any], None]] = [
    _move,
    _revise,
    _reassign,
    _win,
    _lose,
]


@pytest.mark.parametrize("outcome", ["won", "lost"])
@pytest.mark.parametrize("command", AFTER_CLOSING, ids=lambda c: c.__name__.strip("_"))
def test_nothing_changes_after_closing(
    people: Cast, outcome: str, command: Callable[[Opportunity, Credentials, Any], None]
) -> None:
    """Given an opportunity won or lost, when any command would change it, then it is refused
    and nothing is recorded."""
    record = closed(people, outcome)

    with unchanged(record), pytest.raises(OpportunityClosed):
        command(record, people.director, people.kam.member_id)


def test_every_refusal_is_a_named_domain_error() -> None:
    """The opportunity's invariants each have their exception under KamDomainError."""
    for error in (
        AmountNotPositive,
        CloseDateBeforeOpening,
        OpportunityClosed,
        ProjectOfAnotherAccount,
        StageUnchanged,
    ):
        assert issubclass(error, KamDomainError)
        assert (error.__doc__ or "").startswith("Raised when")


# -- pipeline settings ----------------------------------------------------------------------------


def test_a_team_uses_the_default_probabilities_until_a_director_sets_its_own(
    people: Cast,
) -> None:
    """Given a team, when a sales director configures its pipeline, then the probabilities and
    currency are recorded on the team's settings record; won counts 100 %, lost 0 %."""
    probabilities = StageProbabilities.of(proposal=40)
    settings = PipelineSettings.configure(
        meta(people.director, at(1)),
        people.director,
        team_id=people.team_id,
        probabilities=probabilities,
        currency="CNY",
    )

    assert then(settings) == [PipelineSettings.Configured]
    assert settings.id == pipeline_settings_id(people.team_id)
    assert settings.probabilities.probability(Stage.PROPOSAL) == Percentage.of(40)
    assert settings.probabilities.probability(Stage.NEGOTIATION) == Percentage.of(75)
    assert settings.currency == "CNY"
    assert DEFAULT_PROBABILITIES.probability(Stage.CLOSED_WON) == Percentage.of(100)
    assert DEFAULT_PROBABILITIES.probability(Stage.CLOSED_LOST) == Percentage.of(0)


def test_the_probabilities_are_changed_later(people: Cast) -> None:
    """Given configured settings, when a director changes them, then the change is recorded."""
    settings = PipelineSettings.configure(
        meta(people.director, at(1)),
        people.director,
        team_id=people.team_id,
        probabilities=DEFAULT_PROBABILITIES,
    )
    settings = given(history(settings))

    settings.change(
        meta(people.senior, at(2)),
        people.senior,
        probabilities=StageProbabilities.of(negotiation=90),
    )

    assert then(settings) == [PipelineSettings.Changed]
    assert settings.probabilities.negotiation == Percentage.of(90)


def test_only_a_director_sets_the_probabilities(people: Cast) -> None:
    """Given a team, when its KAM configures the pipeline, then it is refused."""
    with pytest.raises(RoleRequired, match=r"^actor"):
        PipelineSettings.configure(
            meta(people.kam, at(1)),
            people.kam,
            team_id=people.team_id,
            probabilities=DEFAULT_PROBABILITIES,
        )


def test_the_same_settings_again_are_refused(people: Cast) -> None:
    """Given configured settings, when the same are set again, then nothing is recorded."""
    settings = given(
        history(
            PipelineSettings.configure(
                meta(people.director, at(1)),
                people.director,
                team_id=people.team_id,
                probabilities=DEFAULT_PROBABILITIES,
            )
        )
    )

    with unchanged(settings), pytest.raises(InvalidTransition):
        settings.change(
            meta(people.director, at(2)), people.director, probabilities=DEFAULT_PROBABILITIES
        )


@pytest.mark.parametrize(
    "given_values", [{"proposal": 101}, {"won": 50}, {"negotiation": "7.12345"}]
)
def test_probabilities_are_percentages_of_open_stages(given_values: dict[str, Any]) -> None:
    """Given a probability over 100 %, a stage that is not open, or too many decimal places,
    when the probabilities are built, then they are refused."""
    with pytest.raises(ValidationError):
        StageProbabilities.of(**given_values)


def test_settings_refuse_an_unknown_currency(people: Cast) -> None:
    """Given a currency code that is not ISO 4217, when the pipeline is configured with it,
    then it is refused."""
    with pytest.raises(ValidationError, match="currency"):
        PipelineSettings.configure(
            meta(people.director, at(1)),
            people.director,
            team_id=people.team_id,
            probabilities=DEFAULT_PROBABILITIES,
            currency="XYZ",
        )
