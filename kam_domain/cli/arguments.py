"""Types of the command line's arguments that several commands share, checked as it is read
(a malformed value is a usage error, status 2), and the ``--policies`` option."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID

from kam_domain.errors import ValidationError
from kam_domain.policies.base import Policy
from kam_domain.policies.records import ParameterValue
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Period

__all__ = [
    "add_policies_option",
    "member",
    "moment",
    "parameter",
    "period",
    "policy_class",
    "registry_with",
]


def policy_class(text: str) -> type[Policy]:
    """``module:Class`` (or ``module:Outer.Class``) as a policy class, for ``--policies``."""
    module_name, sep, attribute = text.partition(":")
    if not sep or not module_name or not attribute:
        msg = f"expected module:Class, e.g. my_policies:TwoApprovers, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    # As flask and uvicorn do: a developer's module in the working directory is found.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise argparse.ArgumentTypeError(f"cannot load {text}: {error}") from None
    if not (isinstance(found, type) and issubclass(found, Policy)):
        raise argparse.ArgumentTypeError(f"{text} is not a Policy subclass")
    return found


def parameter(text: str) -> tuple[str, ParameterValue]:
    """``KEY=VALUE``: a whole number if it reads as one, else an exact decimal, else text."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    value: ParameterValue = raw
    stripped = raw.strip()
    if stripped.lstrip("+-").isdigit() and stripped.isascii():
        value = int(stripped)
    else:
        try:
            number = Decimal(stripped)
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            value = number
    return key, value


def moment(text: str) -> datetime:
    """An ISO 8601 moment with its UTC offset (``Z`` or ``+08:00``), as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 moment, not {text!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        msg = f"{text!r} has no UTC offset; write e.g. {text}+00:00 or {text}Z"
        raise argparse.ArgumentTypeError(msg)
    return parsed.astimezone(UTC)


def period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def member(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a member id (UUID), not {text!r}") from None


def add_policies_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        nargs="+",
        type=policy_class,
        default=[],
        metavar="MODULE:CLASS",
        help="add these policy classes to the built-in and installed ones (to try a policy)",
    )


def registry_with(extra: Iterable[type[Policy]]) -> PolicyRegistry:
    """The default registry (built-in and installed policies) plus ``extra``."""
    registry = PolicyRegistry.default()
    for policy in extra:
        registry.register(policy)
    return registry
