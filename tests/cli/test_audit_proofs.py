"""`kam audit keygen`, `checkpoint --key`, `verify --checkpoint FILE`, `prove`, as run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.audit import verifier
from kam_domain.cli import main
from kam_domain.cli.audit import EXIT_NOT_INTACT
from tests import postgres_server
from tests.audit.test_proofs import Tables, build, more
from tests.audit.test_tampering import PostgresRows, SQLiteRows


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["audit", *argv])
    out, err = capsys.readouterr()
    return status, out + err


@pytest.fixture(name="signed")
def fixture_signed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """A SQLite store, a key pair, and a tree head signed over the store."""
    path = tmp_path / "kam.db"
    account = build(f"sqlite:///{path}")
    store = f"sqlite:///{path}?mode=ro"
    key, pub, head = tmp_path / "kam.key", tmp_path / "kam.pub", tmp_path / "head.json"
    assert run(capsys, "keygen", "--key", str(key), "--public-key", str(pub))[0] == 0
    status, out = run(
        capsys, "checkpoint", "--store", store, "--key", str(key), "--output", str(head)
    )
    assert status == 0, out
    return {
        "store": store,
        "path": path,
        "tables": Tables(SQLiteRows(path)),
        "account": account,
        "key": str(key),
        "pub": str(pub),
        "head": str(head),
        "dir": tmp_path,
    }


def verify(capsys: pytest.CaptureFixture[str], s: dict[str, Any], *extra: str) -> tuple[int, str]:
    return run(
        capsys,
        "verify",
        "--store",
        s["store"],
        "--checkpoint",
        s["head"],
        "--public-key",
        s["pub"],
        *extra,
    )


def test_keygen_then_a_signed_checkpoint_verifies(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A signed tree head written by checkpoint --key verifies with verify and with the
    stand-alone verifier, and the store file was not changed by either."""
    before = signed["path"].read_bytes()

    status, out = verify(capsys, signed)

    assert status == 0, out
    assert out.startswith("intact: ")
    assert f"agrees with signed tree head {signed['head']}: size " in out
    assert verifier.main(["--public-key", signed["pub"], signed["head"]]) == 0
    assert signed["path"].read_bytes() == before


