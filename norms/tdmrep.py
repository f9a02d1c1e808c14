"""TDMRep (W3C TDM Reservation Protocol): ``/.well-known/tdmrep.json``, ``tdm-*`` headers and metas.

The protocol answers one question per resource: are text-and-data-mining
rights reserved (``1``) or not (``0``)? Three carriers are read in the order
the spec gives them, each later one superseding the earlier (file < header <
HTML meta), and *absence* at a later step never resets an earlier value.

Reading choices (the spec leaves them open or calls them errors):

* In the file the **first** matching rule in array order wins, as the spec
  says ("the most specific match is the first in sequence"); a later, longer
  rule that also matches is reported in ``TdmRepFile.shadowed``.
* A value other than ``0``/``1`` is a protocol error and leaves the property
  unset. The JSON string ``"1"``, ``true`` and ``1.0`` are read as *reserved*
  (the protective reading) and flagged; ``"0"``, ``false`` stay unset because
  an error must never produce a permission.
* A bare object instead of an array is flagged and read as one rule; a rule
  without ``location`` is read site-wide only when it reserves rights. Keys
  spelt with underscores (``tdm_reservation``) are accepted and flagged.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike, header_lines, header_values, path_and_query
from norms.lenient import dump_json, load_json, show_value, shown, url_path
from norms.model import Effect, Evidence, Obligation, ObligationKind, Signal, SignalError, Statement
from norms.pathpattern import PathPattern, match_target
from norms.problems import Finding, Severity, located
from norms.urls import collapse_empty_segments
from norms.vocabulary import usages_for

_UNRESERVED_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalise(path: str) -> str:
    """Decode percent-encoded unreserved characters and upper-case the other escapes."""

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return _UNRESERVED_ESCAPE.sub(fix, path)


def _target(url: str) -> str:
    """The part of ``url`` a location pattern is matched against: normalised path (``/`` if empty) and query."""
    try:
        target = match_target(url)
    except SignalError:
        target = _normalise(path_and_query(url))
    # A literal "$" is written %24 in a location (a final "$" anchors): compare it so.
    return target.replace("$", "%24") if "$" in target else target


class TdmRule(BaseModel):
    """One rule of a tdmrep.json file, as read. ``reservation`` is ``None`` when its value was invalid."""

    model_config = ConfigDict(frozen=True)

    location: str
    reservation: int | None
    policy: str | None = None
    index: int
    raw: str

    @cached_property
    def pattern(self) -> PathPattern:
        """The location as an RFC 9309 path pattern (``norms.pathpattern``: linear-time matching)."""
        return PathPattern(self.location)

    def matches(self, url: str) -> bool:
        return self.pattern.match(_target(url))


class TdmRepFile(BaseModel):
    """A parsed ``/.well-known/tdmrep.json``: its rules in file order and what was odd about it."""

    rules: list[TdmRule] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    source_url: str | None = None
    findings: list[Finding] = Field(default_factory=list)  # the warnings as data (norms.problems)

    def match(self, url: str) -> TdmRule | None:
        """The first rule whose location matches ``url`` (array order, as the spec requires)."""
        target = _target(url)
        first = self._first(target)
        if "//" in target and "//" in target.partition("?")[0]:
            # Empty segments: judged as written and collapsed; a reservation in either holds.
            other = self._first(collapse_empty_segments(target))
            if other is not None and other.reservation == 1 and (first is None or first.reservation != 1):
                return other
        return first

    def _first(self, target: str) -> TdmRule | None:
        for rule in self.rules:
            if rule.pattern.match(target):
                return rule
        return None

    @cached_property
    def _by_rule(self) -> dict[int, tuple[Statement, ...]]:
        return {}

    def statements_for(self, url: str) -> tuple[Statement, ...]:
        """What the file alone says about ``url``; one cached tuple per matching rule."""
        rule = self.match(url)
        if rule is None or rule.reservation is None:
            return ()
        cached = self._by_rule.get(rule.index)  # pydantic private attributes are slow per request
        if cached is None:
            decider = Evidence(
                signal=Signal.TDMREP,
                source=self.source_url or _file_url(url),
                element=f"rule #{rule.index + 1}",
                raw=rule.raw,
                rule=f"tdmrep.json: first rule whose location {rule.location!r} matches",
            )
            cached = _statements(rule.reservation, rule.policy, decider)
            self._by_rule[rule.index] = cached
        return cached

    def shadowed(self, url: str) -> list[TdmRule]:
        """Later matching rules with a longer location than the first match: likely a publisher mistake."""
        first = self.match(url)
        if first is None:
            return []
        return [
            r
            for r in self.rules
            if r.index > first.index and len(r.location) > len(first.location) and r.matches(url)
        ]


class _Notes(list[str]):
    """Warnings for people, each with its ``Finding`` (code, severity, rule) in ``findings``."""

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[Finding] = []

    def add(self, code: str, where: str | None, text: str, severity: Severity = Severity.WARNING) -> None:
        self.append(f"{where}: {text}" if where else text)
        self.findings.append(Finding(code=code, severity=severity, message=text, element=where))


def _reservation(value: object, where: str, warnings: _Notes) -> int | None:
    if isinstance(value, bool):
        if value:
            warnings.add("tdmrep-reservation-type", where, "tdm-reservation is true, not 1; read as reserved", Severity.WARNING)
            return 1
        warnings.add("tdmrep-reservation-value", where, "tdm-reservation is false, not 0; left unset", Severity.ERROR)
        return None
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, float) and value == 1:
        warnings.add("tdmrep-reservation-type", where, f"tdm-reservation is {show_value(value)}, not 1; read as reserved", Severity.WARNING)
        return 1
    if isinstance(value, str) and value.strip() == "1":
        warnings.add("tdmrep-reservation-string", where, 'tdm-reservation is the string "1", not the number 1; read as reserved', Severity.WARNING)
        return 1
    warnings.add("tdmrep-reservation-value", where, f"tdm-reservation {show_value(value)} is not 0 or 1 (protocol error); left unset", Severity.ERROR)
    return None


def _get(obj: dict[str, object], key: str, where: str, warnings: _Notes) -> object:
    if key in obj:
        return obj[key]
    alt = key.replace("-", "_")
    if alt in obj:
        warnings.add("tdmrep-key-spelling", where, f"key {alt!r} should be spelt {key!r}; accepted", Severity.WARNING)
        return obj[alt]
    return None


def _read_rule(obj: dict[str, object], index: int, warnings: _Notes) -> TdmRule | None:
    where = f"rule #{index + 1}"
    raw = dump_json(obj)
    value = _get(obj, "tdm-reservation", where, warnings)
    if value is None:
        warnings.add("tdmrep-no-reservation", where, "no tdm-reservation; rule ignored", Severity.ERROR)
        return None
    reservation = _reservation(value, where, warnings)
    policy_value = _get(obj, "tdm-policy", where, warnings)
    policy: str | None = None
    if isinstance(policy_value, str) and policy_value.strip():
        policy = policy_value.strip()
    elif policy_value is not None:
        warnings.add("tdmrep-policy-invalid", where, f"tdm-policy {show_value(policy_value)} is not a URL; ignored", Severity.WARNING)
    location_value = obj.get("location")
    if not isinstance(location_value, str) or not location_value.strip():
        if reservation == 1:
            warnings.add("tdmrep-no-location", where, "no location; the reservation is read as site-wide", Severity.WARNING)
            location = "/"
        else:
            warnings.add("tdmrep-no-location", where, "no location; rule ignored (an error never grants a permission)", Severity.WARNING)
            return None
    else:
        location = location_value.strip()
        if location.lower().startswith(("http://", "https://")):
            path = url_path(location)
            if path is None and reservation != 1:
                warnings.add("tdmrep-location-url", where, f"location {shown(location)!r} is not a URL; rule ignored", Severity.WARNING)
                return None
            if path is None:
                warnings.add("tdmrep-location-url", where,
                             f"location {shown(location)!r} is not a URL; the reservation is read as site-wide")
            else:
                warnings.add("tdmrep-location-url", where, f"location {shown(location)!r} is a full URL; its path is used", Severity.WARNING)
            location = path or "/"
        elif not location.startswith(("/", "*")):
            warnings.add("tdmrep-location-no-slash", where, f"location {shown(location)!r} does not start with '/'; read as '/{location}'", Severity.WARNING)
            location = "/" + location
    return TdmRule(location=location, reservation=reservation, policy=policy, index=index, raw=raw)


def parse_tdmrep_json(body: bytes | str, *, source_url: str | None = None) -> TdmRepFile:
    """Parse a tdmrep.json body. Raises ``SignalError`` when it is not JSON or not an array of rules."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SignalError(f"tdmrep.json is not UTF-8 text (byte {exc.start})") from None
    else:
        text = body.removeprefix("\ufeff")
    data = load_json(text, what="tdmrep.json")
    warnings = _Notes()
    if isinstance(data, dict):
        warnings.add("tdmrep-not-array", None, "the file is a single object, not an array of rules; read as one rule")
        items: list[object] = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise SignalError(f"tdmrep.json must be an array of rules, found {type(data).__name__}")
    rules: list[TdmRule] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            warnings.add("tdmrep-rule-not-object", f"rule #{i + 1}", "not an object; ignored")
            continue
        rule = _read_rule(item, i, warnings)
        if rule is not None:
            rules.append(rule)
    return TdmRepFile(rules=rules, warnings=list(warnings), source_url=source_url,
                      findings=located(warnings.findings, source_url))


