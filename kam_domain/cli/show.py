"""``kam show team|account|project|target NAME_OR_ID [--at T]``: one record as it stood.

The record is named by its name or id (:mod:`kam_domain.audit.names`) and read as of the
moment given through the facade's as-of reading (the version in force then, proved against
the events); without ``--at``, as it is now. It only reads: the store is opened without
creating or upgrading anything and no policy runs.
"""

from __future__ import annotations

import argparse
import enum
import json
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

import attrs

from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text
from kam_domain.cli.terminal import one_line

__all__ = ["moment", "register", "run_show"]

TABLE, JSON = "table", "json"

EXIT_CODES = exit_status_text()

#: The record's own fields shown first; the rest follow in the record's order.
_HEAD = ("name", "team_id", "account_id", "scope", "period")


def register(commands: Any) -> None:
    show = commands.add_parser(
        "show",
        help="print a team, account, project or target as it stood at a moment (read only)",
        description=(
            "Print one record as it stood at a moment: the version in force then and every\n"
            "field it held. Name it by its name (case and spacing ignored) or its id. A\n"
            "target's name is what it is set for and its period, as the reports show it:\n"
            "'Huaxia Mobile 2026-Q1', 'KAM Li Na 2026-Q1', 'team East China key accounts\n"
            "2026-Q1'. It only reads the store and records nothing."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("kind", choices=("team", "account", "project", "target"), help="KIND")
    show.add_argument("name", metavar="NAME_OR_ID")
    add_at_option(show, "as it stood at this moment, with its UTC offset (default: now)")
    show.add_argument(
        "--format", choices=(TABLE, JSON), default=TABLE, help=f"output format (default: {TABLE})"
    )
    add_store_option(show)
    show.set_defaults(handler=run_show)


def add_at_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--at ISO8601``, parsed as a moment: a malformed one is a usage error (status 2)."""
    parser.add_argument("--at", metavar="ISO8601", type=moment, help=help_text)


def moment(text: str) -> datetime:
    """An ISO 8601 moment with its UTC offset, for ``type=`` of an argument."""
    from kam_domain.audit.trail import parse_moment
    from kam_domain.errors import ValidationError

    try:
        return parse_moment(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_show(args: argparse.Namespace) -> int:
    from kam_domain.audit.names import record_name, resolve
    from kam_domain.audit.records import open_app

    with open_app(args.store) as app:
        record_id = resolve(app, args.kind, args.name)
        get = getattr(app, f"get_{args.kind}")
        record = get(record_id) if args.at is None else _as_of(get, record_id, args)
        document = view(args.kind, record, record_name(app, record), args.at)
        if args.kind == "target":
            team = app.get_team(record.team_id, at=args.at)
            document["fields"].update(local_times(record, team.zone_for(record.period)))
    if args.format == JSON:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(_text(document))
    return EXIT_OK


def _as_of(get: Any, record_id: Any, args: argparse.Namespace) -> Any:
    from kam_domain.errors import NotFound, NotYetRecorded

    try:
        return get(record_id, at=args.at)
    except NotFound:
        msg = f"{args.kind}: {args.name!r} was not recorded yet at {args.at.isoformat()}"
        raise NotYetRecorded(msg) from None


def view(kind: str, record: Any, name: str, at: datetime | None) -> dict[str, Any]:
    """What ``kam show`` prints of ``record``: who it is, which version, and its fields."""
    from kam_domain.audit.records import jsonable

    own = {key: value for key, value in vars(record).items() if not key.startswith("_")}
    ordered = {key: own[key] for key in _HEAD if key in own}
    ordered.update(own)
    return {
        "kind": kind,
        "id": str(record.id),
        "name": name,
        "as_of": None if at is None else at.isoformat(),
        "version": record.version,
        "created_on": record.created_on.isoformat(),
        "modified_on": record.modified_on.isoformat(),
        "fields": {key: _plain(value, jsonable) for key, value in ordered.items()},
        "collections": [key for key, value in ordered.items() if _is_collection(value)],
    }


def local_times(target: Any, zone: tzinfo) -> dict[str, str]:
    """For a target of a team keeping another zone than UTC, its period's bounds and its close
    on the team's wall clock, with their offset (stored times stay UTC); nothing for UTC."""
    from kam_domain.zones import is_utc, local_text, zone_name

    if is_utc(zone):
        return {}
    period = target.period
    shown = {
        "time_zone": zone_name(zone),
        "period_starts": local_text(period.start_in(zone), zone),
        "period_ends": local_text(period.end_in(zone), zone),
    }
    if target.closed_at is not None:
        shown["closed_at_local"] = local_text(target.closed_at, zone)
    return shown


def _text(document: dict[str, Any]) -> str:
    as_of = document["as_of"] or "now"
    lines = [
        f"{document['kind']} {document['name']} ({document['id']})",
        f"as of {as_of}: version {document['version']}, recorded "
        f"{document['created_on']}, last changed {document['modified_on']}",
        "",
    ]
    for key, value in document["fields"].items():
        if key in document["collections"]:
            items = list(value.values()) if isinstance(value, dict) else value
            lines.append(f"{key}: {len(items)}" if items else f"{key}: none")
            lines.extend(f"  - {_compact(item)}" for item in items)
        else:
            lines.append(f"{key}: {_compact(value)}")
    # Stored text is escaped: none of it can drive a terminal or forge a line.
    return "\n".join(one_line(line) for line in lines)


def _plain(value: Any, jsonable: Any) -> Any:
    """``value`` as JSON holds it; goals and actuals keep their metric (a class attribute,
    which the plain form would leave out)."""
    kind = type(value)
    if attrs.has(kind):
        fields = {f.name: _plain(getattr(value, f.name), jsonable) for f in attrs.fields(kind)}
        metric = getattr(kind, "metric", None)
        return {"metric": metric.value, **fields} if isinstance(metric, enum.Enum) else fields
    if isinstance(value, Mapping):
        return {str(key): _plain(item, jsonable) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, jsonable) for item in value]
    return jsonable(value)


def _is_collection(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple | set | frozenset)


def _compact(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
