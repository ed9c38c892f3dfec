"""Team: members in roles, dated authority within the grantor's own, capacity, training."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import (
    EvaluationStandard,
    RatingBand,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.errors import (
    AlreadyExists,
    AuthorityExceeded,
    GrantBeyondOwnAuthority,
    InvalidTransition,
    MemberInactive,
    MemberNotFound,
    RoleRequired,
    SelfApproval,
    TimestampOutOfOrder,
    UnknownTimeZone,
    ValidationError,
)
from kam_domain.values import Actor, GrantId, MemberId, Metric, Percentage, Role, TeamId, Tier
from tests.support import at, history, meta, recorded, then, unchanged


def formed(top: int = 30) -> tuple[Team, Credentials]:
    """A team formed at T0 with its senior sales director, whose credentials are returned."""
    director_id = MemberId(uuid4())
    team = Team.form(
        meta(),
        TeamId(uuid4()),
        name="East",
        segment="telecom",
        region="east",
        director_id=director_id,
        director_name="Wang",
        top_authority=Percentage.of(top),
    )
    history(team)
    return team, team.credentials(director_id, at())


def joined(team: Team, by: Credentials, role: Role, name: str = "Li") -> Credentials:
    member_id = MemberId(uuid4())
    team.join(meta(by), by, member_id, name=name, role=role)
    history(team)
    return team.credentials(member_id, at())


def granted(team: Team, by: Credentials, member: Credentials, limit: int) -> Credentials:
    team.grant_authority(
        meta(by), by, GrantId(uuid4()), member.member_id, max_discount=Percentage.of(limit)
    )
    history(team)
    return team.credentials(member.member_id, at())


def test_forming_a_team_seats_a_senior_director_with_the_company_grant() -> None:
    """Given nothing, when a team is formed, then its senior director holds the top authority."""
    director_id = MemberId(uuid4())

    team = Team.form(
        meta(Actor.system("company")),
        TeamId(uuid4()),
        name=" East ",
        segment="telecom",
        region="east",
        director_id=director_id,
        director_name="Wang",
        top_authority=Percentage.of(30),
    )

    assert then(team) == [Team.Formed, Team.MemberJoined, Team.AuthorityGranted]
    assert team.name == "East"
    director = team.credentials(director_id, at())
    assert director.role is Role.SENIOR_SALES_DIRECTOR
    assert director.discount_authority == Percentage.of(30)


@pytest.mark.parametrize("field", ["name", "segment", "region", "director_name"])
def test_forming_refuses_empty_texts(field: str) -> None:
    """An empty name, segment, region or director name is refused, naming the field."""
    kwargs = {"name": "East", "segment": "t", "region": "e", "director_name": "Wang", field: " "}

    with pytest.raises(ValidationError, match=field):
        Team.form(
            meta(),
            TeamId(uuid4()),
            director_id=MemberId(uuid4()),
            top_authority=Percentage.of(30),
            **kwargs,
        )


def test_director_adds_a_member() -> None:
    """Given a team, when the director adds a KAM, then the KAM is an active member."""
    team, senior = formed()
    member_id = MemberId(uuid4())

    team.join(meta(senior), senior, member_id, name="Li", role=Role.KEY_ACCOUNT_MANAGER)

    assert then(team) == [Team.MemberJoined]
    assert team.credentials(member_id, at()).active


def test_only_a_senior_director_seats_another_senior_director() -> None:
    """A sales director cannot appoint a senior sales director."""
    team, senior = formed()
    director = joined(team, senior, Role.SALES_DIRECTOR)

    with unchanged(team), pytest.raises(RoleRequired):
        team.join(
            meta(director), director, MemberId(uuid4()), name="X", role=Role.SENIOR_SALES_DIRECTOR
        )


def test_a_member_id_joins_once() -> None:
    """Adding the same member id twice is AlreadyExists."""
    team, senior = formed()
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    with unchanged(team), pytest.raises(AlreadyExists):
        team.join(meta(senior), senior, kam.member_id, name="Li", role=Role.CONSULTANT)


def test_a_member_who_left_cannot_act() -> None:
    """Given a director who left, when they act, then MemberInactive."""
    team, senior = formed()
    director = joined(team, senior, Role.SALES_DIRECTOR)
    team.leave(meta(senior), senior, director.member_id, reason="moved on")
    history(team)
    gone = team.credentials(director.member_id, at())

    with unchanged(team), pytest.raises(MemberInactive):
        team.join(meta(gone), gone, MemberId(uuid4()), name="X", role=Role.CONSULTANT)

    assert gone.discount_authority is None


def test_the_last_senior_director_cannot_leave() -> None:
    """A team always keeps a senior sales director."""
    team, senior = formed()

    with unchanged(team), pytest.raises(InvalidTransition):
        team.leave(meta(senior), senior, senior.member_id, reason="retiring")


def test_role_change_is_recorded_with_before_and_after() -> None:
    """Given a KAM, when made a project director, then the event keeps old and new role."""
    team, senior = formed()
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    team.change_role(
        meta(senior), senior, kam.member_id, role=Role.PROJECT_DIRECTOR, reason="promotion"
    )

    (event,) = recorded(team)
    assert (event.old_role, event.new_role) == (Role.KEY_ACCOUNT_MANAGER, Role.PROJECT_DIRECTOR)


def test_supervisor_must_lead_others() -> None:
    """A representative cannot be anybody's supervisor."""
    team, senior = formed()
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)
    rep = joined(team, senior, Role.KEY_ACCOUNT_REPRESENTATIVE)

    with unchanged(team), pytest.raises(RoleRequired, match="supervisor_id"):
        team.set_supervisor(meta(senior), senior, kam.member_id, supervisor_id=rep.member_id)


