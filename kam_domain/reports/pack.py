"""The audit pack: a static site an auditor archives and opens offline, written from the record.

:func:`write_pack` writes, into a directory of its own:

- ``index.html``: what the pack holds, as of when, and every file with its SHA-256;
- ``verification.html``: the hash chain recomputed over the whole log
  (:func:`~kam_domain.audit.integrity.verify_chain`), and the newest signed tree head given,
  checked against the store (:func:`~kam_domain.audit.proofs.check_tree_heads`);
- ``accounts.html``: each account's accountable KAM and assignment history;
- ``discounts.html``: every discount request, its decision, and the approver's authority as the
  Team's record held it at the moment of the decision;
- ``targets.html`` and one ``target-<id>.html`` per target: its history, evaluations and
  sign-offs, each actual with the stored events it was measured from (by log position);
- ``exceptions.html``: the exceptions report (:mod:`kam_domain.audit.exceptions`);
- ``scorecard-<period>.html``: each period's scorecard with its charts
  (:func:`~kam_domain.reports.render_html`);
- ``export.jsonl`` with ``verify_export.py``, the standard-library verifier of docs/audit.md;
  with a signed tree head, ``signed-tree-head.json``, the public key and ``verifier.py``;
- ``pack.json`` (the summary, for scripts) and ``SHA256SUMS`` (``sha256sum -c`` checks it).

Nothing is loaded from anywhere: the pages carry their style sheet, the charts are inline SVG,
there is no script, and each page's content security policy forbids loading anything. Every
value reaches a page through Jinja2 with autoescaping. Links are relative, so the directory
can be moved, zipped or burnt to a disc. It only reads: open the store with
:func:`kam_domain.audit.records.open_app` (read-only) and nothing is recorded.

With ``at``, the records are read as they stood then (through the as-of index, proved against
the events), and decisions and exceptions as recorded up to then. The verification and the
export are always of the whole log as it is when the pack is written: the evidence the pages
rest on, whole, so that its chain verifies (events dated after the moment are in it too, each
with its effective time).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kam_domain.aggregates.base import event_id, require_utc
from kam_domain.errors import OutputNotEmpty, ValidationError
from kam_domain.reports.pack_views import SourceEvent, TargetView, located

__all__ = ["MANIFEST", "Pack", "write_pack"]

#: The file that lists every other file of the pack with its SHA-256.
MANIFEST = "SHA256SUMS"


@attrs.frozen
class Pack:
    """What :func:`write_pack` wrote: where, as of when, and each file (relative names)."""

    directory: Path
    at: datetime | None
    made_at: datetime
    intact: bool
    files: tuple[str, ...]
    events: int


def write_pack(
    app: Any,
    output: Path,
    *,
    at: datetime | None = None,
    force: bool = False,
    signed_heads: Sequence[Path] = (),
    public_key: Path | None = None,
    store: str = "",
    made_at: datetime | None = None,
) -> Pack:
    """Write the audit pack of ``app``'s record into ``output`` (see the module's docs).

    ``output`` must not exist or be empty; with ``force``, a pack written there before is
    replaced (its files are removed; files it did not write are left alone).
    ``signed_heads``: tree head files signed earlier (``kam audit checkpoint --key``), checked
    with ``public_key``; the newest is put in the pack. ``store``: how the pack names the store.
    """
    moment = None if at is None else require_utc("at", at)
    made = made_at or datetime.now(UTC)
    if signed_heads and public_key is None:
        raise ValidationError("public_key", "a signed tree head needs a public key to check")
    _prepare(output, force)
    site = _Site(output)
    reading = _read(app, moment, made, signed_heads, public_key)
    exported = _export(app, site, reading.targets)
    reading = attrs.evolve(reading, targets=located(reading.targets, exported.sources))
    _write_pages(site, reading, exported, store)
    if reading.signed is not None:
        _write_signed(site, reading.signed, public_key)
    site.text("verify_export.py", _packaged("templates", "verify_export.py.txt"))
    summary = _summary(reading, exported, store)
    site.text("pack.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    site.text(MANIFEST, "".join(f"{digest}  {name}\n" for name, digest in site.digests()))
    return Pack(
        output,
        moment,
        made,
        reading.verification.intact,
        (*site.written, MANIFEST),
        exported.count,
    )


# -- the directory -------------------------------------------------------------------------------


def _prepare(output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise OutputNotEmpty(f"output: {output} is a file, not a directory")
    if output.is_dir() and any(output.iterdir()):
        if not force:
            msg = f"output: {output} is not empty; give --force to replace a pack written there"
            raise OutputNotEmpty(msg)
        for name in _previous(output):
            (output / name).unlink(missing_ok=True)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValidationError("output", f"cannot create {output}: {error.strerror}") from None


def _previous(output: Path) -> list[str]:
    """The files a pack written into ``output`` before listed (its manifest too)."""
    manifest = output / MANIFEST
    if not manifest.is_file():
        return []
    names = [MANIFEST]
    for line in manifest.read_text(encoding="utf-8").splitlines():
        _, _, name = line.partition("  ")
        # Only plain names: a manifest is no licence to delete anything outside the pack.
        if re.fullmatch(r"[A-Za-z0-9._-]+", name) and not name.startswith("."):
            names.append(name)
    return names


class _Site:
    """The pack's files as they are written, with their digests."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.written: list[str] = []
        self._digests: dict[str, str] = {}

    def text(self, name: str, text: str) -> None:
        self.binary(name, text.encode("utf-8"))

    def binary(self, name: str, data: bytes) -> None:
        try:
            (self.directory / name).write_bytes(data)
        except OSError as error:
            msg = f"cannot write {self.directory / name}: {error.strerror}"
            raise ValidationError("output", msg) from None
        self._record(name, hashlib.sha256(data).hexdigest())

    def stream(self, name: str) -> _Stream:
        return _Stream(self, name)

    def _record(self, name: str, digest: str) -> None:
        if name not in self._digests:
            self.written.append(name)
        self._digests[name] = digest

    def digests(self) -> list[tuple[str, str]]:
        return [(name, self._digests[name]) for name in self.written]


