"""Who is who in the demo: the team's people, and how the scenario finds them in the record.

The team is staffed on the quarter's first morning: every role of the seed document, dated
authority, tier weights, the team's own evaluation standard, cross-training and backups.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.team import EvaluationStandard, TierWeights, TrainingKind
from kam_domain.demo.timeline import Timeline
from kam_domain.values import MemberId, Percentage, Role

__all__ = ["Cast"]

#: (key, name, role, supervisor key, discount authority %, granted by)
_PEOPLE = [
    ("director_1", "Zhao Min", Role.SALES_DIRECTOR, "senior", 20, "senior"),
    ("director_2", "Qian Li", Role.SALES_DIRECTOR, "senior", 20, "senior"),
    ("kam_1", "Li Na", Role.KEY_ACCOUNT_MANAGER, "director_1", 5, "director_1"),
    ("kam_2", "Chen Gang", Role.KEY_ACCOUNT_MANAGER, "director_1", 5, "director_1"),
    ("kam_3", "Liu Yang", Role.KEY_ACCOUNT_MANAGER, "director_2", 5, "director_2"),
    ("kam_4", "Huang Wei", Role.KEY_ACCOUNT_MANAGER, "director_2", 5, "director_2"),
    ("rep_1", "Sun Hui", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_1", None, None),
    ("rep_2", "Zhou Jie", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_3", None, None),
    ("pd_1", "Wu Tao", Role.PROJECT_DIRECTOR, "director_1", 10, "director_1"),
    ("pd_2", "Xu Fang", Role.PROJECT_DIRECTOR, "director_2", 10, "director_2"),
    ("admin", "Zheng Hong", Role.SENIOR_ADMIN_MANAGER, "senior", None, None),
    ("finance", "Feng Lei", Role.FINANCIAL_PLANNER, "admin", None, None),
    ("legal", "He Ping", Role.LEGAL_AFFAIRS_SPECIALIST, "admin", None, None),
    ("assistant", "Ma Lin", Role.DEPARTMENT_ASSISTANT, "admin", None, None),
    ("support", "Guo Qiang", Role.TECHNICAL_SUPPORT, "director_1", None, None),
    ("consultant", "Lin Yu", Role.CONSULTANT, "director_2", None, None),
]
#: Each director's people: representative, project director, technical contact.
_CREW = {
    "director_1": ("rep_1", "pd_1", "support"),
    "director_2": ("rep_2", "pd_2", "consultant"),
}


class Cast(Timeline):
    """The scenario's people: the team's staffing, and who holds which part for an account."""

    def kam_of(self, account: dict[str, Any]) -> UUID:
        """The accountable KAM the assignment policy (or a director) chose."""
        kam = self.app.get_account(account["id"]).accountable_kam
        assert kam is not None, f"{account['name']} has no KAM"
        return kam

    def key_of(self, member_id: UUID) -> str:
        return next(key for key, value in self.members.items() if value == member_id)

    def director_of(self, account: dict[str, Any]) -> str:
        """The sales director the account's KAM reports to."""
        team = self.app.get_team(self.team_id)
        supervisor = team.members[MemberId(self.kam_of(account))].supervisor_id
        assert supervisor is not None
        return self.key_of(supervisor)

    def crew_of(self, account: dict[str, Any]) -> tuple[str, str, str]:
        return _CREW[self.director_of(account)]

    def plan_team(self) -> None:
        m = self.members
        m["senior"] = self.uuid()
        for key, *_ in _PEOPLE:
            m[key] = self.uuid()
        grants = {key: self.uuid() for key, *_ in _PEOPLE}
        self.step(self.at(0), self._staff, grants)

    def _staff(self, grants: dict[str, UUID]) -> None:
        app, m, when = self.app, self.members, self.at(0)
        app.form_team(
            name=f"East China key accounts{self.suffix}",
            segment="large enterprises",
            region="east China",
            director_name="Wang Jun",
            top_authority=Percentage.of(30),
            default_capacity=12,
            team_id=self.team_id,
            director_id=m["senior"],
            # The demo imports a scripted history: its director holds, on the record, the
            # permission to date commands in the past.
            import_history=True,
            at=when,
        )
        for key, name, role, boss, _, _ in _PEOPLE:
            app.add_member(
                self.team_id,
                m["senior"],
                name=name,
                role=role,
                supervisor_id=m[boss],
                member_id=m[key],
                at=when,
            )
        for key, _, _, _, limit, grantor in _PEOPLE:
            if limit is not None and grantor is not None:
                app.grant_authority(
                    self.team_id,
                    m[grantor],
                    m[key],
                    max_discount=Percentage.of(limit),
                    grant_id=grants[key],
                    at=when,
                )
        app.set_tier_weights(
            self.team_id, m["senior"], TierWeights(strategic=3, major=2, standard=1), at=when
        )
        # The team asks for an action plan below 75 points, stricter than the default 60.
        standard = attrs.evolve(EvaluationStandard.default(), action_threshold=Decimal(75))
        app.set_evaluation_standard(self.team_id, m["senior"], standard, at=when)
        # Huang Wei has no cross-trained backup: the coverage policy will say so.
        for covered, backup in (("kam_1", "kam_2"), ("kam_2", "kam_1"), ("kam_3", "kam_4")):
            app.record_training(
                self.team_id,
                m["admin"],
                m[backup],
                kind=TrainingKind.CROSS_TRAINING,
                skill="key-account handover",
                covers_member_id=m[covered],
                at=when,
            )
            app.designate_backup(
                self.team_id, m["senior"], m[covered], backup_id=m[backup], at=when
            )
