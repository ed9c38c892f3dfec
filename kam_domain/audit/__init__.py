"""The auditor's toolkit: is the log intact, what did a record look like, who did what.

- :mod:`kam_domain.audit.integrity`: verify the hash chain, take checkpoints of it;
- :mod:`kam_domain.audit.derived`: re-derive the as-of index and snapshots from the events;
- :mod:`kam_domain.audit.trail`: the history of a record, the accountable KAM at a moment;
- :mod:`kam_domain.audit.export`: one record per event, streamed, with its chain link;
- :mod:`kam_domain.audit.exceptions`: what broke a rule, as of any moment, with its events.

Replay of policy decisions is :mod:`kam_domain.runtime.replay` (``app.replay()``).

Everything here reads; nothing writes. The ``kam audit`` commands are thin shells over it.
"""

from __future__ import annotations

from kam_domain.audit.derived import Mismatch, verify_derived
from kam_domain.audit.exceptions import (
    EventRef,
    ExceptionsReport,
    Finding,
    FindingKind,
    exceptions_report,
)
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
    "EventRef",
    "ExceptionsReport",
    "Finding",
    "FindingKind",
    "Mismatch",
    "Verification",
    "checkpoint_store",
    "exceptions_report",
    "head",
    "open_log",
    "verify_chain",
    "verify_derived",
    "verify_store",
]