class _Stream:
    """A file of the pack written a line at a time (the export), digested as it goes."""

    def __init__(self, site: _Site, name: str) -> None:
        self.site = site
        self.name = name
        self.hash = hashlib.sha256()
        self.handle = (site.directory / name).open("wb")

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.hash.update(data)
        self.handle.write(data)

    def close(self) -> None:
        self.handle.close()
        self.site._record(self.name, self.hash.hexdigest())


# -- reading -------------------------------------------------------------------------------------


@attrs.frozen
class _Reading:
    at: datetime | None
    made: datetime
    verification: Any
    signed: Any
    accounts: list[Any]
    discounts: list[Any]
    targets: list[TargetView]
    exceptions: Any
    scorecards: list[tuple[str, str, Any]]


def _read(
    app: Any,
    at: datetime | None,
    made: datetime,
    signed_heads: Sequence[Path],
    public_key: Path | None,
) -> _Reading:
    from kam_domain.audit.exceptions import exceptions_report
    from kam_domain.audit.integrity import verify_chain
    from kam_domain.reports import pack_views, scorecard

    verification = verify_chain(app.recorder)
    signed = _signed(app, verification, signed_heads, public_key)
    moment = at if at is not None else made
    targets = pack_views.targets(app, at)
    periods = sorted({view.period for view in targets})
    cards = []
    for period in periods:
        from kam_domain.values import Period

        card = scorecard(app, Period.parse(period), at=at)
        cards.append((period, f"scorecard-{_file_part(period)}.html", card))
    return _Reading(
        at=at,
        made=made,
        verification=verification,
        signed=signed,
        accounts=pack_views.accounts(app, moment),
        discounts=pack_views.discounts(app, at),
        targets=targets,
        exceptions=exceptions_report(app, at=at),
        scorecards=cards,
    )


def _signed(app: Any, verification: Any, heads: Sequence[Path], public_key: Path | None) -> Any:
    """The newest signed head given and its check against the store (None without one)."""
    if not heads or public_key is None:
        return None
    from kam_domain.audit.proofs import check_tree_heads
    from kam_domain.audit.signing import load_public_key, read_tree_head

    key = load_public_key(public_key)
    read = [read_tree_head(path) for path in heads]
    size = verification.checked if verification.intact else None
    checks = check_tree_heads(app.recorder, read, key, size=size)
    return max(checks, key=lambda check: check.signed.tree.size)


@attrs.frozen
class _Exported:
    count: int
    last: dict[str, Any] | None
    sources: dict[UUID, SourceEvent]


