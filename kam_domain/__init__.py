"""kam-domain: a key-account marketing team on an event-sourced, auditable record.

The public API is what this module exports; everything else may change between versions.
"""

from __future__ import annotations

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import (
    AccountStrategies,
    CaseStatus,
    ClientAccount,
    ContactInfluence,
    PaymentInstallment,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import (
    DiscountOutcome,
    FeasibilityVerdict,
    Project,
    ProjectMilestone,
    ProjectOutcome,
    ProjectStatus,
)
from kam_domain.aggregates.target import (
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    SatisfactionGoal,
    ScopeKind,
    ServiceLevelActual,
    ServiceLevelGoal,
    Signatory,
    Target,
    TargetScope,
)
from kam_domain.aggregates.team import (
    EvaluationStandard,
    RatingBand,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.application import KamApplication
from kam_domain.application.projects import PendingDiscount
from kam_domain.errors import (
    AlreadyExists,
    AuthorityExceeded,
    BackdatedBeyondWindow,
    ConcurrencyConflict,
    EffectiveTimeInFuture,
    KamDomainError,
    NotAuthorised,
    NotFound,
    RuleViolated,
    SelfApproval,
    StoreError,
    StoreNotSealed,
    StoreTampered,
    StoreUnavailable,
    StoreUnreadable,
    ValidationError,
)
from kam_domain.storage import new_cipher_key
from kam_domain.values import (
    Actor,
    CaseKind,
    Metric,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    Tier,
)

__all__ = [
    "AccountStrategies",
    "Actor",
    "AlreadyExists",
    "AuthorityExceeded",
    "BackdatedBeyondWindow",
    "CaseKind",
    "CaseStatus",
    "ClientAccount",
    "ConcurrencyConflict",
    "ContactInfluence",
    "Credentials",
    "DiscountOutcome",
    "EffectiveTimeInFuture",
    "EvaluationStandard",
    "FeasibilityVerdict",
    "KamApplication",
    "KamDomainError",
    "Meta",
    "Metric",
    "Money",
    "NotAuthorised",
    "NotFound",
    "PaymentInstallment",
    "PendingDiscount",
    "Percentage",
    "Period",
    "Project",
    "ProjectMilestone",
    "ProjectOutcome",
    "ProjectStatus",
    "RatingBand",
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
    "StoreError",
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
    "ValidationError",
    "new_cipher_key",
]
