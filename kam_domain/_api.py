"""The public API's names, imported together on first use of any (see ``kam_domain``).

Every name here is re-exported by :mod:`kam_domain`, whose ``__all__`` is the one list of them
(a test checks that the two agree).
"""

# ruff: noqa: F401 - the imports are this module's content

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import (
    AccountStrategies,
    CaseStatus,
    ClientAccount,
    ContactInfluence,
    PaymentInstallment,
    RelationshipStrength,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import Opportunity, OpportunityStage, StageProbabilities
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
    ApprovalChainRules,
    ChainCondition,
    ChainRule,
    EvaluationStandard,
    RatingBand,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.application import KamApplication
from kam_domain.application.discounts import PendingDiscount
from kam_domain.errors import (
    AlreadyExists,
    AuthorityExceeded,
    BackdatedBeyondWindow,
    CipherKeyNotInRing,
    ConcurrencyConflict,
    EffectiveTimeInFuture,
    ExchangeRateMissing,
    InvalidCipherKey,
    KamDomainError,
    NotAKamStore,
    NotAuthorised,
    NotFound,
    RuleViolated,
    SelfApproval,
    StoreError,
    StoreNotFound,
    StoreNotSealed,
    StoreTampered,
    StoreUnavailable,
    StoreUnreadable,
    UnknownTimeZone,
    UnregisteredTopic,
    ValidationError,
)
from kam_domain.outbox import Outbox, OutboxItem
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
