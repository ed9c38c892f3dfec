"""Running the policies: the engine, its walk of the log in causal order, and replay.

:mod:`kam_domain.policies` holds the rules; this package holds what runs them against a store.
"""

from kam_domain.runtime.engine import ENGINE_TRACKING, PolicyEngine
from kam_domain.runtime.replay import Divergence, Recorded, ReplayReport, replay

__all__ = ["ENGINE_TRACKING", "Divergence", "PolicyEngine", "Recorded", "ReplayReport", "replay"]
