"""Every failure the library reports, one class per condition, under :class:`KamDomainError`.

Hosts catch :class:`KamDomainError` for "the library refused"; the family classes
(:class:`ValidationError`, :class:`NotFound`, :class:`NotAuthorised`, :class:`RuleViolated`,
:class:`StoreError`) for the kind of refusal; the leaf classes for one condition.
Each family also subclasses the built-in exception that fits, so generic handlers work too.
Whenever one of these is raised by a command, nothing has been recorded.

The module is long on purpose: it is the one catalogue of the library's refusals, read as a
list (by hosts mapping them to their own responses, and by the test that checks every one is
documented and exported), and each class is a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AccountNotFound",
    "AccountNotKey",
    "AgreementNotFound",
    "AgreementValueExceeded",
    "AlreadyAcknowledged",
    "AlreadyDecided",
    "AlreadyExists",
    "AmountNotPositive",
    "ApprovalStepNotFound",
    "ApprovalStepsPending",
    "AuthorityExceeded",
    "BackdatedBeyondWindow",
    "CaseNotFound",
    "CipherKeyNotInRing",
    "CloseDateBeforeOpening",
    "ConcurrencyConflict",
    "ContactNotFound",
    "CurrencyMismatch",
    "DeadLetterNotFound",
    "DiscountRequestNotFound",
    "EffectiveTimeInFuture",
    "ExchangeRateMissing",
    "GrantBeyondOwnAuthority",
    "GrantBeyondTopAuthority",
    "HistoryRewritten",
    "InvalidCipherKey",
    "InvalidStoreUrl",
    "InvalidTransition",
    "InvoiceNotFound",
    "KamDomainError",
    "KeyFileExists",
    "KeyFileInvalid",
    "LogNotIntact",
    "MarginBelowMinimum",
    "MemberInactive",
    "MemberNotFound",
    "NoAccountableManager",
    "NoDelegation",
    "NotAKamStore",
    "NotAssignedToAccount",
    "NotAuthorised",
    "NotFound",
    "NotNextInOutbox",
    "NotOnTeam",
    "NotTheRequester",
    "NotYetRecorded",
    "NotYourCredentials",
    "NothingNamed",
    "NumberOutOfRange",
    "OpportunityClosed",
    "OpportunityNotFound",
    "OutboxKindUnknown",
    "OutboxNameInvalid",
    "OutputNotEmpty",
    "PaymentExceedsBalance",
    "PeriodClosed",
    "PeriodNotClosed",
    "PolicyImpersonation",
    "PolicyNotFound",
    "PriceBelowFloor",
    "ProjectNotFound",
    "ProjectOfAnotherAccount",
    "QuoteNotFound",
    "RiskNotFound",
    "RoleRequired",
    "RuleViolated",
    "SelfApproval",
    "SignOffIncomplete",
    "SignatureInvalid",
    "StageUnchanged",
    "StateAhead",
    "StateConflict",
    "StateNotKept",
    "StepApproverRepeated",
    "StoreError",
    "StoreNotFound",
    "StoreNotSealed",
    "StoreParameterOutOfRange",
    "StoreReadOnly",
    "StoreTampered",
    "StoreUnavailable",
    "StoreUnreadable",
    "SupervisorRequired",
    "TargetNotFound",
    "TeamNotFound",
    "TimestampOutOfOrder",
    "TreeHeadInvalid",
    "UnknownStoreScheme",
    "UnknownTimeZone",
    "UnregisteredTopic",
    "UnsafeText",
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


class OutboxNameInvalid(ValidationError):
    """Raised when an outbox consumer's name is not 1 to 64 lower-case letters, digits, '.',
    '_' or '-'."""


class OutboxKindUnknown(ValidationError):
    """Raised when an outbox is opened for a kind of decision it does not know, or for an event
    class the library does not record."""


class CurrencyMismatch(ValidationError):
    """Raised when two amounts in different currencies are combined or compared."""


class ExchangeRateMissing(ValidationError):
    """Raised when an amount must convert into another currency and no rate is in force."""


class UnknownTimeZone(ValidationError):
    """Raised when a time zone is not an IANA name the standard library's zoneinfo knows."""


class NumberOutOfRange(ValidationError):
    """Raised when a number is beyond the library's bounds (magnitude or decimal places)."""


class UnsafeText(ValidationError):
    """Raised when text holds a lone surrogate or a control or format character."""


class AmountNotPositive(ValidationError):
    """Raised when an opportunity's amount is zero or negative."""


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

    def __init__(self, field: str, value: object, known: Sequence[object] = ()) -> None:
        super().__init__(field, value)
        #: What is registered instead: policy names, or the versions of the one named.
        self.known = tuple(known)
        name, at, _ = str(value).partition("@")
        if at:
            listed = ", ".join(str(v) for v in self.known) or "none"
            message = f"{field}: no version {value} registered; versions of {name}: {listed}"
        else:
            listed = ", ".join(str(v) for v in self.known) or "none registered"
            message = f"{field}: no policy named {value}; policies: {listed}"
        self.args = (message,)


