"""The stand-alone verifier: RFC 8032 signatures, key files, and running as a copied file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from Crypto.PublicKey import ECC
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_domain.audit.integrity import Checkpoint
from kam_domain.audit.signing import SigningKey, TreeHead, generate_key_pair, load_public_key
from kam_domain.audit.verifier import Problem, check_tree_head, ed25519_verify, public_key_from_text
from kam_domain.errors import KeyFileExists, KeyFileInvalid, SignatureInvalid

VERIFIER = Path(__file__).resolve().parents[2] / "kam_domain" / "audit" / "verifier.py"

# RFC 8032 section 7.1, tests 1 and 2: public key, message, signature.
RFC8032 = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
        "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
        "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(("public", "message", "signature"), RFC8032)
def test_the_rfc_8032_vectors_verify_and_nothing_near_them_does(
    public: str, message: str, signature: str
) -> None:
    """The RFC's signatures verify; a bit flipped in key, message or signature does not."""
    key, text, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)

    assert ed25519_verify(key, text, sig)
    assert not ed25519_verify(key, text + b"\x00", sig)
    assert not ed25519_verify(key, text, bytes([sig[0] ^ 1]) + sig[1:])
    assert not ed25519_verify(bytes([key[0] ^ 1]) + key[1:], text, sig)
    assert not ed25519_verify(key, text, sig[:63])
    assert not ed25519_verify(key, text, sig[:32] + (2**253).to_bytes(32, "little"))


@settings(max_examples=10)
@given(message=st.binary(max_size=300))
def test_the_libraries_signatures_verify_with_the_pure_python_routine(message: bytes) -> None:
    """What pycryptodome signs, the verifier's own RFC 8032 routine accepts, and only that."""
    key = SigningKey(ECC.generate(curve="ed25519"))

    signature = key.sign(message)

    assert ed25519_verify(key.public_key, message, signature)
    assert not ed25519_verify(key.public_key, message + b"!", signature)


def test_key_files_are_pem_kept_private_and_never_overwritten(tmp_path: Path) -> None:
    """keygen writes a 0600 private key and a PEM public key both readers agree on, and refuses
    to overwrite either; a file that is not a key is refused naming the field, not its bytes."""
    public = generate_key_pair(tmp_path / "k", tmp_path / "k.pub")
    (tmp_path / "junk").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n", "ascii")

    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert load_public_key(tmp_path / "k.pub") == public
    assert public_key_from_text((tmp_path / "k.pub").read_text()) == public
    with pytest.raises(KeyFileExists, match=r"^key: .* exists"):
        generate_key_pair(tmp_path / "k", tmp_path / "other.pub")
    with pytest.raises(KeyFileInvalid, match=r"^public_key: ") as refused:
        load_public_key(tmp_path / "junk")
    assert "secret" not in str(refused.value)
    with pytest.raises(Problem, match="public key"):
        public_key_from_text("not a key")


def test_a_tree_head_edited_in_any_field_fails_its_signature() -> None:
    """Changing any signed field of a tree head makes both verifiers refuse it."""
    key = SigningKey(ECC.generate(curve="ed25519"))
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    signed = TreeHead("ab" * 32, 7, b"r" * 32, Checkpoint(7, b"h" * 32), moment).signed(key)
    document = signed.as_dict()

    assert check_tree_head(document, key.public_key) == document
    for field, value in (("size", 8), ("root", "cd" * 32), ("time", "2026-03-02T00:00:00+00:00")):
        with pytest.raises(Problem, match="signature does not verify"):
            check_tree_head({**document, field: value}, key.public_key)
    other = SigningKey(ECC.generate(curve="ed25519"))
    with pytest.raises(SignatureInvalid, match="size 7"):
        signed.verify(other.public_key)


def test_the_verifier_runs_as_a_single_copied_file_without_the_library(tmp_path: Path) -> None:
    """Copied alone and run by an isolated interpreter without site-packages, the verifier
    accepts a signed head and refuses an edited one (exit status 0, then 1)."""
    key = SigningKey(ECC.generate(curve="ed25519"))
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    signed = TreeHead("ab" * 32, 7, b"r" * 32, Checkpoint(7, b"h" * 32), moment).signed(key)
    (tmp_path / "head.json").write_text(signed.to_json(), "utf-8")
    (tmp_path / "edited.json").write_text(signed.to_json().replace('"size": 7', '"size": 6'))
    (tmp_path / "kam.pub").write_text(key.public_key.hex() + "\n", "ascii")
    shutil.copy(VERIFIER, tmp_path / "verifier.py")

    def run(name: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-I", "-S", "verifier.py", "--public-key", "kam.pub", name]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)

    good, bad = run("head.json"), run("edited.json")

    assert (good.returncode, bad.returncode) == (0, 1), good.stderr + bad.stderr
    assert "head.json: verified: signed tree head: size 7" in good.stdout
    assert "edited.json: NOT VERIFIED: tree head of size 6: the signature does not verify" in (
        bad.stdout
    )
