"""The stages an opportunity passes through, and the probability of closing that each stands for.

Four open stages, in the order a sale usually moves through them, and two closed ones:

- ``prospecting``: a possible need is known, nobody has qualified it;
- ``qualification``: the need, the budget, the decision makers and the timing are confirmed;
- ``proposal``: a proposal or bid is with the client (a project's proposal may carry it);
- ``negotiation``: terms and price are being agreed;
- ``closed_won``: the client signed, and the opportunity became a project;
- ``closed_lost``: the client chose otherwise, or the need went away.

An open opportunity may move to any other open stage (sales go back as well as forward); only
winning or losing closes it, and a closed opportunity never changes again. The probability of
each open stage is configuration recorded as events (:mod:`.settings`); a won opportunity counts
in full and a lost one not at all.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from kam_domain.errors import ValidationError
from kam_domain.transcoding import transcoded
from kam_domain.values import Percentage, require_percentage

__all__ = ["DEFAULT_PROBABILITIES", "OPEN_STAGES", "OpportunityStage", "StageProbabilities"]


class OpportunityStage(enum.Enum):
    """Where an opportunity stands: four open stages, then won or lost."""

    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"

    @property
    def is_open(self) -> bool:
        return self not in (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


transcoded(OpportunityStage)

#: The open stages, in the order a sale usually moves through them.
OPEN_STAGES = tuple(stage for stage in OpportunityStage if stage.is_open)


def _percentage(_: object, attribute: attrs.Attribute[Percentage], value: object) -> None:
    require_percentage(attribute.name, value)


@transcoded
@attrs.frozen
class StageProbabilities:
    """The probability of closing that an open opportunity's stage stands for, per stage."""

    prospecting: Percentage = attrs.field(validator=_percentage)
    qualification: Percentage = attrs.field(validator=_percentage)
    proposal: Percentage = attrs.field(validator=_percentage)
    negotiation: Percentage = attrs.field(validator=_percentage)

    @classmethod
    def of(cls, **percentages: int | str | Decimal) -> StageProbabilities:
        """From numbers by stage name (``of(prospecting=10, ...)``); stages left out keep the
        defaults."""
        unknown = set(percentages) - {stage.value for stage in OPEN_STAGES}
        if unknown:
            msg = f"no open stage is named {', '.join(sorted(unknown))}"
            raise ValidationError("probabilities", msg)
        given = {name: Percentage.of(value, field=name) for name, value in percentages.items()}
        return attrs.evolve(DEFAULT_PROBABILITIES, **given)

    def probability(self, stage: OpportunityStage) -> Percentage:
        """The probability ``stage`` stands for: 100 % once won, 0 % once lost."""
        if stage is OpportunityStage.CLOSED_WON:
            return Percentage(Decimal(100))
        if stage is OpportunityStage.CLOSED_LOST:
            return Percentage(Decimal(0))
        found: Percentage = getattr(self, stage.value)
        return found

    def items(self) -> list[tuple[OpportunityStage, Percentage]]:
        """The open stages with their probabilities, in stage order."""
        return [(stage, self.probability(stage)) for stage in OPEN_STAGES]


#: What a team's pipeline uses until a sales director sets its own probabilities.
DEFAULT_PROBABILITIES = StageProbabilities(
    prospecting=Percentage(Decimal(10)),
    qualification=Percentage(Decimal(25)),
    proposal=Percentage(Decimal(50)),
    negotiation=Percentage(Decimal(75)),
)
