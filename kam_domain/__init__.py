"""kam-domain: a key-account marketing team on an event-sourced, auditable record.

The public API is what this module exports; everything else may change between versions.
"""

# ruff: noqa: F405 - __all__ names what the star import below gives the type checkers

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kam_domain._api import *  # noqa: F403

__all__ = [
    "AccountStrategies",
    "Actor",
    "AlreadyExists",
    "ApprovalChainRules",
    "AuthorityExceeded",
    "BackdatedBeyondWindow",
    "CaseKind",
    "CaseStatus",
    "ChainCondition",
    "ChainRule",
    "CipherKeyNotInRing",
    "ClientAccount",
    "ConcurrencyConflict",
    "ContactInfluence",
    "Credentials",
    "DiscountOutcome",
    "EffectiveTimeInFuture",
    "EvaluationStandard",
    "ExchangeRateMissing",
    "FeasibilityVerdict",
    "InvalidCipherKey",
    "KamApplication",
    "KamDomainError",
    "Meta",
    "Metric",
    "Money",
    "NotAKamStore",
    "NotAuthorised",
    "NotFound",
    "Opportunity",
    "OpportunityStage",
    "Outbox",
    "OutboxItem",
    "PaymentInstallment",
    "PendingDiscount",
    "Percentage",
    "Period",
    "Project",
    "ProjectMilestone",
    "ProjectOutcome",
    "ProjectStatus",
    "RatingBand",
    "RelationshipStrength",
    "RevenueActual",
    "RevenueGoal",
    "Role",
    "RuleViolated",
    "SatisfactionActual",
    "SatisfactionGoal",
    "ScopeKind",
    "SelfApproval",
    "ServiceLevelActual",
    "ServiceLevelGoal",
    "Severity",
    "Signatory",
    "StageProbabilities",
    "StoreError",
    "StoreNotFound",
    "StoreNotSealed",
    "StoreTampered",
    "StoreUnavailable",
    "StoreUnreadable",
    "Target",
    "TargetScope",
    "Team",
    "Tier",
    "TierWeights",
    "TrainingKind",
    "UnknownTimeZone",
    "UnregisteredTopic",
    "ValidationError",
    "new_cipher_key",
]


def __getattr__(name: str) -> Any:
    # The public names are imported on first use: a process that needs only part of the
    # library (``kam --help``, a storage adapter) does not build every aggregate class.
    if name in __all__:
        from kam_domain import _api

        value = getattr(_api, name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
