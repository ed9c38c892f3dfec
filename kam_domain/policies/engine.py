"""The policy engine moved to :mod:`kam_domain.runtime.engine`; these names stay importable."""

from kam_domain.runtime.engine import ENGINE_TRACKING, PolicyEngine, tracking_key

__all__ = ["ENGINE_TRACKING", "PolicyEngine", "tracking_key"]
