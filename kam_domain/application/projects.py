"""Project commands and queries of the facade."""

from __future__ import annotations

from kam_domain.application.core import ApplicationCore

__all__ = ["ProjectCommands"]


class ProjectCommands(ApplicationCore):
    """Project commands and queries."""
