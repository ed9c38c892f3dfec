"""Client account commands and queries of the facade."""

from __future__ import annotations

from kam_domain.application.core import ApplicationCore

__all__ = ["AccountCommands"]


class AccountCommands(ApplicationCore):
    """Client account commands and queries."""
