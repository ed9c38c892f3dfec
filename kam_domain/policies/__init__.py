"""Policies: rules that react to events and decide, every decision recorded and explained."""

from kam_domain.policies.base import Action, ActionContext, Decision, Policy, render
from kam_domain.policies.world import CaseWindow, World

__all__ = ["Action", "ActionContext", "CaseWindow", "Decision", "Policy", "World", "render"]
