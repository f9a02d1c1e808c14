"""Reading an RSL 1.0 document (XML) into an ``RslDocument``.

Strict about safety and identity, lenient about content, as RSL 1.0 §2 and
docs/signals.md 2.4 recommend:

* refused with ``SignalError``: more than 1 MiB, not well-formed XML, any
  DTD or entity declaration, a root that is not ``<rsl>`` in the namespace
  ``https://rslstandard.org/rsl`` (processors identify RSL by namespace, not
  by Content-Type);
* read with a warning: 0.9 comma-separated lists (``legacy``), unknown
  tokens (dropped: in ``permits`` they grant nothing, in ``prohibits`` they
  are ignored), extension elements from other namespaces (ignored with their
  contents), repeated ``permits``/``prohibits`` of one type (merged);
* read but recorded as non-conformities: unknown elements or attributes in
  the RSL namespace, misplaced elements, bad values (``encrypted`` without
  ``server``, an amount that is not a decimal, an unknown payment type...).
  A crawler treats content under a non-conformant document as unlicensed;
  a compliance report can still show what the publisher wrote.

Which element and attribute may appear where is ``norms.rsl.schema``; this
module reads the values.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from norms.lenient import shown, to_int
from norms.model import SignalError
from norms.problems import located
from norms.rsl.document import DEFAULT_MAX_AGE_DAYS, RSL_NAMESPACE, RslDocument
from norms.rsl.elements import (
    RULE_TYPES,
    USER_CLASSES,
    Accepts,
    Alternate,
    Amount,
    Copyright,
    Legal,
    Payment,
    PaymentType,
    Reporting,
    RslContent,
    RslLicense,
)
from norms.rsl.schema import SchemaReader, split_tag
from norms.rsl.xmlsafe import MiB, parse_xml
from norms.vocabulary import usages_for

MAX_DOCUMENT_BYTES = 1 * MiB
_LEGACY_PAYMENT_TYPES = {"inference": PaymentType.USE}
_GEO = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _readable_url(value: str) -> bool:
    """Can the pattern matcher split ``value``? (``https://a]/`` is not a URL: an invalid host.)"""
    try:
        urlsplit(value.strip())
    except ValueError:
        return False
    return True


class _Reader(SchemaReader):
    """One pass over the tree, turning each element ``SchemaReader`` admits into its value."""

    def document(self, root: Element, source_url: str | None) -> RslDocument:
        attrs = self.attrs(root, "rsl")
        max_age = DEFAULT_MAX_AGE_DAYS
        if "max-age" in attrs:
            value = attrs["max-age"]
            days = to_int(value) if value.isascii() and value.isdigit() else None
            if days is not None and days > 0:
                max_age = days
            else:
                self.fault(f"max-age {value!r} is not a positive number of days; using {max_age}", "rsl-bad-max-age",
                           "<rsl max-age>")
        contents = [
            c for _, el in self.children(root, "rsl") if (c := self.content(el)) is not None
        ]
        if not contents:
            self.fault("the document has no <content> element", "rsl-no-content", "<rsl>")
        return RslDocument(
            source_url=source_url,
            max_age_days=max_age,
            contents=contents,
            warnings=self.warnings,
            nonconformities=self.nonconformities,
            findings=located(self.findings, source_url),
            legacy=self.legacy,
        )

    def content(self, el: Element) -> RslContent | None:
        attrs = self.attrs(el, "content")
        if "url" not in attrs:
            self.fault("<content> without a url attribute is ignored", "rsl-content-without-url", "<content>")
            return None
        url = attrs["url"]
        if not _readable_url(url):
            self.fault(f"<content url={shown(url)!r}> is not a URL pattern; the scope is ignored")
            return None
        server = attrs.get("server") or None
        if server is not None and not server.lower().startswith(("https://", "http://")):
            self.fault(f"<content url={url!r}> server {server!r} is not an absolute URL", "rsl-bad-server",
                       f"<content url={url!r}>")
        encrypted = self.boolean(attrs.get("encrypted"), f"<content url={url!r}> encrypted")
        if encrypted and server is None:
            self.fault(f'<content url={url!r}> is encrypted="true" without a licence server',
                       "rsl-encrypted-without-server", f"<content url={url!r}>")
        licenses: list[RslLicense] = []
        alternates: list[Alternate] = []
        schema = copyright_ = terms = None
        for name, child in self.children(el, "content"):
            if name == "license":
                licenses.append(self.license(child, url, len(licenses) + 1))
            elif name == "alternate":
                alt = self.text(child)
                if alt and not _readable_url(alt):
                    self.fault(f"<content url={url!r}> <alternate> {shown(alt)!r} is not a URL; ignored")
                elif alt:
                    alternates.append(Alternate(url=alt, type=self.attrs(child, name).get("type")))
            elif name == "schema":
                self.attrs(child, name)
                schema = self.text(child) or None
            elif name == "copyright":
                copyright_ = self.copyright(child)
            else:
                terms = self.text(child) or None
        if not licenses:
            self.fault(f"<content url={url!r}> has no <license>", "rsl-content-without-license", f"<content url={url!r}>")
        return RslContent(
            url=url,
            server=server,
            encrypted=encrypted,
            lastmod=attrs.get("lastmod"),
            licenses=tuple(licenses),
            alternates=tuple(alternates),
            schema_ref=schema,
            copyright=copyright_,
            terms=terms,
        )

    def boolean(self, value: str | None, where: str) -> bool:
        if value is None or value == "false":
            return False
        if value == "true":
            return True
        self.fault(f"{where} is {value!r}, expected true or false", "rsl-bad-boolean", where)
        return value.lower() in ("true", "1", "yes")

    def license(self, el: Element, url: str, index: int) -> RslLicense:
        where = f"<content url={url!r}> <license> #{index}"
        permits: dict[str, list[str]] = {}
        prohibits: dict[str, list[str]] = {}
        raw_permits: dict[str, list[str]] = {}
        raw_prohibits: dict[str, list[str]] = {}
        payment: Payment | None = None
        reporting: list[Reporting] = []
        legal: list[Legal] = []
        unreadable = False
        for name, child in self.children(el, "license"):
            if name in ("permits", "prohibits"):
                rule_type = self.attrs(child, name).get("type")
                if rule_type is None:
                    self.warn(f'{where}: <{name}> without type read as type="usage"', "rsl-rule-without-type", where)
                    rule_type = "usage"
                if rule_type not in RULE_TYPES:
                    self.fault(f"{where}: <{name} type={rule_type!r}> is not an RSL rule type", "rsl-bad-rule-type", where)
                    unreadable = True
                    continue
                into, raw_into = (permits, raw_permits) if name == "permits" else (prohibits, raw_prohibits)
                if rule_type in into:
                    self.warn(f'{where}: several <{name} type="{rule_type}"> merged into one list', "rsl-rules-merged", where)
                into.setdefault(rule_type, []).extend(
                    self.rule_tokens(child, rule_type, f"{where} <{name} type={rule_type!r}>", name)
                )
                raw_into.setdefault(rule_type, []).append(self.text(child))
            elif name == "payment":
                if payment is not None:
                    self.fault(f"{where}: more than one <payment>; the first is used", "rsl-duplicate-payment", where)
                    continue
                payment = self.payment(child, where)
            elif name == "reporting":
                attrs = self.attrs(child, name)
                reporting.append(
                    Reporting(type=attrs.get("type"), profile=attrs.get("profile"), endpoint=attrs.get("endpoint"))
                )
            else:
                legal_type = self.attrs(child, name).get("type")
                if legal_type is None:
                    self.fault(f"{where}: <legal> without type", "rsl-legal-without-type", where)
                    continue
                legal.append(Legal(type=legal_type, values=tuple(self.tokens(child, where))))
        return RslLicense(
            permits={k: tuple(dict.fromkeys(v)) for k, v in permits.items()},
            prohibits={k: tuple(dict.fromkeys(v)) for k, v in prohibits.items()},
            raw_permits={k: " ".join(v) for k, v in raw_permits.items()},
            raw_prohibits={k: " ".join(v) for k, v in raw_prohibits.items()},
            payment=payment,
            reporting=tuple(reporting),
            legal=tuple(legal),
            unreadable=unreadable,
            index=index,
        )

    def rule_tokens(self, el: Element, rule_type: str, where: str, kind: str) -> list[str]:
        """Known tokens of one permits/prohibits list; unknown ones are dropped with a warning."""
        effect = "grants nothing" if kind == "permits" else "ignored"
        out: list[str] = []
        for token in self.tokens(el, where):
            if ":" in token:
                self.warn(f"{where}: extension token {token!r} not recognised, {effect}", "rsl-unknown-token", where)
                continue
            if rule_type == "usage":
                value = token.lower()
                known = bool(usages_for("rsl", value))
            elif rule_type == "user":
                value = token.lower()
                known = value in USER_CLASSES
            else:
                value = token.upper()
                known = bool(_GEO.fullmatch(value))
            if known:
                out.append(value)
            else:
                self.warn(f"{where}: unknown token {token!r}, {effect}", "rsl-unknown-token", where)
        return out

    def payment(self, el: Element, where: str) -> Payment:
        raw_type = self.attrs(el, "payment").get("type")
        if raw_type is None:
            self.fault(f"{where}: <payment> without type", "rsl-payment-without-type", where)
            pay_type = "unknown"
        elif raw_type in _LEGACY_PAYMENT_TYPES:
            self.legacy = True
            pay_type = _LEGACY_PAYMENT_TYPES[raw_type].value
            self.warn(f"{where}: payment type {raw_type!r} (RSL 0.9) read as {pay_type!r}", "rsl-legacy-payment-type",
                      where)
        elif raw_type in PaymentType.__members__.values():
            pay_type = raw_type
        else:
            self.fault(f"{where}: unknown payment type {raw_type!r}", "rsl-unknown-payment-type", where)
            pay_type = raw_type
        amounts: list[Amount] = []
        accepts: list[Accepts] = []
        standard = custom = None
        for name, child in self.children(el, "payment"):
            attrs = self.attrs(child, name)
            if name == "amount":
                amount = self.amount(child, attrs.get("currency"), where)
                if amount is not None:
                    amounts.append(amount)
            elif name == "accepts":
                accepts.append(Accepts(type=attrs.get("type", ""), payload=self.text(child)))
            elif name == "standard":
                standard = self.text(child) or None
            else:
                custom = self.text(child) or None
        return Payment(
            type=pay_type, amounts=tuple(amounts), standard=standard, custom=custom, accepts=tuple(accepts)
        )

    def amount(self, el: Element, currency: str | None, where: str) -> Amount | None:
        text = self.text(el)
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fault(f"{where}: amount {text!r} is not a decimal number", "rsl-bad-amount", where)
            return None
        if not value.is_finite() or value < 0:
            self.fault(f"{where}: amount {text!r} is not a non-negative number", "rsl-bad-amount", where)
            return None
        code = (currency or "").strip().upper()
        if not _CURRENCY.fullmatch(code):
            self.fault(f"{where}: amount {text!r} has no ISO 4217 currency (got {currency!r})", "rsl-bad-currency", where)
            return None
        return Amount(value=value, currency=code)

    def copyright(self, el: Element) -> Copyright:
        attrs = self.attrs(el, "copyright")
        return Copyright(
            name=self.text(el),
            type=attrs.get("type"),
            contact_email=attrs.get("contactEmail"),
            contact_url=attrs.get("contactUrl"),
        )


def document_from_element(root: Element, *, source_url: str | None = None) -> RslDocument:
    """Build a document from an already parsed ``<rsl>`` element (checked for namespace)."""
    ns, local = split_tag(root.tag) if isinstance(root.tag, str) else ("", "?")
    if local != "rsl":
        raise SignalError(
            f'not an RSL document: the root element is <{local}>, expected <rsl xmlns="{RSL_NAMESPACE}">',
            code="rsl-wrong-root",
        )
    if ns != RSL_NAMESPACE:
        raise SignalError(
            f"RSL document has the wrong namespace: <rsl> is in {ns or 'no namespace'!s}, "
            f"expected {RSL_NAMESPACE}",
            code="rsl-wrong-namespace",
        )
    return _Reader().document(root, source_url)


def parse_rsl(body: bytes | str, *, source_url: str | None = None) -> RslDocument:
    """Parse an RSL document. Raises ``SignalError`` (plain words) when it cannot be read at all."""
    root = parse_xml(body, what="RSL document", limit=MAX_DOCUMENT_BYTES)
    return document_from_element(root, source_url=source_url)
