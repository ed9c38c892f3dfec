"""Which roles may do what on a client account: register it, record what the team learns, bill,
collect, open, escalate and resolve cases, survey satisfaction."""

from __future__ import annotations

from kam_domain.values import Role

DIRECTORS = (Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR)
KAM = Role.KEY_ACCOUNT_MANAGER
REP = Role.KEY_ACCOUNT_REPRESENTATIVE
TECHNICAL = (Role.TECHNICAL_SUPPORT, Role.CONSULTANT)
ADMIN = (
    Role.SENIOR_ADMIN_MANAGER,
    Role.FINANCIAL_PLANNER,
    Role.LEGAL_AFFAIRS_SPECIALIST,
    Role.DEPARTMENT_ASSISTANT,
)
ANYONE = tuple(Role)

#: Who may put a client on the team's books.
REGISTRAR_ROLES = (*DIRECTORS, KAM, REP, Role.SENIOR_ADMIN_MANAGER)
#: Who records what the team learns about the client: needs, contacts, competitors.
FIELD_ROLES = (KAM, REP, *TECHNICAL, *DIRECTORS)
#: Who keeps the relationship map: the field, and admin staff, who know the client's people
#: (熟悉客户企业中相应人员的性格、观点).
RELATIONSHIP_ROLES = (*FIELD_ROLES, *ADMIN)
#: Who bills the client and books what it pays (representatives collect, finance plans).
BILLING_ROLES = (REP, Role.FINANCIAL_PLANNER)
#: Who may flag an unpaid invoice as overdue.
COLLECTION_ROLES = (REP, KAM, Role.FINANCIAL_PLANNER)
#: Who opens client cases (complaints and inquiries).
CASE_OPENER_ROLES = (REP, KAM, *ADMIN, *DIRECTORS)
#: Who escalates a case (admin staff supervise response times).
ESCALATOR_ROLES = (*DIRECTORS, *ADMIN, KAM)
#: Who resolves a case.
RESOLVER_ROLES = (KAM, REP, *TECHNICAL, *DIRECTORS)
#: Who surveys the client's satisfaction.
SURVEYOR_ROLES = (KAM, REP, *ADMIN)
