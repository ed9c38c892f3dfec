"""Deprecated: the discount-approval policy lives in :mod:`kam_domain.policies.discount_approval`
(still registered and recorded as ``price_approval``); its names stay importable from here."""

from __future__ import annotations

import warnings

from kam_domain.policies.discount_approval import (
    ROUTE,
    ApproveDiscount,
    DiscountApprovalPolicy,
    EscalateDiscount,
    RejectDiscount,
)

__all__ = [
    "ROUTE",
    "ApproveDiscount",
    "DiscountApprovalPolicy",
    "EscalateDiscount",
    "PriceApprovalPolicy",
    "RejectDiscount",
]

#: The class's name before the module was named for discount approval.
PriceApprovalPolicy = DiscountApprovalPolicy

# Nothing in the library imports this module, so the warning names the importer's code.
warnings.warn(
    "kam_domain.policies.price_approval is deprecated: import from"
    " kam_domain.policies.discount_approval (the policy is still named price_approval)",
    DeprecationWarning,
    stacklevel=2,
)
