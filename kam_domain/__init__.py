"""kam-domain: a key-account marketing team on an event-sourced, auditable record.

The public API is what this module exports; everything else may change between versions.
"""

from __future__ import annotations

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import (
    EvaluationStandard,
    RatingBand,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AlreadyExists,
    AuthorityExceeded,
    ConcurrencyConflict,
    KamDomainError,
    NotAuthorised,
    NotFound,
    RuleViolated,
    SelfApproval,
    StoreError,
    ValidationError,
)
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
    "Actor",
    "AlreadyExists",
    "AuthorityExceeded",
    "CaseKind",
    "ConcurrencyConflict",
    "Credentials",
    "EvaluationStandard",
    "KamApplication",
    "KamDomainError",
    "Meta",
    "Metric",
    "Money",
    "NotAuthorised",
    "NotFound",
    "Percentage",
    "Period",
    "RatingBand",
    "Role",
    "RuleViolated",
    "SelfApproval",
    "Severity",
    "StoreError",
    "Team",
    "Tier",
    "TierWeights",
    "TrainingKind",
    "ValidationError",
]
