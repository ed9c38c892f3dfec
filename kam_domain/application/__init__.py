"""The facade a host application creates: one object, a storage URL, commands and queries."""

from __future__ import annotations

from typing import Any, ClassVar

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.aggregates.team import Team
from kam_domain.application.accounts import AccountCommands
from kam_domain.application.approval_chains import ApprovalChainCommands
from kam_domain.application.billing import BillingCommands
from kam_domain.application.cases import CaseCommands
from kam_domain.application.delegations import DelegationCommands
from kam_domain.application.directory import Directory
from kam_domain.application.discounts import DiscountCommands
from kam_domain.application.measures import MeasureQueries
from kam_domain.application.opportunities import OpportunityCommands
from kam_domain.application.policies import PolicyCommands
from kam_domain.application.projects import ProjectCommands
from kam_domain.application.store_settings import StoreCommands
from kam_domain.application.targets import TargetCommands
from kam_domain.application.teams import TeamCommands

__all__ = ["KamApplication"]


class KamApplication(
    TeamCommands,
    BillingCommands,
    CaseCommands,
    AccountCommands,
    ApprovalChainCommands,
    DelegationCommands,
    DiscountCommands,
    ProjectCommands,
    TargetCommands,
    OpportunityCommands,
    MeasureQueries,
    PolicyCommands,
    StoreCommands,
):
    """The key-account team's record: open it on a store URL, then command and query it.

    ``KamApplication("sqlite:///kam.db")``; ``KamApplication("memory://")``; with no URL, the
    ``KAM_STORE`` environment variable, else ``sqlite:///kam.db`` in the working directory.
    Safe to share between threads; holds no global state.
    """

    #: Long histories load from a snapshot taken every this many events.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Team: 100,
        ClientAccount: 100,
        Project: 50,
        Target: 50,
        Directory: 200,
    }
