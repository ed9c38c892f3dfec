"""The demo's accounts: registered, designated key accounts (the assignment policy gives each its
KAM), staffed with a representative and a technical contact, a client contact, and a plan for
the strategic ones."""

from __future__ import annotations

from typing import Any

from kam_domain.aggregates.client_account import AccountStrategies, ContactInfluence
from kam_domain.demo.cast import Cast
from kam_domain.values import Tier

__all__ = ["AccountSteps"]

_ACCOUNTS = [
    ("Huaxia Mobile", "telecom"),
    ("Eastern Grid Power", "energy"),
    ("Jinling Steel", "manufacturing"),
    ("Yangtze Shipping", "logistics"),
    ("Pearl River Bank", "finance"),
    ("Zhongyuan Rail", "transport"),
    ("Lotus Hospital Group", "healthcare"),
    ("Kunlun Petrochem", "energy"),
    ("Tianfu Broadband", "telecom"),
    ("Haixi Ports", "logistics"),
    ("Qilu Pharmaceuticals", "healthcare"),
    ("Songhua Foods", "consumer"),
    ("Minjiang Textiles", "manufacturing"),
    ("Taihu Semiconductors", "technology"),
    ("Xiang Electric", "energy"),
    ("Lingnan Retail", "consumer"),
    ("Bohai Chemicals", "manufacturing"),
    ("Changan Auto Parts", "manufacturing"),
    ("Dianchi Tourism", "services"),
    ("Guanzhong Water", "utilities"),
    ("Hexi Wind Farms", "energy"),
    ("Jiangnan Insurance", "finance"),
    ("Wuyi Tea Trading", "consumer"),
    ("Xinghai Data Centers", "technology"),
]
_REGIONS = ["east", "south", "north", "west"]
_TIERS = [Tier.STRATEGIC] * 4 + [Tier.MAJOR] * 8 + [Tier.STANDARD] * 12


class AccountSteps(Cast):
    """Opening the accounts, a quarter of an hour apart on the second day."""

    def plan_accounts(self) -> None:
        tiers = list(_TIERS)
        self.rng.shuffle(tiers)
        for index, ((name, industry), tier) in enumerate(zip(_ACCOUNTS, tiers, strict=True)):
            account = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "industry": industry,
                "tier": tier,
                "region": _REGIONS[index % len(_REGIONS)],
                "contact": self.uuid(),
                # Which director registers it: the two split the list.
                "registrar": "director_1" if index % 2 == 0 else "director_2",
            }
            self.accounts.append(account)
            self.step(self.at(1, hours=index / 4), self._open_account, account)

    def _open_account(self, account: dict[str, Any]) -> None:
        app, m = self.app, self.members
        when = self.at(1, hours=self.accounts.index(account) / 4)
        registrar = m[account["registrar"]]
        app.register_account(
            self.team_id,
            registrar,
            name=account["name"],
            industry=account["industry"],
            region=account["region"],
            account_id=account["id"],
            at=when,
        )
        # The assignment policy gives the account its KAM as soon as it is designated.
        app.designate_key_account(
            account["id"],
            registrar,
            tier=account["tier"],
            strategies=AccountStrategies(
                market=f"lead the {account['industry']} segment in the {account['region']}",
                client="senior-executive sponsorship and quarterly reviews",
                marketing="joint solution showcases",
                competitive="bundle implementation and maintenance",
            ),
            at=when,
        )
        kam, director = self.kam_of(account), m[self.director_of(account)]
        rep, _, technical = self.crew_of(account)
        app.assign_representative(account["id"], director, m[rep], at=when)
        app.assign_technical_contact(account["id"], director, m[technical], at=when)
        app.add_client_contact(
            account["id"],
            kam,
            name=f"CIO of {account['name']}",
            title="Chief Information Officer",
            influence=ContactInfluence.HIGH,
            owner_id=kam,
            contact_id=account["contact"],
            at=when,
        )
        if account["tier"] is Tier.STRATEGIC:
            app.agree_account_plan(
                account["id"],
                kam,
                supervisor_id=director,
                client_goals="digitise operations across all plants",
                execution_plan="quarterly roadmap workshops; dedicated implementation team",
                at=when,
            )
            app.record_competitor_intelligence(
                account["id"],
                kam,
                competitor="Rival Systems",
                note="offered 20 % off list for a three-year term",
                at=when,
            )
