"""How far back a command may be dated: the team's backdating window, and the permission to
import history (record commands dated beyond it), which the senior sales director grants."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards
from kam_domain.errors import (
    AlreadyExists,
    BackdatedBeyondWindow,
    InvalidTransition,
    ValidationError,
)
from kam_domain.values import MemberId, Role

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team

#: The widest backdating window a team may set (beyond it, grant the permission to import).
_LONGEST_WINDOW = timedelta(days=366)


class Backdating(TeamGuards):
    """The backdating window and the permission to import history."""

    class HistoryImportGranted(KamAggregate.Event):
        """The member may record commands dated beyond the team's backdating window."""

        member_id: MemberId

        def apply(self, team: Team) -> None:
            team.history_importers = team.history_importers | {self.member_id}

    class HistoryImportRevoked(KamAggregate.Event):
        member_id: MemberId
        reason: str

        def apply(self, team: Team) -> None:
            team.history_importers = team.history_importers - {self.member_id}

    class BackdatingWindowSet(KamAggregate.Event):
        """How far before the moment it is written a command may be dated (seconds)."""

        seconds: int

        def apply(self, team: Team) -> None:
            team.backdating_window = self.seconds

    def grant_history_import(self, meta: Meta, by: Credentials, member_id: MemberId) -> None:
        """The senior sales director lets a member record commands dated in the past."""
        by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        self._active("member_id", member_id)
        if member_id in self.history_importers:
            raise AlreadyExists(f"member_id: {member_id} may already import history")
        self._record(self.HistoryImportGranted, meta, member_id=member_id)

    def revoke_history_import(
        self, meta: Meta, by: Credentials, member_id: MemberId, *, reason: str
    ) -> None:
        """The senior sales director ends a member's permission to import history."""
        by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        reason = require_text("reason", reason)
        self._member("member_id", member_id)
        if member_id not in self.history_importers:
            raise InvalidTransition(f"member_id: {member_id} holds no permission to import history")
        self._record(self.HistoryImportRevoked, meta, member_id=member_id, reason=reason)

    def set_backdating_window(self, meta: Meta, by: Credentials, *, window: timedelta) -> None:
        """A director sets how far before the moment it is written a command may be dated."""
        by.require_director("actor")
        if not isinstance(window, timedelta) or window < timedelta(0):
            raise ValidationError("window", f"must be a timedelta of 0 or more, not {window!r}")
        if window > _LONGEST_WINDOW:
            raise ValidationError("window", f"must be at most {_LONGEST_WINDOW}")
        self._record(self.BackdatingWindowSet, meta, seconds=int(window.total_seconds()))

    # -- queries -----------------------------------------------------------------------------------

    def check_backdating(self, member_id: MemberId, at: datetime, now: datetime) -> None:
        """Refuse a command by ``member_id`` dated ``at`` and written ``now`` that reaches
        further back than the team's backdating window, unless the member may import history."""
        window = self.backdating_window
        if window is None or now - at <= timedelta(seconds=window):
            return
        if member_id in self.history_importers:
            return
        msg = (
            f"at: {at.isoformat()} is {now - at} before now, beyond the team's backdating "
            f"window of {timedelta(seconds=window)}; the actor holds no permission to import "
            "history"
        )
        raise BackdatedBeyondWindow(msg)
