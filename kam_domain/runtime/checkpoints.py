"""What an engine checkpoints into its durable state, and what it restores from there.

A checkpoint holds the engine's world (records and index cells, see
:mod:`kam_domain.policies.world`) and what each policy that learns has learned, at a position
up to which every command is settled (see :mod:`kam_domain.runtime.state` for the cells).
:class:`Checkpoints` is the engine's side of it: whether its policies can be checkpointed at
all (each that learns must say what it learned), whether a stored checkpoint was written by
the same policies, restoring what they learned, and writing what changed since the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from kam_domain.errors import KamDomainError, StoreUnreadable
from kam_domain.policies.base import Policy
from kam_domain.policies.world import World
from kam_domain.runtime.state import LEARNED, LEARNERS, StateRecorder, StoredState, state_of

__all__ = ["Afresh", "Checkpoints"]


class Checkpoints:
    """An engine's policies' side of its checkpoints: ``instances`` are its policies, by name
    and version."""

    def __init__(self, instances: Mapping[str, Mapping[int, Policy]]) -> None:
        self._policies = [
            instance for versions in instances.values() for instance in versions.values()
        ]
        #: What the policies learned since the last checkpoint, by cell key.
        self._learned: dict[str, Any] = {}

    def open(
        self, store_recorder: object, given: StateRecorder | None, mapper: Any
    ) -> StoredState | None:
        """The state to keep: ``given``, or the store's where it keeps one; None where there is
        none, or where a policy that learns cannot say what it learned."""
        if not self.checkpointable():
            return None
        recorder = given or state_of(store_recorder)
        return None if recorder is None else StoredState(recorder, mapper)

    def checkpointable(self) -> bool:
        """Whether every policy that learns can say what it learned."""
        return all(
            type(instance).learned is not Policy.learned or not _learns(instance)
            for instance in self._policies
        )

    def learner_keys(self) -> list[str]:
        return sorted(instance.key() for instance in self._policies if _learns(instance))

    def restorable(self, state: StoredState) -> bool:
        """Whether the checkpoint holds what these policies learned (the same ones)."""
        found = state.recorder.select_state([LEARNERS]).get(LEARNERS)
        return found is not None and state.decode(found) == self.learner_keys()

    def restore(self, state: StoredState) -> None:
        """Give each policy back what the checkpoint holds of what it learned."""
        learned = state.learned()
        for instance in self._policies:
            prefix = f"{LEARNED}{instance.key()}:"
            cells = {k[len(prefix) :]: v for k, v in learned.items() if k.startswith(prefix)}
            try:
                instance.restore(cells)
            except KamDomainError:
                raise
            except Exception as error:
                # A learned cell in another shape than the policy writes.
                msg = (
                    f"the policies' state holds learned state of {instance.key()} "
                    f"the policy did not write: {error!r}"
                )
                raise StoreUnreadable(msg) from error

    def everything(self) -> None:
        """Take everything the policies learned as changed (a world folded from the log is
        checkpointed whole: nothing of the store's is reused)."""
        cells: dict[str, Any] = {LEARNERS: self.learner_keys()}
        for instance in self._policies:
            for key, value in (instance.learned(everything=True) or {}).items():
                cells[f"{LEARNED}{instance.key()}:{key}"] = value
        self._learned = cells

    def forget(self) -> None:
        self._learned = {}

    def write(self, state: StoredState, world: World, position: int) -> None:
        """Write what changed of the world and of what the policies learned, at ``position``
        (one where every command up to it is settled, so a restart may go on from it)."""
        for instance in self._policies:
            for key, value in (instance.learned() or {}).items():
                self._learned[f"{LEARNED}{instance.key()}:{key}"] = value
        if state.afresh:
            # The first checkpoint of a world folded from the log holds everything.
            records = dict(world.records())
            cells: dict[str, Any] = world.cells()
        else:
            records, cells = world.changes()
        if not records and not cells and not self._learned:
            return
        if state.write(position, records, cells, self._learned):
            world.saved()
            self._learned = {}


class Afresh:
    """The backing of a world folded from the log: it restores nothing (what the store holds is
    replaced by the world's first checkpoint), and takes back the records it unloads after it
    (it unloads none before: until then every record has changed since the last checkpoint)."""

    def __init__(self, state: StoredState) -> None:
        self._state = state

    def record(self, record_id: UUID) -> tuple[Any, int] | None:
        return None if self._state.afresh else self._state.record(record_id)

    def cells(self) -> dict[str, Any]:
        return {}


def _learns(instance: Policy) -> bool:
    return type(instance).learn is not Policy.learn
