"""Rebuilding the policies' state from the log, and proving it equal to the stored one.

The state an engine checkpoints (:mod:`kam_domain.runtime.state`) is derived from the log, so
it can always be derived again: :func:`rebuild` folds the log, in causal order, up to the
stored checkpoint's position into a scratch state, and compares the two cell by cell (decoded:
a store's cipher writes the same value differently each time). A difference means the stored
state was edited, or written by a different version of a policy; ``kam policies rebuild``
lists the differences and puts the rebuilt state in place of the stored one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.errors import KamDomainError, StateNotKept
from kam_domain.runtime.engine import PolicyEngine
from kam_domain.runtime.scan import initial_cursor
from kam_domain.runtime.state import (
    INDEX,
    LEARNED,
    RECORD,
    MemoryState,
    StateRecorder,
    StoredState,
    state_of,
)

if TYPE_CHECKING:
    from kam_domain.application.core import ApplicationCore
    from kam_domain.policies.registry import PolicyRegistry

__all__ = ["Rebuilt", "StateDifference", "compare_states", "rebuild"]


@attrs.frozen
class StateDifference:
    """One cell that differs: its key, and what each side holds (None: the side has none)."""

    key: str
    stored: str | None
    rebuilt: str | None


@attrs.frozen
class Rebuilt:
    """The outcome of a rebuild: the position, the cells compared, and the differences."""

    position: int
    cells: int
    differences: tuple[StateDifference, ...]
    #: Whether the store held a checkpoint to compare with.
    compared: bool
    #: Whether the rebuilt state was written in place of the stored one.
    written: bool

    @property
    def equal(self) -> bool:
        return not self.differences


def rebuild(
    app: ApplicationCore,
    registry: PolicyRegistry,
    *,
    write: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Rebuilt:
    """Fold the log into a scratch state at the stored checkpoint's position (or, with none or
    one past the settled position, at the settled position), compare, and with ``write`` put
    the rebuilt state in the store when it differs (or when the store had none)."""
    stored_recorder = state_of(app.recorder)
    if stored_recorder is None:
        msg = "this store keeps no state for the policies: there is nothing to rebuild"
        raise StateNotKept(msg)
    checkpoint = stored_recorder.state_checkpoint()
    recorder: Any = app.recorder
    settled = initial_cursor(recorder, registry.names())
    # A checkpoint past the settled position was not written by an engine: rebuilt at the
    # settled position instead, so that the comparison lists its position.
    position = (
        checkpoint.position
        if checkpoint is not None and checkpoint.position <= settled
        else settled
    )
    scratch = MemoryState()
    PolicyEngine(app, registry, state=scratch).rebuild(position, progress)
    differences = (
        compare_states(stored_recorder, scratch, app.mapper) if checkpoint is not None else []
    )
    written = False
    if write and (checkpoint is None or differences):
        engine = PolicyEngine(app, registry, state=stored_recorder)
        engine.rebuild(position)
        written = True
    cells = sum(1 for _ in scratch.select_state_prefixed(""))
    return Rebuilt(position, cells, tuple(differences), checkpoint is not None, written)


def compare_states(
    stored: StateRecorder, rebuilt: StateRecorder, mapper: Any
) -> list[StateDifference]:
    """The cells on which two states differ, decoded, in key order (the position too)."""
    reading = StoredState(stored, mapper)
    fresh = StoredState(rebuilt, mapper)
    differences = []
    ours, theirs = stored.state_checkpoint(), rebuilt.state_checkpoint()
    if (ours and ours.position) != (theirs and theirs.position):
        differences.append(
            StateDifference(
                "position",
                None if ours is None else str(ours.position),
                None if theirs is None else str(theirs.position),
            )
        )
    left = dict(stored.select_state_prefixed(""))
    right = dict(rebuilt.select_state_prefixed(""))
    for key in sorted(set(left) | set(right)):
        a = None if key not in left else _decoded(reading, key, left[key])
        b = None if key not in right else _decoded(fresh, key, right[key])
        if a != b:
            differences.append(StateDifference(key, _shown(a), _shown(b)))
    return differences


def _decoded(state: StoredState, key: str, data: bytes) -> Any:
    try:
        if key.startswith(RECORD) and _is_uuid(key[len(RECORD) :]):
            record, folded_at = state.decode_record(UUID(key[len(RECORD) :]), data)
            held = {k: v for k, v in vars(record).items() if k != "_pending_events"}
            return held, folded_at
        if key.startswith((INDEX, LEARNED)):
            return state.decode(data)
    except KamDomainError as error:
        return f"unreadable: {type(error).__name__}"
    return f"a cell the library does not write ({len(data)} bytes)"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = repr(value)
    return text if len(text) <= 200 else f"{text[:197]}..."
