"""Replay moved to :mod:`kam_domain.runtime.replay`; these names stay importable."""

from kam_domain.runtime.replay import Divergence, Recorded, ReplayReport, replay

__all__ = ["Divergence", "Recorded", "ReplayReport", "replay"]
