"""The aggregates' old import paths keep every name they exported when each was one module."""

from __future__ import annotations

import importlib

import pytest

#: What each module's ``__all__`` held before the aggregates became packages.
EXPORTED = {
    "team": [
        "APPROVER_ROLES",
        "AuthorityGrant",
        "EvaluationStandard",
        "Member",
        "RatingBand",
        "Team",
        "TierWeights",
        "TrainingKind",
    ],
    "client_account": [
        "BILLING_ROLES",
        "CASE_OPENER_ROLES",
        "COLLECTION_ROLES",
        "ESCALATOR_ROLES",
        "FIELD_ROLES",
        "REGISTRAR_ROLES",
        "RESOLVER_ROLES",
        "SURVEYOR_ROLES",
        "AccountAgreement",
        "AccountInvoice",
        "AccountPayment",
        "AccountPlan",
        "AccountStrategies",
        "CaseStatus",
        "ClientAccount",
        "ClientCase",
        "ClientContact",
        "ClientNeed",
        "CompetitorIntel",
        "ContactInfluence",
        "KamAssignment",
        "PaymentInstallment",
        "SatisfactionSurvey",
    ],
    "project": [
        "DEFAULT_MINIMUM_MARGIN",
        "DiscountDecision",
        "DiscountOutcome",
        "DiscountRequest",
        "FeasibilityAssessment",
        "FeasibilityVerdict",
        "ImplementationPlan",
        "PlannedMilestone",
        "PriceBand",
        "ProcurementQuote",
        "ProfitAndLoss",
        "Project",
        "ProjectContract",
        "ProjectLedgerEntry",
        "ProjectMilestone",
        "ProjectOutcome",
        "ProjectProposal",
        "ProjectRisk",
        "ProjectStatus",
        "ReachedMilestone",
    ],
    "target": [
        "ATTAINMENT_CAP",
        "ActionPlanAdjustment",
        "ActionPlanState",
        "Actual",
        "DecompositionLine",
        "Goal",
        "MetricProgress",
        "RevenueActual",
        "RevenueGoal",
        "SatisfactionActual",
        "SatisfactionGoal",
        "ScopeKind",
        "ServiceLevelActual",
        "ServiceLevelGoal",
        "SignOffState",
        "Signatory",
        "Target",
        "TargetEvaluation",
        "TargetProgress",
        "TargetRevision",
        "TargetScope",
        "TargetSignature",
        "score_of",
    ],
}
#: Public constants the modules held outside ``__all__``, imported by name all the same.
ALSO = {
    "client_account": ["MAX_ESCALATION_LEVEL"],
    "project": ["APPROVER_ROLES", "QUOTE_ROLES", "REQUESTER_ROLES"],
}


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_an_aggregate_module_still_exports_its_names(name: str) -> None:
    """``kam_domain.aggregates.<name>`` lists and holds every name it exported before."""
    module = importlib.import_module(f"kam_domain.aggregates.{name}")
    names = EXPORTED[name] + ALSO.get(name, [])

    assert set(names) <= set(module.__all__)
    assert all(hasattr(module, exported) for exported in module.__all__)
