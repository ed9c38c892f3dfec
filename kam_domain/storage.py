"""Choosing a store by URL: ``memory://``, ``sqlite:///kam.db``, ``postgresql://…``.

A URL names an adapter by its scheme. Adapters are found in the entry-point group
``kam_domain.storage`` (the built-in ones are registered there too), so a third party adds a
backend by installing a package; the domain never imports an adapter module directly.

A store can be opened for reading only (:func:`store_settings` with ``read_only=True``): an
adapter's ``read_only_environment`` then gives settings under which nothing is created or
written, a missing store is refused (:class:`~kam_domain.errors.StoreNotFound`) and a database
without the library's tables too (:class:`~kam_domain.errors.NotAKamStore`). The built-in
adapters honour :data:`READ_ONLY_KEY` in their factories for the last two.

Two settings apply to every backend and are handled here rather than by each adapter:
encryption at rest (AES-GCM under a key ring, :mod:`kam_domain.keyring`, on when a key is
given) and compression (zlib). A key, or a ring of keys separated by commas (oldest first, the
last one encrypting), may come from the facade's ``cipher_key`` keyword, the URL's
``cipher_key`` parameter or the ``KAM_CIPHER_KEY`` environment variable, in that order;
printing a :class:`StoreUrl` never shows it, nor a password.
"""

from __future__ import annotations

import binascii
import importlib
import os
import re
from base64 import b64decode, b64encode, urlsafe_b64decode
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import attrs
from eventsourcing.persistence import ApplicationRecorder, Mapper, MapperDeserialisationError

from kam_domain.errors import (
    InvalidStoreUrl,
    StoreParameterOutOfRange,
    StoreUnavailable,
    StoreUnreadable,
    UnknownStoreScheme,
    ValidationError,
)
from kam_domain.keyring import KeyRing

__all__ = [
    "CIPHER_KEY_ENV_VAR",
    "COMMON_OPTIONS",
    "DEFAULT_STORE",
    "READ_ONLY_KEY",
    "STORE_ENV_VAR",
    "StorageAdapter",
    "StoreUrl",
    "available_schemes",
    "bounded_parameter",
    "check_readable",
    "cipher_ring",
    "new_cipher_key",
    "resolve_store",
    "store_settings",
]

STORE_ENV_VAR = "KAM_STORE"
CIPHER_KEY_ENV_VAR = "KAM_CIPHER_KEY"
DEFAULT_STORE = "sqlite:///kam.db"
ENTRY_POINT_GROUP = "kam_domain.storage"
#: The environment key telling an adapter's factory that the store is opened for reading only.
READ_ONLY_KEY = "KAM_READ_ONLY"

#: Query parameters every backend accepts; the adapters declare their own in ``options``.
COMMON_OPTIONS = frozenset({"cipher_key", "compress"})

#: Query parameters whose values are secrets: masked whenever a URL is printed.
SECRET_OPTIONS = frozenset({"cipher_key", "password"})

CIPHER_TOPIC = "kam_domain.keyring:KeyRingCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"
_KEY_SIZES = (16, 24, 32)
_YES = frozenset({"zlib", "1", "yes", "true", "on"})
_NO = frozenset({"0", "no", "false", "off", "none"})

# Found even when the distribution's metadata is not installed (e.g. running from a checkout).
_BUILT_IN = {
    "memory": "kam_adapters.memory:adapter",
    "sqlite": "kam_adapters.sqlite:adapter",
    "postgresql": "kam_adapters.postgres:adapter",
    "postgres": "kam_adapters.postgres:adapter",
}


@attrs.frozen(repr=False)
class StoreUrl:
    """A parsed store URL; ``str()`` and ``repr()`` never show the password or a cipher key."""

    scheme: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    path: str
    query: Mapping[str, str]

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        if not isinstance(url, str) or "://" not in url:
            raise InvalidStoreUrl(f"store: expected SCHEME://…, got {_mask_text(url)!r}")
        try:
            parts: SplitResult = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise InvalidStoreUrl(f"store: {_mask_text(url)!r} is malformed: {error}") from None
        if not parts.scheme:
            raise InvalidStoreUrl(f"store: expected SCHEME://…, got {_mask_text(url)!r}")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return cls(
            scheme=parts.scheme.lower(),
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            host=parts.hostname,
            port=port,
            path=parts.path,
            query=query,
        )

    def secrets(self) -> list[str]:
        """The secret values this URL carries (to scrub them from driver messages)."""
        found = [self.password or ""] + [self.query.get(key, "") for key in SECRET_OPTIONS]
        return [secret for secret in found if secret]

    def scrub(self, text: object) -> str:
        """``text`` with every secret of this URL replaced by ``***``."""
        message = str(text)
        for secret in sorted(self.secrets(), key=len, reverse=True):
            message = message.replace(secret, "***")
        return message

    def __str__(self) -> str:
        auth = ""
        if self.username:
            auth = self.username + (":***" if self.password else "") + "@"
        host = (self.host or "") + (f":{self.port}" if self.port else "")
        query = "&".join(
            f"{key}={'***' if key in SECRET_OPTIONS else value}"
            for key, value in sorted(self.query.items())
        )
        return f"{self.scheme}://{auth}{host}{self.path}" + (f"?{query}" if query else "")

    def __repr__(self) -> str:
        return f"StoreUrl({str(self)!r})"


