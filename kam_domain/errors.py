"""Every failure the library reports, one class per condition, under :class:`KamDomainError`.

Hosts catch :class:`KamDomainError` for "the library refused"; the family classes
(:class:`ValidationError`, :class:`NotFound`, :class:`NotAuthorised`, :class:`RuleViolated`,
:class:`StoreError`) for the kind of refusal; the leaf classes for one condition.
Each family also subclasses the built-in exception that fits, so generic handlers work too.
Whenever one of these is raised by a command, nothing has been recorded.
"""

from __future__ import annotations

__all__ = [
    "AccountNotFound",
    "AccountNotKey",
    "AgreementNotFound",
    "AgreementValueExceeded",
    "AlreadyDecided",
    "AlreadyExists",
    "AuthorityExceeded",
    "BackdatedBeyondWindow",
    "CaseNotFound",
    "ConcurrencyConflict",
    "CurrencyMismatch",
    "DeadLetterNotFound",
    "DiscountRequestNotFound",
    "EffectiveTimeInFuture",
    "GrantBeyondOwnAuthority",
    "InvalidStoreUrl",
    "InvalidTransition",
    "InvoiceNotFound",
    "KamDomainError",
    "MarginBelowMinimum",
    "MemberInactive",
    "MemberNotFound",
    "NoAccountableManager",
    "NotAssignedToAccount",
    "NotAuthorised",
    "NotFound",
    "PaymentExceedsBalance",
    "PeriodClosed",
    "PeriodNotClosed",
    "PolicyNotFound",
    "PriceBelowFloor",
    "ProjectNotFound",
    "QuoteNotFound",
    "RiskNotFound",
    "RoleRequired",
    "RuleViolated",
    "SelfApproval",
    "SignOffIncomplete",
    "StoreError",
    "StoreNotSealed",
    "StoreTampered",
    "StoreUnavailable",
    "StoreUnreadable",
    "SupervisorRequired",
    "TargetNotFound",
    "TeamNotFound",
    "TimestampOutOfOrder",
    "UnknownStoreScheme",
    "ValidationError",
]


class KamDomainError(Exception):
    """Raised for every failure this library reports; the base of all its exceptions."""


# --- Bad input -------------------------------------------------------------------------------


class ValidationError(KamDomainError, ValueError):
    """Raised when an argument is malformed: wrong type, out of range, empty, naive datetime."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class CurrencyMismatch(ValidationError):
    """Raised when two amounts in different currencies are combined or compared."""


# --- Unknown ids -----------------------------------------------------------------------------


class NotFound(KamDomainError, LookupError):
    """Raised when a command or query names something that does not exist."""

    def __init__(self, field: str, value: object) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: no {self.what} with id {value}")

    what = "record"


class TeamNotFound(NotFound):
    """Raised when no team has the given id."""

    what = "team"


class MemberNotFound(NotFound):
    """Raised when the team has no member with the given id."""

    what = "team member"


class AccountNotFound(NotFound):
    """Raised when no client account has the given id or name."""

    what = "client account"


class ProjectNotFound(NotFound):
    """Raised when no project has the given id."""

    what = "project"


class TargetNotFound(NotFound):
    """Raised when no target has the given id."""

    what = "target"


class PolicyNotFound(NotFound):
    """Raised when no policy (or no such version of it) is registered under the given name."""

    what = "policy"


class DeadLetterNotFound(NotFound):
    """Raised when no parked event has the given dead-letter id."""

    what = "dead letter"


class InvoiceNotFound(NotFound):
    """Raised when the account has no invoice with the given id."""

    what = "invoice"


class CaseNotFound(NotFound):
    """Raised when the account has no case with the given id."""

    what = "case"


class AgreementNotFound(NotFound):
    """Raised when the account has no agreement with the given id."""

    what = "agreement"


class DiscountRequestNotFound(NotFound):
    """Raised when the project has no discount request with the given id."""

    what = "discount request"


class QuoteNotFound(NotFound):
    """Raised when the project has no procurement quote with the given id."""

    what = "procurement quote"


class RiskNotFound(NotFound):
    """Raised when the project has no risk with the given id."""

    what = "risk"


# --- Authorisation ---------------------------------------------------------------------------


class NotAuthorised(KamDomainError, PermissionError):
    """Raised when the actor may not do what the command asks, at that moment."""


class RoleRequired(NotAuthorised):
    """Raised when the actor (or a named party) does not hold a role the command requires."""


class MemberInactive(NotAuthorised):
    """Raised when a member who has left the team is named as actor or party."""


class AuthorityExceeded(NotAuthorised):
    """Raised when an approval is beyond the authority the approver holds at that moment."""


class GrantBeyondOwnAuthority(NotAuthorised):
    """Raised when a director grants more authority than they hold themselves."""


class SelfApproval(NotAuthorised):
    """Raised when someone would approve, evaluate or sign off their own request or target."""


class SupervisorRequired(NotAuthorised):
    """Raised when a change needs the supervisor (e.g. a target revised after its period closed)."""


class NotAssignedToAccount(NotAuthorised):
    """Raised when a command for the account's own KAM or representative comes from another."""


