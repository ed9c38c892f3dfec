"""``kam policies …`` and ``kam clock …``: listings that only read, commands that record."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.cli.policies import parameter
from kam_domain.policies.records import CLOCK_ID, Clock, PolicySettings, settings_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Actor, ActorKind, Period
from tests.policies.toy import ECHO, ECHO_V2, Echo, EchoV2, send
from tests.support import unchanged


@pytest.fixture(name="store")
def fixture_store(tmp_path: Path) -> str:
    """An SQLite file: each command opens it anew, as separate invocations do."""
    return f"sqlite:///{tmp_path / 'kam.db'}"


@pytest.fixture(name="host")
def fixture_host(store: str) -> Iterator[KamApplication]:
    """A host that records pings and leaves the policies to others."""
    app = KamApplication(store, policies=PolicyRegistry([Echo, EchoV2]), run_policies=False)
    yield app
    app.close()


def kam(capsys: pytest.CaptureFixture[str], store: str, *arguments: str) -> tuple[int, str]:
    """Run ``kam`` in this process with the toy policies; its status and what it printed."""
    status = main([*arguments, "--store", store, "--policies", ECHO, ECHO_V2])
    captured = capsys.readouterr()
    return status, captured.out or captured.err


def listed(capsys: pytest.CaptureFixture[str], store: str) -> dict[str, Any]:
    status, out = kam(capsys, store, "policies", "list", "--format", "json")
    assert status == 0
    rows: list[dict[str, Any]] = json.loads(out)
    return {row["policy"]: row for row in rows}


def test_list_shows_versions_active_version_tracked_position_and_lag(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before a worker runs the lag counts the pings; after it, the lag is 0 and every command
    up to the head (the answers included) is settled."""
    send(host, ["a", "b", "c"])

    before = listed(capsys, store)["echo"]
    worker_status, _ = kam(capsys, store, "worker", "--once")
    after = listed(capsys, store)["echo"]

    assert before == {
        "policy": "echo",
        "versions": "1,2",
        "active": "1 (default)",
        "tracked": 0,
        "lag": 3,
    }
    assert worker_status == 0
    assert after["lag"] == 0
    assert after["tracked"] == max(n.id for n in notifications(host))


def test_listings_only_read_the_log(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listing decisions and dead letters runs no policy, even with events waiting."""
    send(host, ["a", "b"])
    head = host.recorder.max_notification_id()

    decisions = kam(capsys, store, "policies", "decisions")
    letters = kam(capsys, store, "policies", "dead-letters", "--format", "csv")
    readonly = kam(capsys, f"{store}?mode=ro", "policies", "list")

    assert decisions[0] == 0
    header = decisions[1].splitlines()[0]
    assert header == "cause_position  policy  version  outcome  reason  refusal"
    assert len(decisions[1].splitlines()) == 2  # the header and its rule: no decision yet
    assert letters[0] == 0
    assert letters[1].splitlines()[0].startswith("id,policy,version,cause_position")
    assert readonly[0] == 0
    assert "echo" in readonly[1]
    assert host.recorder.max_notification_id() == head


def test_decisions_explain_themselves_in_json_and_csv(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each decision lists policy, version, cause, outcome, reason, inputs and actions."""
    (ping,) = send(host, ["hello"])
    kam(capsys, store, "worker", "--once")

    status, out = kam(
        capsys, store, "policies", "decisions", "--policy", "echo", "--format", "json"
    )
    (decision,) = json.loads(out)
    _, text = kam(capsys, store, "policies", "decisions", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))

    assert status == 0
    assert decision["policy"] == "echo"
    assert decision["version"] == 1
    assert decision["cause"] == "Ping.Sent"
    assert decision["outcome"] == "answer"
    assert decision["inputs"] == {"label": "hello"}
    assert decision["actions"] == [f"answer {ping}"]
    assert decision["refusal"] is None
    assert [row["cause_id"] for row in rows] == [decision["cause_id"]]
    assert rows[0]["inputs"] == "label=hello"