class StorageAdapter(Protocol):
    """What a storage backend provides: the eventsourcing environment for a URL.

    An adapter may also declare ``options``, the query parameters it understands; the URL is
    then refused when it carries any other (besides :data:`COMMON_OPTIONS`), so typos surface.
    And it may provide ``read_only_environment(url)``: the settings that open the store for
    reading only (see :func:`store_settings`); without it, reading opens the store with
    ``CREATE_TABLE=no``, and the adapter alone answers for writing nothing.
    """

    scheme: str

    def environment(self, url: StoreUrl) -> dict[str, str]:
        """The eventsourcing settings (PERSISTENCE_MODULE and the module's own keys)."""
        ...


def _adapters() -> dict[str, str]:
    found = dict(_BUILT_IN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.value
    return found


def available_schemes() -> list[str]:
    return sorted(_adapters())


def resolve_store(url: str | None = None) -> tuple[StoreUrl, StorageAdapter]:
    """Parse ``url`` (default: ``$KAM_STORE``, else ``sqlite:///kam.db``) and find its adapter."""
    text = url or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE
    parsed = StoreUrl.parse(text)
    target = _adapters().get(parsed.scheme)
    if target is None:
        schemes = ", ".join(f"{s}://" for s in available_schemes())
        msg = f"store: no adapter for {parsed.scheme}:// (available: {schemes})"
        raise UnknownStoreScheme(msg)
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        msg = f"store: the adapter for {parsed.scheme}:// cannot be loaded: {error}"
        raise StoreUnavailable(msg) from error
    adapter: StorageAdapter = getattr(module, attribute)
    return parsed, adapter


def store_settings(
    url: StoreUrl,
    adapter: StorageAdapter,
    *,
    cipher_key: str | None = None,
    compress: bool | None = None,
    read_only: bool = False,
) -> dict[str, str]:
    """The eventsourcing environment for ``url``: the adapter's settings, cipher, compressor.

    ``cipher_key`` and ``compress`` (the facade's keywords) win over the URL's parameters;
    a key from neither is taken from ``$KAM_CIPHER_KEY``. ``read_only``: settings under
    which the store is read and never created, upgraded or written (what every reading
    command uses).
    """
    _check_options(url, adapter)
    if read_only:
        reading: Callable[[StoreUrl], dict[str, str]] | None = getattr(
            adapter, "read_only_environment", None
        )
        settings = adapter.environment(url) if reading is None else reading(url)
        settings.update({"CREATE_TABLE": "no", READ_ONLY_KEY: "yes"})
    else:
        settings = adapter.environment(url)
    settings.update(_codec(url, cipher_key, compress))
    return settings


def new_cipher_key(num_bytes: int = 32) -> str:
    """A fresh random AES key (16, 24 or 32 bytes), base64-encoded, for ``cipher_key``."""
    if num_bytes not in _KEY_SIZES:
        raise ValidationError("num_bytes", f"must be one of {_KEY_SIZES}, not {num_bytes!r}")
    return b64encode(os.urandom(num_bytes)).decode("ascii")


def check_readable(url: StoreUrl, recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
    """Decode the store's first event, so a wrong key or compression setting fails at once.

    Without this check a store opened with the wrong settings would fail on the first read,
    and, worse, a command that reads nothing first would write events the store's other
    readers cannot decode.
    """
    first = recorder.select_notifications(start=None, limit=1)
    if not first:
        return
    try:
        mapper.to_domain_event(first[0])
    except MapperDeserialisationError as error:
        msg = (
            f"store: {url}: stored events cannot be decoded with this cipher key and "
            "compression setting; open the store with the ones it was written with"
        )
        raise StoreUnreadable(msg) from error


def bounded_parameter(url: StoreUrl, name: str, default: str, *, low: int, high: int) -> str:
    """The URL's whole-number parameter ``name`` (else ``default``), from ``low`` to ``high``.

    Bounded so that a typo cannot open a thousand connections, wait for hours or loop without
    pause: :class:`StoreParameterOutOfRange` names the parameter and its range.
    """
    value = url.query.get(name, default)
    # ASCII digits only: str.isdigit() also takes other scripts' digits and superscripts.
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        msg = f"store: {url}: {name} must be a whole number from {low} to {high}, not {value!r}"
        raise StoreParameterOutOfRange(msg)
    if not low <= int(value) <= high:
        msg = f"store: {url}: {name} must be from {low} to {high}, not {int(value)}"
        raise StoreParameterOutOfRange(msg)
    return str(int(value))


def _check_options(url: StoreUrl, adapter: StorageAdapter) -> None:
    declared: frozenset[str] | None = getattr(adapter, "options", None)
    if declared is None:
        return
    accepted = COMMON_OPTIONS | declared
    unknown = sorted(set(url.query) - accepted)
    if unknown:
        msg = (
            f"store: {url}: unknown parameter(s) {', '.join(unknown)}; "
            f"{url.scheme}:// accepts {', '.join(sorted(accepted))}"
        )
        raise InvalidStoreUrl(msg)


def _codec(url: StoreUrl, cipher_key: str | None, compress: bool | None) -> dict[str, str]:
    settings = {"CIPHER_TOPIC": "", "CIPHER_KEY": "", "COMPRESSOR_TOPIC": ""}
    key = _cipher_key(url, cipher_key)
    if key is not None:
        settings["CIPHER_TOPIC"] = CIPHER_TOPIC
        settings["CIPHER_KEY"] = key
    # eventsourcing looks a setting up under the application's name first: for an application
    # named kam, $KAM_CIPHER_KEY would otherwise win over the key chosen here.
    settings[CIPHER_KEY_ENV_VAR] = settings["CIPHER_KEY"]
    if compress is None:
        compress = _flag(url, "compress")
    elif not isinstance(compress, bool):
        raise ValidationError("compress", f"must be True or False, not {compress!r}")
    if compress:
        settings["COMPRESSOR_TOPIC"] = COMPRESSOR_TOPIC
    return settings


def cipher_ring(url: StoreUrl, given: str | None = None) -> KeyRing | None:
    """The key ring a store is opened with (``given``, else the URL's, else the environment's),
    or None when no key is given; errors name the ring's source, never a key."""
    text = _cipher_key(url, given)
    return None if text is None else KeyRing.parse(text)


def _cipher_key(url: StoreUrl, given: str | None) -> str | None:
    """The key ring in standard base64, checked; errors name the key's source, never the key."""
    if given is not None:
        if not isinstance(given, str):
            raise ValidationError("cipher_key", "must be a base64-encoded string")
        return _decoded_ring(given, lambda reason: ValidationError("cipher_key", reason))
    if "cipher_key" in url.query:
        return _decoded_ring(
            url.query["cipher_key"],
            lambda reason: InvalidStoreUrl(f"store: {url}: cipher_key {reason}"),
        )
    from_env = os.environ.get(CIPHER_KEY_ENV_VAR)
    if from_env:
        return _decoded_ring(
            from_env,
            lambda reason: InvalidStoreUrl(f"store: ${CIPHER_KEY_ENV_VAR} {reason}"),
        )
    return None


def _decoded_ring(text: str, error: Callable[[str], Exception]) -> str:
    """Each comma-separated key of ``text`` checked and in standard base64, in order."""
    parts = text.split(",")
    if len(parts) > 1 and not all(part.strip() for part in parts):
        raise error("must be base64 keys separated by commas, none empty")
    keys = [_decoded_key(part, error) for part in parts]
    if len(set(keys)) != len(keys):
        raise error("holds the same key twice")
    return ",".join(keys)


def _decoded_key(text: str, error: Callable[[str], Exception]) -> str:
    # A '+' in an unencoded URL query arrives as a space; URL-safe base64 is accepted too.
    text = text.replace(" ", "+").strip()
    try:
        if "-" in text or "_" in text:
            raw = urlsafe_b64decode(text.encode("ascii"))
        else:
            raw = b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise error("must be base64 (make one with kam_domain.storage.new_cipher_key())") from None
    if len(raw) not in _KEY_SIZES:
        raise error(f"must be 16, 24 or 32 bytes once decoded, not {len(raw)}")
    return b64encode(raw).decode("ascii")


def _flag(url: StoreUrl, name: str) -> bool:
    value = url.query.get(name)
    if value is None:
        return False
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise InvalidStoreUrl(f"store: {url}: {name} must be zlib, yes or no, not {value!r}")


_SECRET_PARAMETER = re.compile(r"((?:^|[?&;])(?:" + "|".join(SECRET_OPTIONS) + r")=)[^&;#]*")


def _mask_text(url: object) -> str:
    text = _SECRET_PARAMETER.sub(r"\1***", str(url))
    try:
        parts = urlsplit(text)
        if parts.password:
            return text.replace(f":{parts.password}@", ":***@")
    except ValueError:
        # Malformed (e.g. a bad port): mask whatever sits between '://user:' and '@'.
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)
    return text