def _export(app: Any, site: _Site, views: list[TargetView]) -> _Exported:
    """Write ``export.jsonl``, the whole log, and find the actuals' source events on the way."""
    from kam_domain.audit.export import export_records

    wanted = set().union(*(view.source_ids() for view in views)) if views else set()
    found: dict[UUID, SourceEvent] = {}
    stream = site.stream("export.jsonl")
    count, last = 0, None
    try:
        for record in export_records(app):
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count, last = count + 1, record
            if record["originator_id"]:
                record_id = UUID(record["originator_id"])
                version = int(record["originator_version"])
                source = event_id(record_id, version)
                if source in wanted:
                    found[source] = SourceEvent(
                        source, int(record["position"]), record["event"], str(record_id), version
                    )
    finally:
        stream.close()
    return _Exported(count, last, found)


# -- writing -------------------------------------------------------------------------------------


#: The pages in the order the index and every page's navigation list them.
PAGES = (
    ("index.html", "Contents"),
    ("verification.html", "Verification"),
    ("accounts.html", "Accountability"),
    ("discounts.html", "Discounts"),
    ("targets.html", "Targets"),
    ("exceptions.html", "Exceptions"),
)


def _write_pages(site: _Site, reading: _Reading, exported: _Exported, store: str) -> None:
    from kam_domain.reports import render_html

    common = {
        "css": _css(),
        "pages": PAGES,
        "as_of": "as it stands now" if reading.at is None else f"as of {_moment(reading.at)}",
        "made": _moment(reading.made),
        "moment": _moment,
        "store": store,
    }
    site.text("verification.html", _page("verification", common, reading=reading))
    site.text("accounts.html", _page("accounts", common, accounts=reading.accounts))
    site.text("discounts.html", _page("discounts", common, discounts=reading.discounts))
    site.text("targets.html", _page("targets", common, targets=reading.targets))
    for view in reading.targets:
        site.text(view.page, _page("target", common, target=view))
    site.text("exceptions.html", _page("exceptions", common, report=reading.exceptions))
    for _, page, card in reading.scorecards:
        site.text(page, render_html(card, printed_at=reading.made))
    site.text(
        "index.html",
        _page(
            "index",
            common,
            reading=reading,
            exported=exported,
            checkpoint=_checkpoint(exported.last),
        ),
    )


def _write_signed(site: _Site, check: Any, public_key: Path | None) -> None:
    site.text("signed-tree-head.json", check.signed.to_json() + "\n")
    if public_key is not None:
        site.binary("public-key.pub", public_key.read_bytes())
    site.text("verifier.py", _packaged_from("kam_domain.audit", "verifier.py"))


def _summary(reading: _Reading, exported: _Exported, store: str) -> dict[str, Any]:
    verification = reading.verification
    return {
        "store": store,
        "at": None if reading.at is None else reading.at.isoformat(),
        "made_at": reading.made.isoformat(),
        "verification": {
            "intact": verification.intact,
            "checked": verification.checked,
            "head": None if verification.head is None else str(verification.head),
            "breach": None if verification.breach is None else str(verification.breach),
        },
        "signed_tree_head": None
        if reading.signed is None
        else {"size": reading.signed.signed.tree.size, "agrees": reading.signed.agrees},
        "accounts": len(reading.accounts),
        "discount_requests": len(reading.discounts),
        "targets": len(reading.targets),
        "exceptions": len(reading.exceptions.findings),
        "scorecards": [period for period, _, _ in reading.scorecards],
        "export": {"events": exported.count, "checkpoint": _checkpoint(exported.last)},
    }


def _checkpoint(last: dict[str, Any] | None) -> str | None:
    """The checkpoint of the export's last record, as ``verify_export.py`` takes it."""
    if last is None or not last["link"]:
        return None
    return f"kam-chain-1:{last['position']}:{last['link']}"


def _page(name: str, common: dict[str, Any], **values: Any) -> str:
    template = _environment().get_template(f"pack_{name}.html")
    return template.render(**common, current=f"{name}.html", **values)


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", text)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("kam_domain.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> Markup:
    # The package's own style sheet, not user data: it goes into the page as it is.
    return Markup(_packaged("templates", "pack.css"))


def _packaged(*parts: str) -> str:
    return files("kam_domain.reports").joinpath(*parts).read_text(encoding="utf-8")


def _packaged_from(package: str, name: str) -> str:
    return files(package).joinpath(name).read_text(encoding="utf-8")
