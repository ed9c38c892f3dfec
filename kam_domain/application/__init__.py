"""The facade a host application creates: one object, a storage URL, commands and queries."""

from __future__ import annotations

from typing import Any, ClassVar

from kam_domain.aggregates.team import Team
from kam_domain.application.accounts import AccountCommands
from kam_domain.application.projects import ProjectCommands
from kam_domain.application.targets import TargetCommands
from kam_domain.application.teams import TeamCommands

__all__ = ["KamApplication"]


class KamApplication(TeamCommands, AccountCommands, ProjectCommands, TargetCommands):
    """The key-account team's record: open it on a store URL, then command and query it.

    ``KamApplication("sqlite:///kam.db")``; ``KamApplication("memory://")``; with no URL, the
    ``KAM_STORE`` environment variable, else ``sqlite:///kam.db`` in the working directory.
    Safe to share between threads; holds no global state.
    """

    #: Long histories load from a snapshot taken every this many events.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Team: 100}