class DeadLetterNotFound(NotFound):
    """Raised when no parked event has the given dead-letter id."""

    what = "dead letter"


class InvoiceNotFound(NotFound):
    """Raised when the account has no invoice with the given id: never issued, or paid in full
    before the retention window and no longer held."""

    what = "invoice"


class CaseNotFound(NotFound):
    """Raised when the account has no case with the given id: never opened, or resolved
    before the retention window and no longer held."""

    what = "case"


class ContactNotFound(NotFound):
    """Raised when the account's relationship map has no contact with the given id."""

    what = "contact"


class AgreementNotFound(NotFound):
    """Raised when the account has no agreement with the given id: never signed, or billed to
    its value before the retention window and no longer held."""

    what = "agreement"


class DiscountRequestNotFound(NotFound):
    """Raised when the project has no discount request with the given id."""

    what = "discount request"


class ApprovalStepNotFound(NotFound):
    """Raised when a discount request's approval chain has no step with the given number."""

    what = "approval step"


class QuoteNotFound(NotFound):
    """Raised when the project has no procurement quote with the given id."""

    what = "procurement quote"


class RiskNotFound(NotFound):
    """Raised when the project has no risk with the given id."""

    what = "risk"


class OpportunityNotFound(NotFound):
    """Raised when no opportunity has the given id."""

    what = "opportunity"


# --- Authorisation ---------------------------------------------------------------------------


class NotAuthorised(KamDomainError, PermissionError):
    """Raised when the actor may not do what the command asks, at that moment."""


class NotYourCredentials(NotAuthorised):
    """Raised when a member's command carries another member's credentials as the actor's."""


class NotOnTeam(NotAuthorised):
    """Raised when the actor (or a named party) is not a member of the record's team."""


class PolicyImpersonation(NotAuthorised):
    """Raised when a caller names a policy as the actor: only the policy engine acts as one."""


class RoleRequired(NotAuthorised):
    """Raised when the actor (or a named party) does not hold a role the command requires."""


class MemberInactive(NotAuthorised):
    """Raised when a member who has left the team is named as actor or party."""


class AuthorityExceeded(NotAuthorised):
    """Raised when an approval is beyond the authority the approver holds at that moment."""


class GrantBeyondOwnAuthority(NotAuthorised):
    """Raised when a director grants more authority than they hold themselves."""


class GrantBeyondTopAuthority(NotAuthorised):
    """Raised when anyone, the company included, grants above the team's recorded top authority."""


class SelfApproval(NotAuthorised):
    """Raised when someone would approve, evaluate or sign off their own request or target."""


class StepApproverRepeated(NotAuthorised):
    """Raised when one member would approve two steps of the same discount approval chain."""


class NoDelegation(NotAuthorised):
    """Raised when a member would approve on behalf of another who delegated them nothing in
    force at that moment."""


class NotTheRequester(NotAuthorised):
    """Raised when someone other than its requester would recall a discount request."""


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


class OpportunityClosed(InvalidTransition):
    """Raised when an opportunity that was won or lost would be changed."""


class StageUnchanged(InvalidTransition):
    """Raised when an opportunity is moved to the stage it is in already."""


class CloseDateBeforeOpening(RuleViolated):
    """Raised when an opportunity's expected close date is earlier than its opening."""


class ProjectOfAnotherAccount(RuleViolated):
    """Raised when an opportunity is won with a project of a different account."""


class AccountNotKey(RuleViolated):
    """Raised when a key-account-only command targets an account that is not designated key."""


class NoAccountableManager(RuleViolated):
    """Raised when a command needs the account's accountable KAM and there is none."""


class AlreadyDecided(RuleViolated):
    """Raised when a discount request that was already decided is decided again."""


class AlreadyAcknowledged(RuleViolated):
    """Raised when an outbox item at or behind the consumer's position is acknowledged (again,
    or by another process following the same consumer first)."""

    def __init__(self, outbox: str, position: int, acknowledged: int) -> None:
        self.field = "item"
        self.position = position
        super().__init__(
            f"item: the item at position {position} of outbox {outbox!r} is acknowledged"
            f" already (the consumer is at position {acknowledged})"
        )


class NotNextInOutbox(RuleViolated):
    """Raised when an outbox item is acknowledged while an earlier item is still pending:
    items are acknowledged in log order, none skipped."""

    def __init__(self, outbox: str, position: int, pending: int) -> None:
        self.field = "item"
        self.position = position
        self.pending = pending
        super().__init__(
            f"item: the item at position {position} of outbox {outbox!r} is not the next;"
            f" the item at position {pending} is pending before it"
        )


