"""The auditor's toolkit: is the log intact, what did a record look like, who did what.

- :mod:`kam_domain.audit.integrity`: verify the hash chain, take checkpoints of it;
- :mod:`kam_domain.audit.trail`: the history of a record, the accountable KAM at a moment;
- :mod:`kam_domain.audit.export`: one record per event, streamed, with its chain link.

Everything here reads; nothing writes. The ``kam audit`` commands are thin shells over it.
"""

from __future__ import annotations

from kam_domain.audit.integrity import (
    Breach,
    Checkpoint,
    Verification,
    checkpoint_store,
    head,
    open_log,
    verify_chain,
    verify_store,
)

__all__ = [
    "Breach",
    "Checkpoint",
    "Verification",
    "checkpoint_store",
    "head",
    "open_log",
    "verify_chain",
    "verify_store",
]
