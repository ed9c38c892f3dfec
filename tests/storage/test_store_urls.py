"""Store URLs: parsing, masking of secrets, per-backend settings, cipher and compression."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_domain import storage
from kam_domain.application import KamApplication
from kam_domain.errors import (
    InvalidStoreUrl,
    StoreParameterOutOfRange,
    StoreUnavailable,
    UnknownStoreScheme,
    ValidationError,
)
from kam_domain.storage import (
    CIPHER_KEY_ENV_VAR,
    StoreUrl,
    available_schemes,
    new_cipher_key,
    resolve_store,
    store_settings,
)
from tests import postgres_server

KEY = new_cipher_key()


@pytest.fixture(name="driver")
def fixture_driver() -> None:
    """PostgreSQL URLs need the driver (not a server) to reach their adapter."""
    postgres_server.require_driver()


def settings(url: str, **options: object) -> dict[str, str]:
    parsed, adapter = resolve_store(url)
    return store_settings(parsed, adapter, **options)  # type: ignore[arg-type]


def test_password_and_cipher_key_never_appear_when_a_url_is_printed() -> None:
    """str() and repr() mask the password and the cipher key, and keep the rest."""
    url = StoreUrl.parse(
        f"postgresql://kam:pa%40ss@db.example:6543/crm?schema=east&cipher_key={KEY}"
    )

    printed = [str(url), repr(url)]

    for text in printed:
        assert "pa@ss" not in text
        assert "pa%40ss" not in text
        assert KEY not in text
    assert str(url) == "postgresql://kam:***@db.example:6543/crm?cipher_key=***&schema=east"
    assert url.password == "pa@ss"


def test_malformed_url_error_masks_its_secrets() -> None:
    """A URL too broken to parse is echoed with its password and key masked."""
    with pytest.raises(InvalidStoreUrl) as caught:
        StoreUrl.parse(f"postgresql://kam:hunter2@db:99999/crm?cipher_key={KEY}")

    assert "hunter2" not in str(caught.value)
    assert KEY not in str(caught.value)
    assert "99999" in str(caught.value)


@pytest.mark.parametrize("text", ["", "kam.db", "postgresql:/db", "://nothing"])
def test_text_without_a_scheme_is_not_a_store_url(text: str) -> None:
    """A store URL needs SCHEME://."""
    with pytest.raises(InvalidStoreUrl):
        resolve_store(text or "no-scheme")


def test_unknown_scheme_lists_the_schemes_available() -> None:
    """An unknown scheme is refused with the list of schemes that have an adapter."""
    with pytest.raises(UnknownStoreScheme) as caught:
        resolve_store("mysql://kam@localhost/kam")

    for scheme in ("memory://", "sqlite://", "postgresql://"):
        assert scheme in str(caught.value)
    assert {"memory", "sqlite", "postgresql", "postgres"} <= set(available_schemes())


def test_unknown_parameter_is_refused_with_the_accepted_ones(tmp_path: Path) -> None:
    """A misspelt parameter is an error that names what the scheme accepts."""
    with pytest.raises(InvalidStoreUrl) as caught:
        settings(f"sqlite:///{tmp_path}/kam.db?lock_timout=3")

    assert "lock_timout" in str(caught.value)
    assert "lock_timeout" in str(caught.value)


@pytest.mark.usefixtures("driver")
def test_postgres_url_maps_onto_eventsourcing_settings() -> None:
    """Host, port, user, password, database, schema and pool sizes reach eventsourcing."""
    env = settings(
        "postgresql://kam:s3cret@db.example:6543/crm?schema=east&pool_size=3&max_overflow=4"
        "&connect_timeout=7&lock_timeout=2&pre_ping=yes"
    )

    assert env["PERSISTENCE_MODULE"] == "kam_adapters.postgres:Factory"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example", "6543")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("kam", "s3cret")
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_SCHEMA"]) == ("crm", "east")
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("3", "4")
    assert (env["POSTGRES_CONNECT_TIMEOUT"], env["POSTGRES_LOCK_TIMEOUT"]) == ("7", "2")
    assert (env["POSTGRES_PRE_PING"], env["CREATE_TABLE"]) == ("yes", "yes")


@pytest.mark.usefixtures("driver")
def test_postgres_defaults_use_schema_kam_and_libpq_defaults() -> None:
    """Without user, password or port: libpq's defaults; the schema defaults to kam."""
    env = settings("postgres://db.example/crm")

    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("", "")
    assert (env["POSTGRES_PORT"], env["POSTGRES_SCHEMA"]) == ("5432", "kam")


@pytest.mark.usefixtures("driver")
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kam@db/",
        "postgresql://kam@db/crm/extra",
        "postgresql://kam@db/crm?schema=East",
        "postgresql://kam@db/crm?schema=pg_catalog",
        "postgresql://kam@db/crm?schema=a;drop",
        "postgresql://kam@db/crm?pool_size=0",
        "postgresql://kam@db/crm?pool_size=many",
        "postgresql://kam@db/crm?create=maybe",
        "sqlite://host/kam.db",
        "sqlite:///kam.db?mode=write",
        "sqlite:///kam.db?lock_timeout=soon",
        "sqlite:///:memory:?mode=ro",
        "memory://?compress=sometimes",
    ],
)
def test_invalid_settings_in_a_url_are_refused(url: str) -> None:
    """Missing databases, bad schema names and bad numbers are InvalidStoreUrl."""
    with pytest.raises(InvalidStoreUrl):
        settings(url)