# --- Business rules --------------------------------------------------------------------------


class RuleViolated(KamDomainError):
    """Raised when a command would break one of the domain's invariants."""


class AlreadyExists(RuleViolated):
    """Raised when something is created twice (same id, or a name that must be unique)."""


class InvalidTransition(RuleViolated):
    """Raised when a command does not fit the current state (e.g. resolving a closed case)."""


class AccountNotKey(RuleViolated):
    """Raised when a key-account-only command targets an account that is not designated key."""


class NoAccountableManager(RuleViolated):
    """Raised when a command needs the account's accountable KAM and there is none."""


class AlreadyDecided(RuleViolated):
    """Raised when a discount request that was already decided is decided again."""


class PriceBelowFloor(RuleViolated):
    """Raised when a discounted price would fall below the project's price-band floor."""


class MarginBelowMinimum(RuleViolated):
    """Raised when an approval would leave a margin under the minimum without a sales director."""


class PaymentExceedsBalance(RuleViolated):
    """Raised when a payment is larger than the open balance of its invoice."""


class AgreementValueExceeded(RuleViolated):
    """Raised when invoices under an agreement would add up to more than its value."""


class PeriodClosed(RuleViolated):
    """Raised when a command needs an open period and the period has closed."""


class PeriodNotClosed(RuleViolated):
    """Raised when a command needs a closed period (e.g. evaluating a target) and it is open."""


class SignOffIncomplete(RuleViolated):
    """Raised when an evaluation is used as final before both KAM and supervisor signed it."""


class TimestampOutOfOrder(RuleViolated):
    """Raised when a command's effective time is earlier than the aggregate's last event."""


class EffectiveTimeInFuture(RuleViolated):
    """Raised when a command's effective time is later than now plus the allowed clock skew."""


class BackdatedBeyondWindow(RuleViolated):
    """Raised when a command's effective time is earlier than now by more than its team's
    backdating window and the actor holds no permission to import history."""


class ConcurrencyConflict(RuleViolated):
    """Raised when another writer changed the same aggregate first; retrying is safe."""


# --- Storage ---------------------------------------------------------------------------------


class StoreError(KamDomainError):
    """Raised when the store cannot be opened or used."""


class InvalidStoreUrl(StoreError, ValueError):
    """Raised when a store URL cannot be parsed."""


class UnknownStoreScheme(StoreError, ValueError):
    """Raised when a store URL's scheme has no registered adapter."""


class StoreUnavailable(StoreError, ConnectionError):
    """Raised when the store cannot be reached or opened."""


class StoreUnreadable(StoreError, ValueError):
    """Raised when stored events cannot be decoded (wrong or missing cipher key, compression)."""


class StoreNotSealed(StoreError):
    """Raised when a store keeps no hash chain this library can verify (adapter or format)."""


class StoreTampered(StoreError, ValueError):
    """Raised when a stored row is in a form the library never writes, or derived data (the
    as-of index) disagrees with the events it is derived from: edited behind its back."""