def test_authority_is_granted_within_the_grantors_own() -> None:
    """Given a 20 % director, when granting 5 % to a KAM, then the KAM holds 5 %."""
    team, senior = formed()
    director = granted(team, senior, joined(team, senior, Role.SALES_DIRECTOR), 20)
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    kam = granted(team, director, kam, 5)

    assert kam.discount_authority == Percentage.of(5)
    assert kam.covers(Percentage.of(5))
    assert not kam.covers(Percentage.of("5.01"))


def test_nobody_grants_beyond_their_own_authority() -> None:
    """Given a 20 % director, when granting 25 %, then GrantBeyondOwnAuthority."""
    team, senior = formed()
    director = granted(team, senior, joined(team, senior, Role.SALES_DIRECTOR), 20)
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    with unchanged(team), pytest.raises(GrantBeyondOwnAuthority, match="max_discount"):
        team.grant_authority(
            meta(director),
            director,
            GrantId(uuid4()),
            kam.member_id,
            max_discount=Percentage.of(25),
        )


def test_representatives_never_hold_discount_authority() -> None:
    """A representative cannot be granted discount authority."""
    team, senior = formed()
    rep = joined(team, senior, Role.KEY_ACCOUNT_REPRESENTATIVE)

    with unchanged(team), pytest.raises(RoleRequired, match="member_id"):
        team.grant_authority(
            meta(senior), senior, GrantId(uuid4()), rep.member_id, max_discount=Percentage.of(1)
        )


def test_nobody_grants_authority_to_themselves() -> None:
    """Segregation of duties: a director cannot grant their own authority."""
    team, senior = formed()

    with unchanged(team), pytest.raises(SelfApproval):
        team.grant_authority(
            meta(senior), senior, GrantId(uuid4()), senior.member_id, max_discount=Percentage.of(10)
        )


def test_authority_is_dated() -> None:
    """A grant is in force only from valid_from until valid_until or revocation."""
    team, senior = formed()
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)
    grant_id = GrantId(uuid4())
    team.grant_authority(
        meta(senior),
        senior,
        grant_id,
        kam.member_id,
        max_discount=Percentage.of(5),
        valid_from=at(days=10),
        valid_until=at(days=20),
    )
    history(team)

    before, during, after = (team.credentials(kam.member_id, at(days=d)) for d in (5, 15, 25))

    assert before.discount_authority is None
    assert during.discount_authority == Percentage.of(5)
    assert after.discount_authority is None
    with pytest.raises(AuthorityExceeded):
        before.require_authority("approver", Percentage.of(1))


def test_revoked_authority_ends_at_revocation() -> None:
    """Given a grant, when revoked on day 3, then it was in force before day 3 and not after."""
    team, senior = formed()
    kam = granted(team, senior, joined(team, senior, Role.KEY_ACCOUNT_MANAGER), 5)

    team.revoke_authority(meta(senior, at(days=3)), senior, kam.grant_id, reason="audit")  # type: ignore[arg-type]

    assert then(team) == [Team.AuthorityRevoked]
    assert team.credentials(kam.member_id, at(days=2)).discount_authority == Percentage.of(5)
    assert team.credentials(kam.member_id, at(days=4)).discount_authority is None


def test_capacity_defaults_and_overrides() -> None:
    """A KAM's capacity is the team default until set for them."""
    team, senior = formed()
    kam = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    team.set_capacity(meta(senior), senior, kam.member_id, capacity=6)
    team.set_tier_weights(meta(senior), senior, TierWeights(strategic=4, major=2, standard=1))

    assert then(team) == [Team.CapacitySet, Team.TierWeightsSet]
    assert team.capacity_of(kam.member_id) == 6
    assert team.capacity_of(senior.member_id) == 12
    assert team.tier_weights.of(Tier.STRATEGIC) == 4


@pytest.mark.parametrize("bad", [-1, 1001, True, "3"])
def test_capacity_must_be_a_sensible_whole_number(bad: object) -> None:
    """Capacity is a whole number from 0 to 1000."""
    team, senior = formed()

    with unchanged(team), pytest.raises(ValidationError, match="capacity"):
        team.set_capacity(meta(senior), senior, None, capacity=bad)  # type: ignore[arg-type]