def test_verify_catches_a_rewrite_with_recomputed_links(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """An event rewritten and its later links recomputed: exit 3, rewritten, with the
    position the signed head vouched for."""
    head = json.loads(Path(signed["head"]).read_text())
    position = head["head"].split(":")[1]

    signed["tables"].rewrite(6)

    status, out = verify(capsys, signed)
    assert status == EXIT_NOT_INTACT
    assert out.startswith(f"NOT INTACT at position {position} (rewritten): ")


def test_verify_reports_a_forged_append_as_unsigned_and_prove_as_not_proven(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """An event appended with a correct link is reported as covered by no signature (exit 3
    with --require-signed), and the account's proofs against the signed head name it."""
    forged = signed["tables"].forge_append(signed["account"])

    lenient, noted = verify(capsys, signed)
    strict, refused = verify(capsys, signed, "--require-signed")
    proved, said = run(
        capsys,
        "prove",
        "--store",
        signed["store"],
        "--account",
        str(signed["account"]),
        "--checkpoint",
        signed["head"],
        "--output",
        str(signed["dir"] / "trail.json"),
    )

    assert lenient == 0, noted
    assert (
        f"note: events after position {forged - 1} that no signed tree head given covers: 1"
        in noted
    )
    assert strict == EXIT_NOT_INTACT
    assert "NOT INTACT (unsigned): events after position" in refused
    assert proved == EXIT_NOT_INTACT
    assert "NOT PROVEN: proved " in said
    assert f"positions {forged} come after it" in said
    trail = str(signed["dir"] / "trail.json")
    assert verifier.main(["--public-key", signed["pub"], trail]) == 1


def test_an_edited_checkpoint_file_fails_its_signature(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A signed tree head edited by hand (its time moved) is refused: exit 3, signature."""
    path = Path(signed["head"])
    path.write_text(re.sub(r'"time": "2\d{3}', '"time": "2019', path.read_text()))

    status, out = verify(capsys, signed)

    assert status == EXIT_NOT_INTACT
    assert out.startswith("NOT INTACT (signature): tree head of size ")
    assert "the signature does not verify under the public key" in out


def test_a_signed_checkpoint_needs_a_public_key_and_a_real_key(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --public-key, or with a file that is not a key, the command is refused (exit 1),
    names the field, and the store is unchanged."""
    before = signed["path"].read_bytes()

    missing = run(capsys, "verify", "--store", signed["store"], "--checkpoint", signed["head"])
    wrong = run(capsys, "checkpoint", "--store", signed["store"], "--key", signed["head"])
    neither = run(capsys, "prove", "--store", signed["store"], "--account", "Huaxia Mobile")

    assert missing[0] == wrong[0] == neither[0] == 1
    assert "public_key: " in missing[1]
    assert "key: " in wrong[1]
    assert "not an Ed25519 private key" in wrong[1]
    assert "checkpoint: give --checkpoint FILE" in neither[1]
    assert signed["path"].read_bytes() == before


def test_prove_an_account_and_the_consistency_of_two_heads(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """prove --account writes proofs the stand-alone verifier accepts; prove --from --to a
    consistency proof it accepts too."""
    trail, newer, step = (signed["dir"] / name for name in ("trail.json", "new.json", "c.json"))
    writable = signed["store"].removesuffix("?mode=ro")
    proved, said = run(
        capsys,
        "prove",
        "--store",
        signed["store"],
        "--account",
        "Huaxia Mobile",
        "--checkpoint",
        signed["head"],
        "--output",
        str(trail),
    )
    more(writable, signed["account"])
    assert (
        run(
            capsys,
            "checkpoint",
            "--store",
            writable,
            "--key",
            signed["key"],
            "--output",
            str(newer),
        )[0]
        == 0
    )
    stepped, _ = run(
        capsys,
        "prove",
        "--store",
        signed["store"],
        "--from",
        signed["head"],
        "--to",
        str(newer),
        "--output",
        str(step),
    )

    assert proved == 0, said
    assert said.startswith("proved ")
    assert "events of Huaxia Mobile against" in said
    assert stepped == 0
    assert verifier.main(["--public-key", signed["pub"], str(trail), str(step)]) == 0


def test_the_proof_commands_need_only_select_on_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL role that may only SELECT can sign a checkpoint, verify it and prove."""
    owner = postgres_server.fresh_store_url()
    role = f"kam_prover_{uuid4().hex[:10]}"
    schema = postgres_server.schema_of(owner)
    key, pub, head = tmp_path / "kam.key", tmp_path / "kam.pub", tmp_path / "head.json"
    try:
        account = build(owner)
        with postgres_server.connect(owner) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'audit-only'")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        url = re.sub(r"://[^@/]*@", f"://{role}:audit-only@", owner, count=1)
        run(capsys, "keygen", "--key", str(key), "--public-key", str(pub))

        signed = run(capsys, "checkpoint", "--store", url, "--key", str(key), "--output", str(head))
        verified = run(
            capsys, "verify", "--store", url, "--checkpoint", str(head), "--public-key", str(pub)
        )
        proved = run(
            capsys,
            "prove",
            "--store",
            url,
            "--account",
            str(account),
            "--checkpoint",
            str(head),
            "--output",
            str(tmp_path / "t.json"),
        )
        Tables(PostgresRows(owner)).rewrite(3)
        caught = run(
            capsys, "verify", "--store", url, "--checkpoint", str(head), "--public-key", str(pub)
        )
    finally:
        postgres_server.drop_schema(owner)
        with postgres_server.connect(owner) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")

    assert (signed[0], verified[0], proved[0]) == (0, 0, 0), (signed, verified, proved)
    assert caught[0] == EXIT_NOT_INTACT
    assert "(rewritten)" in caught[1]
    assert "audit-only" not in caught[1]


def test_the_key_holder_signs_nothing_over_a_store_that_does_not_extend_the_last_head(
    signed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """checkpoint --key --previous HEAD refuses (exit 3, rewritten) to sign a store rewritten
    since HEAD, writes no file, and signs once the store extends it."""
    honest = signed["dir"] / "honest.json"
    status, out = run(
        capsys,
        "checkpoint",
        "--store",
        signed["store"],
        "--key",
        signed["key"],
        "--previous",
        signed["head"],
        "--output",
        str(honest),
    )
    assert status == 0, out
    refused = signed["dir"] / "refused.json"

    signed["tables"].rewrite(4)

    status, out = run(
        capsys,
        "checkpoint",
        "--store",
        signed["store"],
        "--key",
        signed["key"],
        "--previous",
        signed["head"],
        "--output",
        str(refused),
    )
    assert status == EXIT_NOT_INTACT
    assert "does not extend the signed tree head of size" in out
    position = json.loads(Path(signed["head"]).read_text())["head"].split(":")[1]
    assert f"position {position}: the store's first" in out
    assert not refused.exists()
