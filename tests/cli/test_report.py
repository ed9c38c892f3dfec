"""`kam report scorecard`: table, JSON, CSV and an HTML page a browser renders offline."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit.records import open_app
from kam_domain.cli import main
from kam_domain.demo import QUARTER, build_demo
from kam_domain.reports import Scorecard, scorecard
from kam_domain.reports.scorecard import RECORD_COLUMNS
from tests.support import unchanged

#: Where no browser is installed the rendering tests skip, unless this is set (CI sets it).
REQUIRE_BROWSER = "KAM_REQUIRE_BROWSER"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The page's colours for the best and the worst rating band.
BEST, WORST = (0x1B, 0x7F, 0x4C), (0xC2, 0x39, 0x2B)


@pytest.fixture(name="store", scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's quarter in an SQLite file, opened read-only by the report."""
    path = tmp_path_factory.mktemp("report") / "kam.db"
    app = KamApplication(f"sqlite:///{path}")
    build_demo(app)
    app.close()
    return f"sqlite:///{path}?mode=ro"


@pytest.fixture(name="card", scope="module")
def fixture_card(store: str) -> Scorecard:
    with open_app(store) as app:
        return scorecard(app, QUARTER)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["report", "scorecard", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_table_shows_every_scope_with_its_score_rating_and_states(
    store: str, card: Scorecard, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line per metric; the first line of a target names it and gives its outcome."""
    status, out, err = run(capsys, "--store", store, "--period", "2026-Q1")

    assert (status, err) == (0, "")
    assert out.startswith(f"{card.teams[0].name} — scorecard 2026-Q1 (as of now)")
    lines = out.splitlines()
    for row in card.rows:
        (line,) = [
            line
            for line in lines
            if re.match(rf"{row.scope_label}\s+{re.escape(row.name)}\s", line)
        ]
        assert re.search(rf"\s{row.score}\s+{row.rating}\s+{row.sign_off_text}\s", line)
        assert line.rstrip().endswith(row.action_plan_text)
    assert sum("service level" in line for line in lines) == len(card.rows)


def test_json_is_the_scorecard_as_data(
    store: str, card: Scorecard, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json prints the library's scorecard, every target with its metrics."""
    status, out, _ = run(capsys, "--store", store, "--period", "2026-Q1", "--format", "json")

    document = json.loads(out)
    assert status == 0
    assert document == card.as_dict()
    targets = document["teams"][0]["targets"]
    assert len(targets) == 17
    assert {(t["name"], t["rating"]) for t in targets} == {(r.name, r.rating) for r in card.rows}


def test_csv_has_one_record_per_target_and_metric(
    store: str, card: Scorecard, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format csv: a header, then target × metric records with goal, actual and outcome."""
    status, out, _ = run(capsys, "--store", store, "--period", "2026-Q1", "--format", "csv")

    records = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert out.splitlines()[0].split(",") == list(RECORD_COLUMNS)
    assert len(records) == 3 * len(card.rows)
    team = [r for r in records if r["scope"] == "team" and r["metric"] == "sales_revenue"]
    assert [(r["goal"], r["actual"], r["attainment"], r["rating"]) for r in team] == [
        ("6025950.00", "4226800.00", "70.14", "B")
    ]


def test_as_of_mid_quarter_nothing_is_evaluated_yet(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--at shows the targets as they stood: measured so far, marked not evaluated."""
    status, out, _ = run(
        capsys, "--store", store, "--period", "2026-Q1", "--at", "2026-02-15T00:00:00Z"
    )

    assert status == 0
    assert "(as of 2026-02-15T00:00:00+00:00)" in out
    assert out.count("not evaluated") == 17 + 1  # each target, and the note under the table
    assert not re.search(r"\s[A-D]\s+(yes|no)\s", out)


def test_refuses_unknown_team_naive_moment_and_bad_period(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown team exits 1 saying why; a moment without offset or a bad period is usage."""
    status, _, err = run(capsys, "--store", store, "--period", "2026-Q1", "--team", "Nobody")
    assert (status, err) == (1, "kam: team: no team with id Nobody\n")

    with pytest.raises(SystemExit) as naive:
        run(capsys, "--store", store, "--period", "2026-Q1", "--at", "2026-02-15")
    assert naive.value.code == 2
    assert "argument --at: must be timezone-aware" in capsys.readouterr().err

    with unchanged(store), pytest.raises(SystemExit) as exited:
        main(["report", "scorecard", "--store", store, "--period", "2026-Q5"])
    assert exited.value.code == 2


def test_a_period_without_targets_prints_an_empty_scorecard_and_says_so(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing to show is not an error: exit 0, empty output, a note on standard error."""
    status, out, err = run(capsys, "--store", store, "--period", "2025", "--format", "json")

    assert status == 0
    assert json.loads(out) == {"period": "2025", "at": None, "teams": []}
    assert err == "kam: no targets for 2025\n"


def test_html_goes_to_the_output_file_and_references_nothing_outside(
    store: str, card: Scorecard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format html --output writes one page; no http(s) reference anywhere in it."""
    page = tmp_path / "scorecard.html"

    status, out, _ = run(
        capsys, "--store", store, "--period", "2026-Q1", "--format", "html", "--output", str(page)
    )

    text = page.read_text(encoding="utf-8")
    assert (status, out) == (0, "")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", text, re.IGNORECASE)
    assert "<script" not in text.lower()


# -- in a browser ----------------------------------------------------------------------------------


@pytest.fixture(name="browser")
def fixture_browser() -> str:
    """Chromium's executable; skip without one, unless KAM_REQUIRE_BROWSER=1 (then fail)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium installed (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_BROWSER, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_BROWSER}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(name="page")
def fixture_page(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "scorecard.html"
    argv = ["--store", store, "--period", "2026-Q1", "--format", "html", "--output", str(path)]
    status, _, _ = run(capsys, *argv)
    assert status == 0
    return path


def headless(browser: str, profile: Path, *arguments: str) -> bytes:
    """Run headless Chromium with nothing to talk to: no network services, a fresh profile."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout


class _Text(HTMLParser):
    """The text a reader sees, and the elements by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_browser_renders_every_scope_and_rating(
    browser: str, page: Path, card: Scorecard, tmp_path: Path
) -> None:
    """After load, the page's DOM holds every scope's name, rating and score, and the charts."""
    dom = headless(browser, tmp_path / "profile", "--dump-dom", page.as_uri()).decode()

    parsed = _Text()
    parsed.feed(dom)
    text = " ".join(parsed.text)
    for row in card.rows:
        assert row.name in text
        assert str(row.score) in text
    assert {row.rating for row in card.rows} <= set(text.split())
    assert parsed.tags.get("svg", 0) >= 4
    assert parsed.tags.get("rect", 0) > len(card.rows)
    assert "How to read this scorecard" in text


def test_the_browser_paints_the_charts(browser: str, page: Path, tmp_path: Path) -> None:
    """A screenshot of the page is not blank: it shows the best and the worst rating's colours."""
    shot = tmp_path / "scorecard.png"

    headless(
        browser,
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,1300",
        f"--screenshot={shot}",
        page.as_uri(),
    )

    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1300)
    white = pixels.count((255, 255, 255))
    assert white < 0.9 * len(pixels)  # most of the page is not blank
    assert pixels.count(BEST) > 2000
    assert pixels.count(WORST) > 500


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG into RGB pixels (a screenshot's kind)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, []
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0)
            assert colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(
            raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels
        )
        pixels.extend(tuple(line[x : x + 3]) for x in range(0, stride, channels))
        previous = line
    return width, height, pixels


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> bytearray:
    if kind == 1:
        for x in range(step, len(line)):
            line[x] = (line[x] + line[x - step]) & 255
    elif kind == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
    elif kind == 3:
        for x in range(len(line)):
            left = line[x - step] if x >= step else 0
            line[x] = (line[x] + (left + previous[x]) // 2) & 255
    elif kind == 4:
        for x in range(len(line)):
            a = line[x - step] if x >= step else 0
            b = previous[x]
            c = previous[x - step] if x >= step else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return line


def test_png_decoding_reads_a_known_image() -> None:
    """The test's decoder reads back a 2×2 image written with every filter kind."""
    rows = [bytes([255, 0, 0, 0, 255, 0]), bytes([0, 0, 255, 255, 255, 255])]
    for kind in (0, 1, 2, 3, 4):
        previous = [bytes(6), rows[0]]
        lines = [_filtered(kind, row, above) for row, above in zip(rows, previous, strict=True)]
        png = _png(2, 2, b"".join(bytes([kind]) + line for line in lines))

        assert png_pixels(png) == (2, 2, [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)])


def _filtered(kind: int, row: bytes, previous: bytes) -> bytes:
    out = bytearray()
    for x, value in enumerate(row):
        a = row[x - 3] if x >= 3 else 0
        b = previous[x]
        c = previous[x - 3] if x >= 3 else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        paeth = a if pa <= pb and pa <= pc else b if pb <= pc else c
        predictor = {0: 0, 1: a, 2: b, 3: (a + b) // 2, 4: paeth}[kind]
        out.append((value - predictor) & 255)
    return bytes(out)


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
