"""Derived links: a page URL of a known platform -> permalink, edit history, discussion, licence.

The attribution library calls ``links_for`` to add "view edit history" and
"see the discussion" links to a citation. Everything comes from the
registry's URL templates, so the function is pure and needs no fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from norms.classify.model import DerivedLinks
from norms.classify.registry import Platform, Registry, Route, load_registry


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A page URL matched to one route of one platform, with the values its templates use."""

    key: str
    platform: Platform
    route: Route | None
    values: dict[str, str]

    def fill(self, template: str | None) -> str | None:
        """``template`` filled in, or None when it needs a value this URL does not carry."""
        if not template:
            return None
        try:
            return template.format_map(self.values)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            return None


def url_values(url: str) -> dict[str, str] | None:
    """``origin``, ``host``, ``path`` and ``target`` (path?query) of an http(s) URL; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    return {
        "url": url.strip(),
        "origin": f"{parts.scheme.lower()}://{netloc}",
        "host": host,
        "path": path,
        "target": target,
    }


def match_route(url: str, key: str, registry: Registry) -> RouteMatch | None:
    """Match ``url`` against platform ``key``'s routes (the first that fits wins)."""
    platform = registry.get(key)
    values = url_values(url)
    if platform is None or values is None:
        return None
    values["name"] = platform.name
    for pattern, route in registry.routes(key):
        if route.host and route.host != values["host"]:
            continue
        m = pattern.match(values["target"])
        if m:
            groups = {k: v for k, v in m.groupdict().items() if v is not None}
            return RouteMatch(key, platform, route, {**values, **groups})
    return RouteMatch(key, platform, None, values)


def platform_for(url: str, registry: Registry) -> str | None:
    """The key of the registry platform whose hosts cover ``url``'s host."""
    values = url_values(url)
    if values is None:
        return None
    hit = registry.match_host(values["host"])
    return hit[0] if hit else None


def derive(match: RouteMatch) -> DerivedLinks:
    """Fill the route's templates and the platform's licence and credit text."""
    route = match.route
    permalink = match.fill(route.permalink) if route else None
    history = match.fill(route.edit_history) if route else None
    discussion = match.fill(route.discussion) if route else None
    platform = match.platform
    attribution = None
    if platform.attribution:
        filled = RouteMatch(
            match.key,
            platform,
            route,
            {
                **match.values,
                "permalink": permalink or match.values["url"],
                "edit_history_url": history or permalink or match.values["url"],
                "discussion_url": discussion or permalink or match.values["url"],
            },
        )
        attribution = filled.fill(platform.attribution)
    return DerivedLinks(
        permalink=permalink,
        edit_history_url=history,
        discussion_url=discussion,
        license=platform.license,
        license_url=platform.license_url,
        attribution=attribution,
    )


def links_for(url: str, *, platform: str | None = None, registry: Registry | None = None) -> DerivedLinks:
    """Derived links for a page ``url`` of a known platform; empty ``DerivedLinks`` otherwise.

    ``platform`` names a registry key (``"mediawiki"`` for any MediaWiki
    install, ``"discourse"`` ...) when the host is not in the registry but the
    caller knows the engine; without it the host decides. A URL that is not
    http(s) or names an unknown platform yields ``DerivedLinks()``.
    """
    reg = registry if registry is not None else load_registry()
    key = platform if platform is not None else platform_for(url, reg)
    if key is None:
        return DerivedLinks()
    match = match_route(url, key, reg)
    return derive(match) if match else DerivedLinks()