def _text_reservation(value: str) -> int | None:
    """A header or meta value: text ``0`` or ``1``; anything else is a protocol error (unset)."""
    v = value.strip()
    return int(v) if v in ("0", "1") else None


def _file_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/.well-known/tdmrep.json"
    return f"{parts.scheme}://{parts.netloc}/.well-known/tdmrep.json" if parts.netloc else "/.well-known/tdmrep.json"


def tdmrep_statements(
    url: str,
    *,
    file: TdmRepFile | None,
    headers: HeadersLike = None,
    html: str | bytes | HtmlDoc | None = None,
    source_url: str | None = None,
) -> list[Statement]:
    """What TDMRep says about ``url``: the file rule, superseded by headers, superseded by HTML metas.

    ``1`` denies ``ai-train`` (and, derived, ``ai-input``/``ai-index``); ``0``
    allows the same usages. The ``tdm-policy`` URL (where a TDM licence may be
    obtained) is kept in the evidence and, on a denial, as a ``legal``
    obligation. Search is untouched: search engines do not read TDMRep.
    """
    lines = header_lines(headers)
    if file is not None and not lines and html is None:
        return list(file.statements_for(url))
    page = source_url or url
    reservation: int | None = None
    policy: str | None = None
    decider: Evidence | None = None

    if file is not None:
        rule = file.match(url)
        if rule is not None:
            policy = rule.policy or policy
            if rule.reservation is not None:
                reservation = rule.reservation
                decider = Evidence(
                    signal=Signal.TDMREP,
                    source=file.source_url or _file_url(url),
                    element=f"rule #{rule.index + 1}",
                    raw=rule.raw,
                    rule=f"tdmrep.json: first rule whose location {rule.location!r} matches",
                )

    for name, value in lines:
        if name == "tdm-policy" and value.strip():
            policy = value.strip()
    header_res = [v for v in header_values(lines, "tdm-reservation") if _text_reservation(v) is not None]
    if header_res:
        # Several valid lines: the reserving one wins (the more restrictive reading).
        chosen = next((v for v in header_res if _text_reservation(v) == 1), header_res[0])
        reservation = _text_reservation(chosen)
        decider = Evidence(
            signal=Signal.TDMREP,
            source=page,
            element="header tdm-reservation",
            raw=chosen,
            rule="tdm-reservation header supersedes tdmrep.json",
        )

    if html is not None:
        doc = parse_html(html)
        for meta in doc.meta("tdm-policy"):
            if meta.content:
                policy = meta.content
        metas = [m for m in doc.meta("tdm-reservation") if _text_reservation(m.content) is not None]
        if metas:
            chosen_meta = next((m for m in metas if _text_reservation(m.content) == 1), metas[0])
            reservation = _text_reservation(chosen_meta.content)
            line = f" line {chosen_meta.line}" if chosen_meta.line is not None else ""
            decider = Evidence(
                signal=Signal.TDMREP,
                source=page,
                element=f'<meta name="tdm-reservation">{line}',
                raw=chosen_meta.content,
                rule="tdm-reservation meta supersedes header and tdmrep.json",
            )

    if reservation is None or decider is None:
        return []
    return list(_statements(reservation, policy, decider))


@lru_cache(maxsize=1024)
def _statements(reservation: int, policy: str | None, decider: Evidence) -> tuple[Statement, ...]:
    """Memoised: the same rule yields the same frozen statements, which keeps
    ``norms.combination``'s cache (keyed on statement identity) effective."""
    if policy:
        decider = decider.model_copy(update={"rule": f"{decider.rule}; tdm-policy {policy}"})
    effect = Effect.DENY if reservation == 1 else Effect.ALLOW
    obligations: tuple[Obligation, ...] = ()
    if reservation == 1 and policy:
        obligations = (
            Obligation(
                kind=ObligationKind.LEGAL,
                url=policy,
                detail="TDM rights reserved; a licence may be obtained under the publisher's tdm-policy",
            ),
        )
    return tuple(
        Statement(usage=usage, effect=effect, evidence=decider, derived=derived, obligations=obligations)
        for usage, derived in usages_for("tdmrep", "tdm-reservation")
    )


__all__ = ["TdmRepFile", "TdmRule", "parse_tdmrep_json", "tdmrep_statements"]
