"""What a check of the hash chain is held against and what it finds: checkpoints, the first
breach, the verification."""

from __future__ import annotations

import re

import attrs

from kam_domain.errors import ValidationError
from kam_domain.ledger import ChainFormat

__all__ = ["Breach", "Checkpoint", "Verification"]

_CHECKPOINT = re.compile(r"kam-chain-(\d+):(\d+):([0-9a-f]{64})")


@attrs.frozen
class Checkpoint:
    """A position of the chain and its link: ``kam-chain-1:POSITION:LINK`` as text.

    The number after ``kam-chain-`` is the version of this text, not the chain format of the
    link it names: a checkpoint reads the same whatever format its position was sealed in.
    """

    position: int
    link: bytes
    format: int = 1

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        found = _CHECKPOINT.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if found is None:
            msg = f"expected kam-chain-1:POSITION:LINK (64 hex digits), not {text!r}"
            raise ValidationError("checkpoint", msg)
        return cls(int(found[2]), bytes.fromhex(found[3]), int(found[1]))

    def __str__(self) -> str:
        return f"kam-chain-{self.format}:{self.position}:{self.link.hex()}"


@attrs.frozen
class Breach:
    """The first position that does not verify, and what is wrong there.

    ``kind`` is one of ``altered`` (the event does not match its link, or the chain before it
    was rewritten), ``respelled`` (a field stored in a form the library never writes: another
    spelling of an id, text where a number or bytes belong), ``inserted`` (an event without a
    link), ``missing`` (a link without its event), ``unregistered`` (an event of a type the
    library does not write, whatever its link says), ``rewritten`` (the link differs from a
    checkpoint's), ``truncated`` (the chain ends before a checkpoint's position).
    """

    position: int
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.reason}"


@attrs.frozen
class Verification:
    """What :func:`verify_chain` found."""

    #: Events whose link was recomputed and matched.
    checked: int
    #: The last link that verified (None: the log is empty, or its first event failed).
    head: Checkpoint | None
    #: The first position that does not verify (None when the log is intact).
    breach: Breach | None
    #: The chain's recorded formats.
    formats: tuple[ChainFormat, ...] = ()
    #: The checkpoints the chain was found to agree with.
    confirmed: tuple[Checkpoint, ...] = ()

    @property
    def intact(self) -> bool:
        return self.breach is None

    @property
    def adopted_through(self) -> int | None:
        """Events up to this position were already stored when the chain was created."""
        return max((f.adopted_through or 0 for f in self.formats), default=0) or None