@pytest.mark.usefixtures("driver")
def test_cipher_key_and_compression_apply_to_every_backend(tmp_path: Path) -> None:
    """The same parameters turn on AES-GCM and zlib for memory, SQLite and PostgreSQL."""
    for url in ("memory://", f"sqlite:///{tmp_path}/kam.db", "postgresql://kam@db/crm"):
        env = settings(f"{url}?cipher_key={KEY}&compress=zlib")

        assert env["CIPHER_TOPIC"] == "kam_domain.keyring:KeyRingCipher"
        assert env["CIPHER_KEY"] == KEY
        assert env["COMPRESSOR_TOPIC"] == "eventsourcing.compressor:ZlibCompressor"


def test_keywords_win_over_url_parameters() -> None:
    """The facade's cipher_key and compress override the URL's."""
    other = new_cipher_key(24)

    env = settings(f"memory://?cipher_key={KEY}&compress=yes", cipher_key=other, compress=False)

    assert env["CIPHER_KEY"] == other
    assert env["COMPRESSOR_TOPIC"] == ""


def test_cipher_key_comes_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """$KAM_CIPHER_KEY encrypts stores whose URL and keywords give no key."""
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, KEY)

    assert settings("memory://")["CIPHER_KEY"] == KEY
    assert settings("memory://", cipher_key=new_cipher_key())["CIPHER_KEY"] != KEY


def test_plus_signs_of_an_unencoded_key_survive_the_query_string() -> None:
    """A base64 key pasted into a URL unencoded ('+' read as space) still decodes."""
    key = "+" * 42 + "8="  # 32 bytes whose base64 is full of '+'

    assert settings(f"memory://?cipher_key={key}")["CIPHER_KEY"] == key


def test_url_safe_base64_keys_are_accepted() -> None:
    """Keys in URL-safe base64 ('-' and '_') are read as the same key."""
    url_safe = KEY.replace("+", "-").replace("/", "_")

    assert settings(f"memory://?cipher_key={url_safe}")["CIPHER_KEY"] == KEY


@pytest.mark.parametrize("key", ["c2hvcnQ=", "not base64!", "QUJD" * 9])
def test_keys_of_the_wrong_size_or_alphabet_are_refused_by_field(key: str) -> None:
    """A bad keyword key is a ValidationError on cipher_key that does not repeat the key."""
    with pytest.raises(ValidationError) as caught:
        settings("memory://", cipher_key=key)

    assert caught.value.field == "cipher_key"
    assert key not in str(caught.value)


def test_compress_keyword_must_be_a_bool() -> None:
    """compress=1 or 'yes' as a keyword is a mistake, not a setting."""
    with pytest.raises(ValidationError):
        settings("memory://", compress="yes")


def test_new_cipher_key_refuses_sizes_aes_does_not_have() -> None:
    """Keys are 16, 24 or 32 bytes."""
    assert {len(new_cipher_key(n)) for n in (16, 24, 32)} == {24, 32, 44}
    with pytest.raises(ValidationError):
        new_cipher_key(20)


def test_kam_store_names_the_store_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no URL, $KAM_STORE chooses the store."""
    monkeypatch.setenv("KAM_STORE", f"sqlite:///{tmp_path}/from-env.db")

    app = KamApplication()
    app.close()

    assert (tmp_path / "from-env.db").exists()
    assert str(app.store_url) == f"sqlite:///{tmp_path}/from-env.db"


def test_missing_driver_is_reported_as_store_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An adapter whose module cannot be imported is StoreUnavailable, naming the scheme."""
    monkeypatch.setitem(storage._BUILT_IN, "ghost", "kam_adapters.no_such_module:adapter")

    with pytest.raises(StoreUnavailable, match="ghost://"):
        resolve_store("ghost://somewhere")


@pytest.mark.usefixtures("driver")
@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("postgresql://kam@db/crm?pool_size=100000000", "pool_size"),
        ("postgresql://kam@db/crm?pool_size=101", "pool_size"),
        ("postgresql://kam@db/crm?max_overflow=999999999999999999", "max_overflow"),
        ("postgresql://kam@db/crm?connect_timeout=86400", "connect_timeout"),
        ("postgresql://kam@db/crm?lock_timeout=3601", "lock_timeout"),
        ("postgresql://kam@db/crm?pool_size=%D9%A3", "pool_size"),  # an Arabic-Indic 3
        ("postgresql://kam@db/crm?pool_size=%C2%B2", "pool_size"),  # a superscript 2
        ("sqlite:///kam.db?lock_timeout=99999999", "lock_timeout"),
        ("sqlite:///kam.db?poll_interval=1e-300", "poll_interval"),
        ("sqlite:///kam.db?poll_interval=" + "9" * 5000, "poll_interval"),
    ],
)
def test_numeric_url_parameters_beyond_their_range_are_refused(url: str, parameter: str) -> None:
    """A pool size, overflow, timeout or poll interval that would hang, spin or eat memory is
    refused with StoreParameterOutOfRange naming the parameter, before anything is opened."""
    with pytest.raises(StoreParameterOutOfRange, match=parameter):
        settings(url)


@pytest.mark.usefixtures("driver")
def test_numeric_url_parameters_at_their_bounds_are_taken() -> None:
    """The ends of each range are accepted as given."""
    env = settings(
        "postgresql://kam@db/crm?pool_size=100&max_overflow=1&connect_timeout=300&lock_timeout=0"
    )

    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("100", "1")
    assert (env["POSTGRES_CONNECT_TIMEOUT"], env["POSTGRES_LOCK_TIMEOUT"]) == ("300", "0")
