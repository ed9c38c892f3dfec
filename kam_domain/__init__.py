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
    ConcurrencyConflict,
    KamDomainError,
    NotAKamStore,
    NotAuthorised,
    NotFound,
    RuleViolated,
    SelfApproval,
    StoreError,
    StoreNotFound,
    StoreNotSealed,
    StoreUnavailable,
    StoreUnreadable,
    UnregisteredTopic,
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
    "CaseKind",
    "CaseStatus",
    "ClientAccount",
    "ConcurrencyConflict",
    "ContactInfluence",
    "Credentials",
    "DiscountOutcome",
    "EvaluationStandard",
    "FeasibilityVerdict",
    "KamApplication",
    "KamDomainError",
    "Meta",
    "Metric",
    "Money",
    "NotAKamStore",
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
    "StoreNotFound",
    "StoreNotSealed",
    "StoreUnavailable",
    "StoreUnreadable",
    "Target",
    "TargetScope",
    "Team",
    "Tier",
    "TierWeights",
    "TrainingKind",
    "UnregisteredTopic",
    "ValidationError",
    "new_cipher_key",
]