def test_activate_records_the_version_and_who_activated_it(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``activate`` records the version as a member's command; decisions then use it."""
    director = uuid4()

    status, out = kam(
        capsys, store, "policies", "activate", "echo", "2", "--reason", "louder",
        "--actor", str(director),
    )  # fmt: skip
    send(host, ["after"])
    kam(capsys, store, "worker", "--once")

    assert (status, out) == (0, "echo@2 decides from now on\n")
    assert listed(capsys, store)["echo"]["active"] == 2
    activated = list(host.events.get(settings_id("echo")))[-1]
    assert isinstance(activated, PolicySettings.VersionActivated)
    assert activated.actor == Actor.member(director)
    assert activated.reason == "louder"
    _, decisions = kam(capsys, store, "policies", "decisions", "--format", "json")
    assert [d["version"] for d in json.loads(decisions)] == [2]


def test_activating_an_unregistered_version_is_refused(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version nobody registered exits 1 with the library's message."""
    status, err = kam(capsys, store, "policies", "activate", "echo", "7", "--reason", "x")

    assert status == 1
    assert err == "kam: version: no version 7 of echo is registered (registered: 1, 2)\n"


def test_configure_records_numbers_decimals_and_text(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``configure`` records each value as a whole number, exact decimal or text."""
    status, out = kam(
        capsys, store, "policies", "configure", "echo", "volume=12", "ratio=0.75",
        "poison=tolerated", "--reason", "quieter office", "--defer",
    )  # fmt: skip

    settings = host.repository.get(settings_id("echo"))
    assert status == 0
    assert out == "echo: volume=12, ratio=0.75, poison=tolerated recorded\n"
    assert isinstance(settings, PolicySettings)
    assert settings.parameters == {"volume": 12, "ratio": Decimal("0.75"), "poison": "tolerated"}
    assert type(settings.parameters["volume"]) is int


def test_configure_refuses_unknown_and_repeated_parameters(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A parameter no version reads exits 1; the same key twice is a usage error (2)."""
    unknown = kam(capsys, store, "policies", "configure", "echo", "colour=red", "--reason", "x")
    repeated = kam(
        capsys, store, "policies", "configure", "echo", "volume=1", "volume=2", "--reason", "x"
    )

    assert unknown[0] == 1
    assert repeated[0] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limit=12", ("limit", 12)),
        ("limit=-3", ("limit", -3)),
        ("margin=0.15", ("margin", Decimal("0.15"))),
        ("margin=1e3", ("margin", Decimal("1e3"))),
        ("label=strategic", ("label", "strategic")),
        ("label=NaN", ("label", "NaN")),
        ("label=", ("label", "")),
        ("note=a=b", ("note", "a=b")),
    ],
)
def test_parameters_parse_as_int_then_decimal_else_text(
    text: str, expected: tuple[str, object]
) -> None:
    """KEY=VALUE values: a whole number, else a finite decimal, else the text itself."""
    key, value = parameter(text)

    assert (key, value) == expected
    assert type(value) is type(expected[1])


def test_clock_tick_and_close_period_record_time_as_the_cli(
    host: KamApplication, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ticks and period closes are recorded at the given moment (in UTC) by kam-cli."""
    tick = kam(capsys, store, "clock", "tick", "--at", "2026-04-01T08:00:00+08:00")
    close = kam(capsys, store, "clock", "close-period", "2026-Q1", "--at", "2026-04-02T00:00:00Z")

    clock = host.repository.get(CLOCK_ID)
    assert tick == (0, "tick recorded\n")
    assert close == (0, "period 2026-Q1 closed\n")
    assert isinstance(clock, Clock)
    assert clock.now == datetime(2026, 4, 2, tzinfo=UTC)
    assert clock.closed_periods == [Period(2026, 1)]
    events = list(host.events.get(CLOCK_ID))
    assert isinstance(events[1], Clock.Ticked)
    assert events[1].timestamp == datetime(2026, 4, 1, tzinfo=UTC)
    assert {e.actor for e in events[1:]} == {Actor.system("kam-cli")}
    assert events[1].actor.kind is ActorKind.SYSTEM


def test_closing_a_period_before_it_ends_is_refused(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A period closed before its end exits 1 and says until when it runs."""
    status, err = kam(
        capsys, store, "clock", "close-period", "2026-Q2", "--at", "2026-05-01T00:00Z"
    )

    assert status == 1
    assert "2026-Q2 runs until 2026-07-01" in err


@pytest.mark.parametrize(
    "arguments",
    [
        ["clock", "tick", "--at", "2026-04-01T08:00:00"],
        ["clock", "close-period", "2026-Q5"],
        ["policies", "configure", "echo", "volume", "--reason", "x"],
        ["policies", "activate", "echo", "2"],
        ["clock", "tick", "--actor", "not-a-member"],
        ["policies", "list", "--policies", "tests.policies.toy"],
    ],
    ids=["naive-at", "bad-period", "no-equals", "no-reason", "bad-actor", "no-class"],
)
def test_malformed_arguments_are_usage_errors(
    arguments: list[str], store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Arguments that cannot be read exit 2 before anything is opened or recorded."""
    with unchanged(store), pytest.raises(SystemExit) as exited:
        main([*arguments, "--store", store])

    assert exited.value.code == 2
    assert capsys.readouterr().err


def test_retry_with_nothing_parked_says_so(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``retry`` on a store without parked events exits 0 and says there are none."""
    assert kam(capsys, store, "policies", "retry") == (0, "no parked events\n")


def notifications(app: KamApplication) -> list[Any]:
    return list(app.recorder.select_notifications(start=None, limit=1_000_000))
