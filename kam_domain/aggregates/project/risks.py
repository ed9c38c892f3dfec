"""Risks to a project: identified by any member of its team, closed with a resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project.guards import ProjectGuards
from kam_domain.aggregates.project.records import ProjectRisk
from kam_domain.errors import AlreadyExists, InvalidTransition, RiskNotFound, ValidationError
from kam_domain.values import MemberId, RiskId, Severity

if TYPE_CHECKING:
    from kam_domain.aggregates.project import Project


class Risks(ProjectGuards):
    """Identifying and closing the project's risks."""

    class RiskIdentified(KamAggregate.Event):
        risk_id: RiskId
        description: str
        severity: Severity
        identified_by: MemberId

        def apply(self, project: Project) -> None:
            project.risks[self.risk_id] = ProjectRisk(
                self.risk_id, self.description, self.severity, self.timestamp, self.identified_by
            )

    class RiskClosed(KamAggregate.Event):
        risk_id: RiskId
        resolution: str

        def apply(self, project: Project) -> None:
            risk = project.risks[self.risk_id]
            project.risks[self.risk_id] = attrs.evolve(
                risk, closed_at=self.timestamp, resolution=self.resolution
            )

    def identify_risk(
        self,
        meta: Meta,
        by: Credentials,
        risk_id: RiskId,
        *,
        description: str,
        severity: Severity = Severity.MEDIUM,
    ) -> None:
        """Any member of the team records a risk to the project."""
        self._require_open()
        self._require_member("actor", meta, by)
        require_id("risk_id", risk_id)
        description = require_text("description", description, max_length=2000)
        if not isinstance(severity, Severity):
            raise ValidationError("severity", f"must be a Severity, not {severity!r}")
        if risk_id in self.risks:
            raise AlreadyExists(f"risk_id: {risk_id} was already identified")
        self._record(
            self.RiskIdentified,
            meta,
            risk_id=risk_id,
            description=description,
            severity=severity,
            identified_by=by.member_id,
        )

    def close_risk(self, meta: Meta, by: Credentials, risk_id: RiskId, *, resolution: str) -> None:
        """The project director (or a sales director) closes a risk, saying how it was resolved."""
        self._require_open()
        self._require_project_director("actor", meta, by, or_director=True)
        resolution = require_text("resolution", resolution, max_length=2000)
        risk = self._risk(risk_id)
        if not risk.is_open:
            raise InvalidTransition(f"risk_id: {risk_id} was already closed")
        self._record(self.RiskClosed, meta, risk_id=risk_id, resolution=resolution)

    def open_risks(self) -> list[ProjectRisk]:
        return [risk for risk in self.risks.values() if risk.is_open]

    def _risk(self, risk_id: RiskId) -> ProjectRisk:
        risk = self.risks.get(risk_id) if isinstance(risk_id, UUID) else None
        if risk is None:
            raise RiskNotFound("risk_id", risk_id)
        return risk
