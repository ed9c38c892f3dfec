"""Value objects: money, percentages, periods, roles, tiers, severities, actors and typed ids.

All are immutable and validate on construction, raising :class:`~kam_domain.errors.ValidationError`
(or a subclass) that names the offending field. Every one of them round-trips through the
stored-event transcoder (see :mod:`kam_domain.transcoding`).
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import NewType, Self
from uuid import UUID, uuid4

import attrs
import pycountry

from kam_domain.bounds import (
    AMOUNT_PLACES,
    MAX_NUMBER_TEXT,
    PERCENT_PLACES,
    check_computable,
    check_places,
    check_text,
)
from kam_domain.errors import CurrencyMismatch, NumberOutOfRange, ValidationError
from kam_domain.transcoding import transcoded

__all__ = [
    "AccountId",
    "Actor",
    "ActorKind",
    "AgreementId",
    "CaseId",
    "CaseKind",
    "ContactId",
    "DiscountRequestId",
    "GrantId",
    "InvoiceId",
    "MemberId",
    "Metric",
    "Money",
    "OpportunityId",
    "Percentage",
    "Period",
    "ProjectId",
    "QuoteId",
    "RiskId",
    "Role",
    "Severity",
    "TargetId",
    "TeamId",
    "Tier",
    "new_id",
    "require_amount",
    "require_percentage",
]

TeamId = NewType("TeamId", UUID)
MemberId = NewType("MemberId", UUID)
AccountId = NewType("AccountId", UUID)
ProjectId = NewType("ProjectId", UUID)
TargetId = NewType("TargetId", UUID)
GrantId = NewType("GrantId", UUID)
AgreementId = NewType("AgreementId", UUID)
InvoiceId = NewType("InvoiceId", UUID)
CaseId = NewType("CaseId", UUID)
ContactId = NewType("ContactId", UUID)
DiscountRequestId = NewType("DiscountRequestId", UUID)
QuoteId = NewType("QuoteId", UUID)
RiskId = NewType("RiskId", UUID)
OpportunityId = NewType("OpportunityId", UUID)


def new_id() -> UUID:
    """A fresh random id; hosts may pass their own ids instead (e.g. their CRM's)."""
    return uuid4()


def to_decimal(field: str, value: object) -> Decimal:
    """Accept Decimal, int or a numeric string; refuse floats, which cannot hold money exactly.

    The result is computable (see :mod:`kam_domain.bounds`): NaN, infinities, huge exponents and
    numbers of 10^15 or more are refused before any arithmetic is done with them.
    """
    if isinstance(value, bool | float):
        raise ValidationError(field, f"must be a Decimal, int or numeric string, not {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        # Checked before conversion: a huge int takes time and memory to turn into a Decimal.
        if value.bit_length() > 64:
            raise NumberOutOfRange(field, "must be less than 10^15 in magnitude")
        result = Decimal(value)
    elif isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT:
            raise NumberOutOfRange(field, f"must be at most {MAX_NUMBER_TEXT} characters long")
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValidationError(field, f"{value!r} is not a number") from None
    else:
        raise ValidationError(field, f"must be a Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(field, f"must be finite, not {result}")
    return check_computable(field, result)


def _check_decimal(_: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    # Runs on every amount, decoded ones included: what the store holds must be computable.
    check_computable(attribute.name, value)  # type: ignore[arg-type]


_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _check_currency(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValidationError("currency", f"must be a three-letter ISO 4217 code, not {value!r}")
    if not _known_currency(value):
        raise ValidationError("currency", f"{value!r} is not an ISO 4217 currency")


# Every amount decoded from the store is checked again: remember the answers (at most one per
# three-letter code, so the memo stays small).
@functools.cache
def _known_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


@transcoded
@attrs.frozen(order=False)
class Money:
    """An exact amount in one ISO 4217 currency; never a float."""

    amount: Decimal = attrs.field(validator=_check_decimal)
    currency: str = attrs.field(validator=_check_currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str, *, field: str = "amount") -> Self:
        """Build from a Decimal, int or numeric string, naming ``field`` in any error.

        At most :data:`~kam_domain.bounds.AMOUNT_PLACES` decimal places, under 10^15.
        """
        return cls(check_places(field, to_decimal(field, amount), AMOUNT_PLACES), currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise ValidationError("amount", f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            msg = f"cannot combine {self.currency} with {other.currency}"
            raise CurrencyMismatch("currency", msg)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * to_decimal("factor", factor), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"


def _check_percentage(_: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    _check_decimal(_, attribute, value)
    assert isinstance(value, Decimal)
    if not Decimal(0) <= value <= Decimal(100):
        raise ValidationError("percentage", f"must be between 0 and 100, not {value}")


@transcoded
@attrs.frozen(order=True)
class Percentage:
    """A percentage between 0 and 100 inclusive, held exactly as a Decimal."""

    value: Decimal = attrs.field(validator=_check_percentage)

    @classmethod
    def of(cls, value: Decimal | int | str, *, field: str = "percentage") -> Self:
        """Build from a Decimal, int or numeric string, naming ``field`` in any error.

        At most :data:`~kam_domain.bounds.PERCENT_PLACES` decimal places.
        """
        number = check_places(field, to_decimal(field, value), PERCENT_PLACES)
        if not Decimal(0) <= number <= Decimal(100):
            raise ValidationError(field, f"must be between 0 and 100, not {number}")
        return cls(number)

    @property
    def fraction(self) -> Decimal:
        return self.value / 100

    def __str__(self) -> str:
        return f"{self.value}%"


def require_amount(field: str, value: object, *, positive: bool = False) -> Money:
    """``value`` as an amount a command accepts: Money with at most AMOUNT_PLACES places
    (and more than zero, if ``positive``)."""
    if not isinstance(value, Money):
        raise ValidationError(field, f"must be Money, not {type(value).__name__}")
    check_places(field, value.amount, AMOUNT_PLACES)
    if positive and value.amount <= 0:
        raise ValidationError(field, f"must be more than zero, not {value}")
    return value


def require_percentage(field: str, value: object) -> Percentage:
    """``value`` as a percentage a command accepts: at most PERCENT_PLACES places."""
    if not isinstance(value, Percentage):
        raise ValidationError(field, f"must be a Percentage, not {value!r}")
    check_places(field, value.value, PERCENT_PLACES)
    return value


_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


def _check_year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 9999:
        raise ValidationError("period", f"year must be an int from 1900 to 9999, not {value!r}")


def _check_quarter(_: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (not isinstance(value, int) or value not in (1, 2, 3, 4)):
        raise ValidationError("period", f"quarter must be 1, 2, 3, 4 or None, not {value!r}")


@transcoded
@attrs.frozen(order=True)
class Period:
    """A calendar quarter (``2026-Q1``) or year (``2026``); the end is exclusive.

    ``start``, ``end`` and ``contains`` read it on the UTC calendar; ``start_in``, ``end_in`` and
    ``contains_in`` on a time zone's (a team's, see ``Team.zone_for``). The period itself names
    no zone: what is stored is the same either way.
    """

    year: int = attrs.field(validator=_check_year)
    quarter: int | None = attrs.field(default=None, validator=_check_quarter)

    @classmethod
    def parse(cls, text: str, *, field: str = "period") -> Self:
        """Parse ``YYYY`` or ``YYYY-Qn``."""
        match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValidationError(field, f"expected YYYY or YYYY-Qn, not {text!r}")
        quarter = int(match[2]) if match[2] else None
        return cls(int(match[1]), quarter)

    @classmethod
    def quarter_of(cls, moment: datetime, zone: tzinfo = UTC) -> Self:
        """The quarter ``moment`` falls in, on the calendar of ``zone`` (UTC unless given)."""
        local = moment.astimezone(zone)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @property
    def start(self) -> datetime:
        month = 1 if self.quarter is None else 3 * (self.quarter - 1) + 1
        return datetime(self.year, month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.quarter is None or self.quarter == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, 3 * self.quarter + 1, 1, tzinfo=UTC)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def start_in(self, zone: tzinfo) -> datetime:
        """The period's first instant on the calendar of ``zone`` (midnight there, or the first
        moment of that day where a clock change skips midnight), as a UTC datetime."""
        return _local_midnight(self.start, zone)

    def end_in(self, zone: tzinfo) -> datetime:
        """The first instant after the period on the calendar of ``zone``, as a UTC datetime."""
        return _local_midnight(self.end, zone)

    def contains_in(self, moment: datetime, zone: tzinfo) -> bool:
        """Whether ``moment`` lies within the period on the calendar of ``zone``."""
        return self.start_in(zone) <= moment < self.end_in(zone)

    def covers(self, other: Period) -> bool:
        """Whether ``other`` lies within this period (a year covers its quarters)."""
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return str(self.year) if self.quarter is None else f"{self.year}-Q{self.quarter}"


def _local_midnight(day: datetime, zone: tzinfo) -> datetime:
    """Midnight of ``day``'s date (a UTC midnight) on the wall clock of ``zone``, in UTC.

    A wall time a clock change skips reads with the offset before the change (zoneinfo's
    ``fold=0``), which lands on the first moment of the new day; a repeated one reads as its
    first occurrence. Either way every instant has exactly one local date.
    """
    if zone is UTC:
        return day
    return day.replace(tzinfo=zone).astimezone(UTC)


class Role(enum.Enum):
    """The roles of a key-account team (see docs/domain.md for the seed's names)."""

    SENIOR_SALES_DIRECTOR = "senior_sales_director"
    SALES_DIRECTOR = "sales_director"
    KEY_ACCOUNT_MANAGER = "key_account_manager"
    KEY_ACCOUNT_REPRESENTATIVE = "key_account_representative"
    PROJECT_DIRECTOR = "project_director"
    SENIOR_ADMIN_MANAGER = "senior_admin_manager"
    FINANCIAL_PLANNER = "financial_planner"
    LEGAL_AFFAIRS_SPECIALIST = "legal_affairs_specialist"
    DEPARTMENT_ASSISTANT = "department_assistant"
    TECHNICAL_SUPPORT = "technical_support"
    CONSULTANT = "consultant"

    @property
    def is_director(self) -> bool:
        """Sales directors of either grade: they grant authority and set standards."""
        return self in (Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR)

    @property
    def can_supervise(self) -> bool:
        """Roles that lead others: directors, KAMs (their representatives), project directors and
        the senior admin manager (the admin staff)."""
        return self.is_director or self in (
            Role.KEY_ACCOUNT_MANAGER,
            Role.PROJECT_DIRECTOR,
            Role.SENIOR_ADMIN_MANAGER,
        )

    @property
    def is_admin(self) -> bool:
        return self in (
            Role.SENIOR_ADMIN_MANAGER,
            Role.FINANCIAL_PLANNER,
            Role.LEGAL_AFFAIRS_SPECIALIST,
            Role.DEPARTMENT_ASSISTANT,
        )

    @property
    def is_technical(self) -> bool:
        return self in (Role.TECHNICAL_SUPPORT, Role.CONSULTANT)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Tier(enum.Enum):
    """How important a key account is; the team's capacity settings weigh each tier."""

    STRATEGIC = "strategic"
    MAJOR = "major"
    STANDARD = "standard"


class Severity(enum.Enum):
    """How serious a client case is; the response SLA depends on it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CaseKind(enum.Enum):
    COMPLAINT = "complaint"
    INQUIRY = "inquiry"


class Metric(enum.Enum):
    """The performance metrics a target sets (业绩指标)."""

    SALES_REVENUE = "sales_revenue"
    SERVICE_LEVEL = "service_level"
    CUSTOMER_SATISFACTION = "customer_satisfaction"


class ActorKind(enum.Enum):
    MEMBER = "member"
    POLICY = "policy"
    SYSTEM = "system"


def _check_ref(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("actor", f"reference must be a non-empty string, not {value!r}")


@transcoded
@attrs.frozen
class Actor:
    """Who issued a command: a team member, a policy (name@version) or a named system."""

    kind: ActorKind = attrs.field(validator=attrs.validators.instance_of(ActorKind))
    ref: str = attrs.field(validator=_check_ref)

    @classmethod
    def member(cls, member_id: UUID) -> Self:
        if not isinstance(member_id, UUID):
            raise ValidationError("actor", f"member id must be a UUID, not {member_id!r}")
        return cls(ActorKind.MEMBER, str(member_id))

    @classmethod
    def policy(cls, name: str, version: int) -> Self:
        return cls(ActorKind.POLICY, check_text("actor", f"{name}@{version}"))

    @classmethod
    def system(cls, name: str) -> Self:
        # Checked here, not on the field: actors decoded from the store are taken as stored.
        return cls(ActorKind.SYSTEM, check_text("actor", name))

    @property
    def member_id(self) -> MemberId | None:
        return MemberId(UUID(self.ref)) if self.kind is ActorKind.MEMBER else None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.ref}"


for _enum in (Role, Tier, Severity, CaseKind, Metric, ActorKind):
    transcoded(_enum)