def test_cross_training_makes_a_backup_eligible() -> None:
    """Given two KAMs, when B is cross-trained for A and designated, then B covers A."""
    team, senior = formed()
    a = joined(team, senior, Role.KEY_ACCOUNT_MANAGER, "A")
    b = joined(team, senior, Role.KEY_ACCOUNT_MANAGER, "B")

    team.record_training(
        meta(senior),
        senior,
        b.member_id,
        kind=TrainingKind.CROSS_TRAINING,
        skill="telecom accounts",
        covers_member_id=a.member_id,
    )
    team.designate_backup(meta(senior), senior, a.member_id, backup_id=b.member_id)

    assert then(team) == [Team.TrainingRecorded, Team.BackupDesignated]
    assert team.members[a.member_id].backup_id == b.member_id
    assert team.is_cross_trained(b.member_id, a.member_id)
    assert not team.is_cross_trained(a.member_id, b.member_id)


def test_nobody_is_their_own_backup() -> None:
    """Designating a member as their own backup is refused."""
    team, senior = formed()
    a = joined(team, senior, Role.KEY_ACCOUNT_MANAGER)

    with unchanged(team), pytest.raises(ValidationError, match="backup_id"):
        team.designate_backup(meta(senior), senior, a.member_id, backup_id=a.member_id)


def test_evaluation_standard_applies_from_its_date() -> None:
    """The standard in force is the latest one whose effective date has come."""
    team, senior = formed()
    standard = EvaluationStandard(
        weights={Metric.SALES_REVENUE: Decimal(100)},
        bands=[RatingBand(Decimal(0), "pass")],
    )

    team.set_evaluation_standard(meta(senior), senior, standard, effective_from=at(days=30))

    assert then(team) == [Team.EvaluationStandardSet]
    assert team.standard_at(at(days=1)) == EvaluationStandard.default()
    assert team.standard_at(at(days=31)) == standard


def test_a_time_zone_applies_from_its_moment() -> None:
    """Given a team keeping UTC, a zone set from day 30 is in force from then on, recorded by
    its IANA name; the zone a quarter follows is the one in force at its last moment."""
    team, senior = formed()

    team.set_time_zone(meta(senior), senior, "Asia/Shanghai", effective_from=at(days=30))

    (event,) = recorded(team)
    assert isinstance(event, Team.TimeZoneSet)
    assert (event.zone, event.effective_from) == ("Asia/Shanghai", at(days=30))
    assert team.zone_name_at(at(days=29)) == "UTC"
    assert str(team.zone_at(at(days=31))) == "Asia/Shanghai"


def test_a_time_zone_without_a_moment_applies_from_the_command() -> None:
    """Without ``effective_from`` the zone is in force from the command's own moment."""
    team, senior = formed()

    team.set_time_zone(meta(senior, at(days=3)), senior, "Europe/Berlin")

    assert [e.effective_from for e in recorded(team)] == [at(days=3)]


def test_an_unknown_time_zone_records_nothing() -> None:
    """A misspelt zone is UnknownTimeZone naming the field; the team is unchanged."""
    team, senior = formed()

    with unchanged(team), pytest.raises(UnknownTimeZone, match=r"^zone: 'Asia/Pekin'"):
        team.set_time_zone(meta(senior), senior, "Asia/Pekin")


def test_standard_weights_must_add_up_to_100() -> None:
    """An evaluation standard whose weights do not add up to 100 is refused."""
    with pytest.raises(ValidationError, match="standard"):
        EvaluationStandard(
            weights={Metric.SALES_REVENUE: Decimal(60)}, bands=[RatingBand(Decimal(0), "D")]
        )


def test_standard_rates_scores_by_band() -> None:
    """Scores map to the highest band they reach."""
    standard = EvaluationStandard.default()

    assert [standard.rating(Decimal(s)) for s in (95, 80, 60, 10)] == ["A", "B", "C", "D"]


def test_commands_cannot_be_backdated_before_the_last_change() -> None:
    """An effective time earlier than the team's last event is TimestampOutOfOrder."""
    team, senior = formed()

    with unchanged(team), pytest.raises(TimestampOutOfOrder):
        team.set_capacity(meta(senior, at(days=-1)), senior, None, capacity=3)


def test_unknown_members_are_named_in_the_error() -> None:
    """Naming a member the team does not have is MemberNotFound for that field."""
    team, senior = formed()

    with unchanged(team), pytest.raises(MemberNotFound, match="member_id"):
        team.set_capacity(meta(senior), senior, MemberId(uuid4()), capacity=3)


@given(
    rates=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),
            st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda rate: rate[0],
    ),
    day=st.integers(min_value=-5, max_value=410),
)
def test_the_rate_in_force_is_the_latest_recorded_before(
    rates: list[tuple[int, Decimal]], day: int
) -> None:
    """Whatever rates were recorded, in whatever order, the one in force at a moment is the
    one with the latest moment not after it; before all of them there is none."""
    team, senior = formed()
    for days, rate in rates:
        team.record_exchange_rate(
            meta(senior), senior, currency="USD", into="CNY", rate=rate, effective_from=at(days)
        )

    found = team.rate_at("USD", "CNY", at(days=day))

    earlier = [(days, rate) for days, rate in rates if days <= day]
    if not earlier:
        assert found is None
    else:
        assert found is not None
        assert found.rate == max(earlier)[1]  # the latest moment (moments are unique)
        assert team.rate_at("CNY", "USD", at(days=day)) is None
