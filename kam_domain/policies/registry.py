"""Which policies exist: the built-in ones, those registered in code, and those installed
by other packages under the entry-point group ``kam_domain.policies``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points

from kam_domain.aggregates.base import KamAggregate
from kam_domain.errors import AlreadyExists, PolicyNotFound, ValidationError
from kam_domain.policies.base import Policy

__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "PolicyRegistry"]

ENTRY_POINT_GROUP = "kam_domain.policies"

#: The domain's policies, by import path; version 1 of each decides unless another is activated.
BUILT_IN: tuple[str, ...] = (
    "kam_domain.policies.assignment:AssignmentPolicy",
    "kam_domain.policies.assignment:AssignmentPolicyV2",
    "kam_domain.policies.discount_approval:DiscountApprovalPolicy",
    "kam_domain.policies.evaluation:EvaluationPolicy",
    "kam_domain.policies.escalation:CaseEscalationPolicy",
    "kam_domain.policies.receivables:CollectionsPolicy",
    "kam_domain.policies.decomposition:DecompositionPolicy",
    "kam_domain.policies.coverage:CoveragePolicy",
    "kam_domain.policies.step_deadlines:CaseEscalationPolicyV2",
)


class PolicyRegistry:
    """Policy classes by name and version."""

    def __init__(self, policies: Iterable[type[Policy]] = ()) -> None:
        self._policies: dict[str, dict[int, type[Policy]]] = {}
        for policy in policies:
            self.register(policy)

    @classmethod
    def default(cls) -> PolicyRegistry:
        """The built-in policies and every one installed under the entry-point group."""
        registry = cls(_load(path) for path in BUILT_IN)
        for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            registry.register(entry.load())
        return registry

    def register(self, policy: type[Policy]) -> type[Policy]:
        """Add a policy class (usable as a decorator); a name and version are registered once."""
        _check(policy)
        versions = self._policies.setdefault(policy.name, {})
        if policy.version in versions and versions[policy.version] is not policy:
            raise AlreadyExists(f"policy: {policy.key()} is already registered")
        versions[policy.version] = policy
        return policy

    def names(self) -> list[str]:
        return sorted(self._policies)

    def versions(self, name: str) -> frozenset[int]:
        return frozenset(self._policies.get(name, {}))

    def get(self, name: str, version: int | None = None) -> type[Policy]:
        """The class of ``name`` at ``version`` (default: the default version)."""
        versions = self._policies.get(name)
        if not versions:
            raise PolicyNotFound("policy", name, self.names())
        chosen = self.default_version(name) if version is None else version
        if chosen not in versions:
            raise PolicyNotFound("policy", f"{name}@{chosen}", sorted(versions))
        return versions[chosen]

    def default_version(self, name: str) -> int:
        """The version that decides until another is activated: the lowest registered."""
        versions = self._policies.get(name)
        if not versions:
            raise PolicyNotFound("policy", name, self.names())
        return min(versions)

    def classes(self) -> list[type[Policy]]:
        return [
            self._policies[name][v] for name in self.names() for v in sorted(self._policies[name])
        ]

    def __contains__(self, name: object) -> bool:
        return name in self._policies


def _load(path: str) -> type[Policy]:
    module, _, attribute = path.partition(":")
    policy: type[Policy] = getattr(importlib.import_module(module), attribute)
    return policy


def _check(policy: object) -> None:
    if not (isinstance(policy, type) and issubclass(policy, Policy)):
        raise ValidationError("policy", f"{policy!r} is not a Policy subclass")
    name = getattr(policy, "name", None)
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValidationError("policy", f"{policy.__qualname__} needs a non-empty name")
    version = getattr(policy, "version", None)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValidationError("policy", f"{name}: version must be a whole number from 1")
    handles = getattr(policy, "handles", None)
    if not handles or not all(
        isinstance(cls, type) and issubclass(cls, KamAggregate.Event) for cls in handles
    ):
        raise ValidationError("policy", f"{name}: handles must name event classes")
