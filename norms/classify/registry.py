"""The curated platform registry: data that seeds the classifier and derives attribution links.

The bundled ``registry.json`` names well-known platforms by their real
domains, says what class they are, and holds URL templates that turn a page
URL into its permalink, edit-history and discussion URLs, plus the content
licence and the credit text the platform asks for. Entries without hosts
(``mediawiki``, ``discourse``, ``phpbb``) describe *engines*: the classifier
recognises those from page markup and borrows their link templates.

Operators extend or override it with ``load_registry(path)`` (JSON or TOML):
an entry with a known key replaces the fields it names, a new key adds a
platform, ``disabled = true`` removes one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from norms.classify.model import SourceClass
from norms.domains import public_suffix
from norms.model import SignalError

BUNDLED = "registry.json"


class Route(BaseModel):
    """One page shape of a platform: a regex over ``path[?query]`` and link templates.

    Templates are ``str.format`` strings over the regex's named groups plus
    ``origin`` (``https://host``), ``host`` and ``path``. ``host`` restricts the
    route to one exact host (``youtu.be``). ``source_class`` overrides the
    platform's class for this page shape (a GitHub repository page is
    canonical for its project); ``role`` names the page's role.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str
    host: str | None = None
    role: str | None = None
    source_class: SourceClass | None = None
    permalink: str | None = None
    edit_history: str | None = None
    discussion: str | None = None


class Platform(BaseModel):
    """One platform or engine and the facts the attribution library needs about it.

    ``hosts``: registrable domains or hosts (a subdomain matches too);
    ``name.*`` matches that name under any public suffix (``tripadvisor.*``).
    ``subdomain_unit``: each subdomain is its own publication (``alice.substack.com``)
    whose class is ``unit_class``; ``reserved_subdomains`` are the platform's own.
    ``last_modified_from`` says in plain words where the last-edit time is found.
    ``attribution`` is a template over ``url``, ``permalink``,
    ``edit_history_url``, ``discussion_url``, ``host`` and ``name``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source_class: SourceClass
    hosts: tuple[str, ...] = ()
    engine: str | None = None
    weight: float = 6.0
    subdomain_unit: bool = False
    unit_class: SourceClass | None = None
    reserved_subdomains: tuple[str, ...] = ("www", "m")
    routes: tuple[Route, ...] = ()
    license: str | None = None
    license_url: str | None = None
    attribution: str | None = None
    last_modified_from: str | None = None
    notes: str | None = None


class Registry(BaseModel):
    """Platforms by key, with host lookup. Build one with ``load_registry``."""

    model_config = ConfigDict(frozen=True)

    platforms: dict[str, Platform] = Field(default_factory=dict)

    @classmethod
    def empty(cls) -> Registry:
        """A registry that knows no platform: classification from markup and footprint alone."""
        return cls()

    def get(self, key: str | None) -> Platform | None:
        return self.platforms.get(key) if key else None

    def match_host(self, host: str) -> tuple[str, Platform] | None:
        """The most specific platform whose host patterns cover ``host``."""
        return _host_index(self)(host.lower().rstrip("."))

    def routes(self, key: str) -> list[tuple[re.Pattern[str], Route]]:
        """The compiled routes of platform ``key`` (an engine's when it names one)."""
        return _compiled_routes(self, key)

    def __hash__(self) -> int:  # registries are frozen; identity is enough for the caches
        return id(self)


def _check_pattern(key: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SignalError(f"registry entry {key!r}: route pattern {pattern!r} is not a valid regex ({exc})") from None


@lru_cache(maxsize=64)
def _compiled_routes(reg: Registry, key: str) -> list[tuple[re.Pattern[str], Route]]:
    platform = reg.platforms.get(key)
    if platform is None:
        return []
    routes = list(platform.routes)
    if platform.engine and platform.engine != key:
        routes += list(_engine_routes(reg, platform.engine))
    return [(_check_pattern(key, r.pattern), r) for r in routes]


def _engine_routes(reg: Registry, engine: str) -> tuple[Route, ...]:
    base = reg.platforms.get(engine)
    return base.routes if base else ()


@lru_cache(maxsize=64)
def _host_index(reg: Registry) -> Any:
    exact: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for key, platform in reg.platforms.items():
        for pattern in platform.hosts:
            p = pattern.lower().strip().rstrip(".")
            if p.endswith(".*"):
                by_name[p[:-2]] = key
            elif p:
                exact[p.removeprefix("*.")] = key

    def lookup(host: str) -> tuple[str, Platform] | None:
        labels = host.split(".")
        for i in range(len(labels) - 1):
            key = exact.get(".".join(labels[i:]))
            if key is not None:
                return key, reg.platforms[key]
        if by_name:
            suffix = public_suffix(host)
            if suffix and host.endswith("." + suffix):
                name = host[: -len(suffix) - 1].rsplit(".", 1)[-1]
                key = by_name.get(name)
                if key is not None:
                    return key, reg.platforms[key]
        return None

    return lookup


def _read_document(data: bytes, name: str) -> Mapping[str, Any]:
    text = data.decode("utf-8-sig", errors="replace")
    loaded: Any
    if name.endswith(".toml"):
        try:
            loaded = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SignalError(f"registry file {name}: not valid TOML ({exc})") from None
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SignalError(f"registry file {name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("platforms", {}), Mapping):
        raise SignalError(f"registry file {name}: expected an object with a 'platforms' table")
    return loaded


def _merge(base: dict[str, dict[str, Any]], extra: Mapping[str, Any], name: str) -> None:
    for key, fields in extra.items():
        if not isinstance(fields, Mapping):
            raise SignalError(f"registry file {name}: entry {key!r} must be a table of fields")
        if fields.get("disabled"):
            base.pop(key, None)
            continue
        merged = dict(base.get(key, {}))
        merged.update({k: v for k, v in fields.items() if k != "disabled"})
        base[key] = merged


def registry_from(documents: Iterable[tuple[Mapping[str, Any], str]]) -> Registry:
    """Merge registry documents in order (later ones override) and validate the result."""
    raw: dict[str, dict[str, Any]] = {}
    for doc, name in documents:
        _merge(raw, doc.get("platforms", {}), name)
    platforms: dict[str, Platform] = {}
    for key, fields in raw.items():
        try:
            platforms[key] = Platform.model_validate(fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SignalError(f"registry entry {key!r}: {where}: {first['msg']}") from None
    reg = Registry(platforms=platforms)
    for key in platforms:  # fail on a bad regex at load time, not on first use
        reg.routes(key)
    return reg


@lru_cache(maxsize=1)
def bundled_registry() -> Registry:
    """The registry shipped with fairfetch (``norms/classify/registry.json``)."""
    data = resources.files("norms.classify").joinpath(BUNDLED).read_bytes()
    return registry_from([(_read_document(data, BUNDLED), BUNDLED)])


def load_registry(path: str | Path | None = None) -> Registry:
    """The bundled registry, with the operator's file (JSON or TOML) merged over it.

    Reading the operator's file is the only I/O in ``norms.classify`` and
    happens only here, on request.
    """
    if path is None:
        return bundled_registry()
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SignalError(f"registry file {p}: cannot be read ({exc.strerror or exc})") from None
    bundled = resources.files("norms.classify").joinpath(BUNDLED).read_bytes()
    return registry_from([(_read_document(bundled, BUNDLED), BUNDLED), (_read_document(data, p.name), p.name)])