class ApprovalStepsPending(RuleViolated):
    """Raised when a request under an approval chain would be decided as a whole while its steps
    are pending, or a step would be decided before the stages before it are approved."""


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


class StoreParameterOutOfRange(InvalidStoreUrl):
    """Raised when a store URL's numeric parameter (pool size, timeout) is out of range."""


class UnknownStoreScheme(StoreError, ValueError):
    """Raised when a store URL's scheme has no registered adapter."""


class StoreReadOnly(StoreError, PermissionError):
    """Raised when a store opened for reading only is asked to record something (an outbox
    consumer's acknowledgement)."""


class StoreUnavailable(StoreError, ConnectionError):
    """Raised when the store cannot be reached or opened."""


class StoreUnreadable(StoreError, ValueError):
    """Raised when stored events cannot be decoded (wrong or missing cipher key, compression)."""


class CipherKeyNotInRing(StoreUnreadable):
    """Raised when a stored event was encrypted under a key the key ring does not hold; names
    the key's id (None for an event written before key ids were recorded), never a key."""

    def __init__(self, message: str, key_id: str | None) -> None:
        super().__init__(message)
        self.key_id = key_id


class InvalidCipherKey(StoreError, ValueError):
    """Raised when a cipher key or key ring is malformed (not base64, a wrong size, repeated)."""


class StoreNotSealed(StoreError):
    """Raised when a store keeps no hash chain this library can verify (adapter or format)."""


class StoreTampered(StoreError, ValueError):
    """Raised when a stored row is in a form the library never writes, or derived data (the
    as-of index) disagrees with the events it is derived from: edited behind its back."""


class StoreNotFound(StoreError, FileNotFoundError):
    """Raised when a store opened for reading does not exist: no such SQLite file, no such
    PostgreSQL schema (a reading command never creates one)."""


class NotAKamStore(StoreError):
    """Raised when the database a store URL names holds no kam store: a foreign SQLite file,
    a file that is not a database, a schema without the library's tables."""


class UnregisteredTopic(StoreError, ValueError):
    """Raised when a stored event names a type (topic) the library does not write: it was
    written behind the library's back, and it is not decoded (nothing is imported)."""

    def __init__(self, where: str, topic: str, what: str = "an event type") -> None:
        self.where = where
        self.topic = topic
        super().__init__(
            f"store: {where}: topic {topic!r} is not {what} this library writes: "
            "the stored event was written behind its back (tampering); it is not decoded"
        )


# --- Signed tree heads and proofs ------------------------------------------------------------


class KeyFileInvalid(ValidationError):
    """Raised when a key file cannot be read as an Ed25519 key of the kind the command needs."""


class KeyFileExists(ValidationError):
    """Raised when generating a key would overwrite an existing key file."""


class TreeHeadInvalid(ValidationError):
    """Raised when a signed tree head or proof file is malformed (not JSON, a field missing)."""


class SignatureInvalid(KamDomainError, ValueError):
    """Raised when a signed tree head's signature does not verify under the public key given."""


class LogNotIntact(StoreError):
    """Raised when a tree head would be signed over a log whose hash chain does not verify."""


class StateNotKept(StoreError):
    """Raised when the store (or a policy that learns without saying what) keeps no state for
    the policies: there is none to rebuild."""


class StateAhead(StoreError):
    """Raised when the policies' state holds a record folded further on in the log than this
    engine has settled (another engine sharing the state is ahead): it starts again from it."""


class StateConflict(StoreError):
    """Raised when another policy engine wrote a checkpoint of the state since this one read
    the last: nothing is written."""


class HistoryRewritten(StoreError):
    """Raised when the store's tree no longer matches a signed tree head (rewritten or cut)."""


# --- Reading by name, writing reports -------------------------------------------------------


class NothingNamed(NotFound):
    """Raised when no record of a kind has the name (or id) given; the message lists the
    closest names there are."""

    def __init__(self, kind: str, value: object, close: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.close = close
        KamDomainError.__init__(self, _nothing_named(kind, value, close))
        self.field = kind
        self.value = value


class NotYetRecorded(NotFound):
    """Raised when a record is asked for as of a moment before its first event."""

    def __init__(self, message: str) -> None:
        KamDomainError.__init__(self, message)
        self.field = "at"
        self.value = message


class OutputNotEmpty(KamDomainError, FileExistsError):
    """Raised when a report would be written into a directory that already holds files (give
    --force to write over a pack written before)."""


def _nothing_named(kind: str, value: object, close: tuple[str, ...]) -> str:
    message = f"{kind}: no {kind} named {value!r} (nor with that id)"
    if close:
        message += "; did you mean " + ", ".join(repr(name) for name in close) + "?"
    return message
