"""RSL 1.0 reader, per-URL terms and licence statements (docs/signals.md 2 and 12.6)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.model import (
    AI_USAGES,
    Effect,
    Grants,
    LicenseRef,
    ObligationKind,
    Signal,
    SignalError,
    Usage,
)
from norms.rsl import (
    MAX_DOCUMENT_BYTES,
    LicenseSource,
    RslDocument,
    license_statements,
    parse_rsl,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rsl"
NS = "https://rslstandard.org/rsl"
LICENCE_URL = "https://news.example/license.xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rsl(body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<rsl xmlns="{NS}"{extra}>{body}</rsl>'


def one_licence(licence: str, url: str = "/", content_attrs: str = "") -> str:
    return rsl(f'<content url="{url}"{content_attrs}><license>{licence}</license></content>')


def robots_ref(url: str = LICENCE_URL, scope: str = "global", line: int = 3) -> LicenseRef:
    return LicenseRef(url=url, via="robots", scope=scope, line=line)


def source(body: str | bytes, ref: LicenseRef | None = None) -> LicenseSource:
    return LicenseSource.from_body(ref or robots_ref(), body)


def effects(statements: list, usage: Usage) -> set[Effect]:
    return {s.effect for s in statements if s.usage is usage}


def only(statements: list, usage: Usage):
    mine = [s for s in statements if s.usage is usage]
    assert len(mine) == 1, mine
    return mine[0]


# -- safety and refusal -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-laughs.xml", "RSL document declares a DTD/entities, refused for safety"),
        ("external-entity.xml", "RSL document declares a DTD/entities, refused for safety"),
        ("external-dtd.xml", "RSL document declares a DTD/entities, refused for safety"),
    ],
)
def test_dtds_and_entities_are_refused(name: str, message: str) -> None:
    with pytest.raises(SignalError) as err:
        parse_rsl(fixture(name))
    assert str(err.value).startswith(message)


def test_entity_without_dtd_is_a_wellformedness_error_not_an_expansion() -> None:
    body = one_licence('<permits type="usage">&lol;</permits>')
    with pytest.raises(SignalError, match=r"not well-formed XML: line 1: undefined entity"):
        parse_rsl(body)


def test_broken_xml_reports_the_line() -> None:
    body = f'<rsl xmlns="{NS}">\n  <content url="/">\n    <license></content>\n</rsl>'
    with pytest.raises(SignalError, match=r"^RSL document is not well-formed XML: line 3: mismatched tag$"):
        parse_rsl(body)


@pytest.mark.parametrize("body", [b"", b"   \n", "", b"\xff\xfe\x00"])
def test_empty_or_garbage_is_refused(body: bytes | str) -> None:
    with pytest.raises(SignalError):
        parse_rsl(body)


def test_oversized_document_is_refused_before_parsing() -> None:
    padding = "<!--" + "x" * MAX_DOCUMENT_BYTES + "-->"
    with pytest.raises(SignalError, match="larger than 1 MiB"):
        parse_rsl(one_licence("") + padding)


def test_wrong_namespace_is_refused() -> None:
    with pytest.raises(SignalError, match=r"wrong namespace: <rsl> is in http://rslstandard.org/rsl/"):
        parse_rsl(fixture("wrong-namespace.xml"))


def test_missing_namespace_is_refused() -> None:
    with pytest.raises(SignalError, match="wrong namespace: <rsl> is in no namespace"):
        parse_rsl('<rsl><content url="/"><license/></content></rsl>')


def test_other_root_is_refused() -> None:
    with pytest.raises(SignalError, match=r"not an RSL document: the root element is <html>"):
        parse_rsl("<html><body>404 Not Found</body></html>")


def test_prefixed_root_in_the_rsl_namespace_is_accepted() -> None:
    doc = parse_rsl(
        f'<r:rsl xmlns:r="{NS}"><r:content url="/"><r:license>'
        '<r:permits type="usage">search</r:permits></r:license></r:content></r:rsl>'
    )
    assert doc.conformant
    assert doc.terms_for("https://a.example/x").permits("search") is True


def test_text_with_a_declared_encoding_is_read_as_text() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?>' + rsl(
        '<content url="/é/"><license><permits type="usage">search</permits></license></content>'
    )
    doc = parse_rsl(body)
    assert doc.contents[0].url == "/é/"
    assert doc.terms_for("https://a.example/%C3%A9/page") is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_document_or_signal_error(body: bytes) -> None:
    try:
        doc = parse_rsl(body)
    except SignalError:
        return
    assert isinstance(doc, RslDocument)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                f'<rsl xmlns="{NS}">', "</rsl>", '<content url="/a/*">', "</content>", "<license>",
                "</license>", '<permits type="usage">', '<prohibits type="geo">', "</permits>",
                "</prohibits>", "search ai-all", ",", '<payment type="use">', "</payment>",
                '<amount currency="EUR">', "</amount>", "0.5", "-1", "x", "<content>",
                '<content url="" encrypted="maybe">', "<!--c-->", "&amp;", "<meta/>",
            ]
        ),
        max_size=30,
    )
)
def test_arbitrary_rsl_like_markup_gives_a_document_or_signal_error(parts: list[str]) -> None:
    try:
        doc = parse_rsl("".join(parts))
    except SignalError:
        return
    for usage in Usage:
        terms = doc.terms_for("https://a.example/a/b")
        if terms is not None:
            assert terms.permits(usage) in (True, False, None)


# -- document model ------------------------------------------------------------------------


def test_full_document_reads_every_element() -> None:
    doc = parse_rsl(fixture("full.xml"), source_url=LICENCE_URL)
    assert doc.conformant, doc.nonconformities
    assert doc.warnings == []
    assert doc.max_age_days == 14
    assert not doc.legacy
    (content,) = doc.contents
    assert content.server == "https://lic.news.example"
    assert content.encrypted is True
    assert content.lastmod == "2026-01-01T00:00:00Z"
    assert content.alternates[0].url == "/archive/story.md"
    assert content.alternates[0].type == "text/markdown"
    assert content.schema_ref == "https://news.example/schema.jsonld"
    assert content.copyright is not None
    assert content.copyright.name == "News Example Ltd"
    assert content.copyright.contact_email == "rights@news.example"
    (lic,) = content.licenses
    assert lic.permits == {"usage": ("ai-all",), "user": ("commercial", "education")}
    assert lic.prohibits == {"usage": ("ai-train",), "geo": ("CN",)}
    assert lic.payment is not None
    assert lic.payment.type == "crawl"
    assert lic.payment.amounts[0].value == Decimal("0.015")
    assert lic.payment.amounts[0].currency == "USD"
    assert lic.payment.standard == "https://collective.example/licence/v1"
    assert lic.payment.custom == "https://news.example/licensing"
    assert lic.payment.accepts[0].type == "application/x402+json"
    assert '"scheme":"exact"' in lic.payment.accepts[0].payload
    assert lic.reporting[0].profile == "https://rslstandard.org/reporting/basic"
    assert lic.reporting[0].endpoint == "https://lic.news.example/report"
    assert [(lg.type, lg.values) for lg in lic.legal] == [
        ("warranty", ("ownership", "authority")),
        ("contact", ("mailto:rights@news.example",)),
    ]

    terms = doc.terms_for("https://news.example/archive/2024/story.html")
    assert terms is not None
    assert terms.server == "https://lic.news.example"
    assert terms.encrypted
    assert terms.terms_url == "https://rslstandard.org/rsl/default-terms"
    assert terms.standard == "https://collective.example/licence/v1"
    assert terms.payment is lic.payment
    assert terms.copyright == content.copyright
    assert terms.patterns == ("https://news.example/archive/*.html$",)
    # the $ anchor and the host both count
    assert doc.terms_for("https://news.example/archive/2024/story.html?x=1") is None
    assert doc.terms_for("https://other.example/archive/2024/story.html") is None
    # the alternate representation inherits the terms
    assert doc.terms_for("https://news.example/archive/story.md") is terms


def test_user_and_geo_terms() -> None:
    terms = parse_rsl(fixture("full.xml")).terms_for("https://news.example/archive/a.html")
    assert terms is not None
    # an unknown caller cannot show it is a commercial or educational user
    assert terms.permits("ai-input") is False
    assert terms.permits("ai-input", user="commercial", geo="DE") is True
    assert terms.permits("ai-input", user="education", geo="FR") is True
    assert terms.permits("ai-input", user="personal", geo="DE") is False
    # a prohibited country is not licensed whatever the user class
    assert terms.permits("ai-input", user="commercial", geo="cn") is False
    # ai-train is prohibited outright; search is outside the closed ai-all list
    assert terms.permits("ai-train", user="commercial", geo="DE") is False
    assert terms.permits("search", user="commercial", geo="DE") is False
    assert "not in the licence's closed permits list" in terms.ruling("search", user="commercial").reason


def test_eu_token_covers_member_states() -> None:
    doc = parse_rsl(one_licence('<permits type="usage">all</permits><permits type="geo">EU</permits>'))
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("search", geo="IE") is True
    assert terms.permits("search", geo="US") is False
    assert terms.permits("search") is False


def test_obligations_of_the_granting_offer() -> None:
    terms = parse_rsl(fixture("full.xml")).terms_for("https://news.example/archive/a.html")
    assert terms is not None
    kinds = [o.kind for o in terms.obligations("ai-index", user="commercial", geo="DE")]
    assert kinds == [
        ObligationKind.LICENSE_TOKEN,
        ObligationKind.PAYMENT,
        ObligationKind.REPORTING,
        ObligationKind.LEGAL,
        ObligationKind.LEGAL,
    ]
    token, payment = terms.obligations("ai-index", user="commercial", geo="DE")[:2]
    assert token.url == "https://lic.news.example"
    assert "encrypted" in token.detail
    assert (payment.amount, payment.currency, payment.url) == (
        Decimal("0.015"),
        "USD",
        "https://news.example/licensing",
    )
    assert terms.obligations("ai-train", user="commercial", geo="DE") == []


def test_max_age_defaults_to_30_days_and_rejects_nonsense() -> None:
    assert parse_rsl(one_licence("")).max_age_days == 30
    doc = parse_rsl(rsl('<content url="/"><license/></content>', max_age="0"))
    assert doc.max_age_days == 30
    assert any("max-age '0'" in n for n in doc.nonconformities)


def test_legacy_09_comma_lists_are_read_with_a_warning() -> None:
    doc = parse_rsl(fixture("legacy-0.9.xml"))
    assert doc.legacy
    assert any("comma-separated" in w for w in doc.warnings)
    assert any("'tdm'" in w and "ignored" in w for w in doc.warnings)
    assert any("'inference' (RSL 0.9) read as 'use'" in w for w in doc.warnings)
    terms = doc.terms_for("https://a.example/story")
    assert terms is not None
    assert terms.permits("search") is True
    assert terms.permits("ai-input") is True
    assert terms.permits("ai-train") is False
    assert terms.permits("ai-index") is False
    payment = terms.payment_for("ai-input")
    assert payment is not None
    assert payment.type == "use"


def test_unknown_rsl_element_makes_the_document_non_conformant() -> None:
    doc = parse_rsl(fixture("unknown-element.xml"))
    assert not doc.conformant
    assert doc.nonconformities == ["unknown RSL element <summary> in <content>"]
    # terms are still extracted for reporting
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("ai-train") is True


def test_unknown_attribute_and_bad_values_are_non_conformities() -> None:
    doc = parse_rsl(
        rsl(
            '<content url="/" encrypted="yes" colour="red"><license>'
            '<payment type="barter"><amount currency="EUR">lots</amount></payment>'
            "</license></content>"
        )
    )
    text = "\n".join(doc.nonconformities)
    assert "unknown attribute 'colour' on <content>" in text
    assert "encrypted is 'yes', expected true or false" in text
    assert 'encrypted="true" without a licence server' in text
    assert "unknown payment type 'barter'" in text
    assert "amount 'lots' is not a decimal number" in text


def test_extensions_from_other_namespaces_are_ignored_with_their_contents() -> None:
    doc = parse_rsl(fixture("extension.xml"))
    assert doc.conformant, doc.nonconformities
    assert [c.url for c in doc.contents] == ["/"]
    assert any("<generator>" in w for w in doc.warnings)
    assert any("extension token 'x:summarise'" in w for w in doc.warnings)
    terms = doc.terms_for("https://a.example/stolen/x")
    assert terms is not None
    assert terms.patterns == ("/",)
    assert terms.permits("ai-index") is True
    assert terms.permits("ai-input") is False


def test_unknown_tokens_grant_nothing_and_prohibit_nothing() -> None:
    doc = parse_rsl(
        one_licence('<permits type="usage">train-ai</permits><prohibits type="usage">tdm</prohibits>')
    )
    assert doc.conformant
    assert len(doc.warnings) == 2
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    # the permits list exists but holds nothing we know: a closed, empty list
    for usage in Usage:
        assert terms.permits(usage) is False


def test_repeated_permits_of_one_type_are_merged() -> None:
    doc = parse_rsl(
        one_licence('<permits type="usage">search</permits><permits type="usage">ai-index</permits>')
    )
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert (terms.permits("search"), terms.permits("ai-index"), terms.permits("ai-input")) == (
        True,
        True,
        False,
    )


def test_content_without_licence_leaves_the_terms_silent() -> None:
    doc = parse_rsl(rsl('<content url="/"/>'))
    assert not doc.conformant
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("search") is None


# -- matching and precedence inside a document -------------------------------------------------


def test_spec_example_23_narrower_scope_prohibits_training() -> None:
    doc = parse_rsl(fixture("example-2.3.xml"))
    articles = doc.terms_for("https://a.example/articles/one")
    assert articles is not None
    assert articles.patterns == ("/articles/",)
    assert articles.permits("ai-train") is False
    for usage in (Usage.SEARCH, Usage.AI_INDEX, Usage.AI_INPUT):
        assert articles.permits(usage) is True
    home = doc.terms_for("https://a.example/about")
    assert home is not None
    assert all(home.permits(u) is True for u in Usage)


def test_worked_example_28() -> None:
    doc = parse_rsl(fixture("example-2.8.xml"))
    assert doc.max_age_days == 7
    site = doc.terms_for("https://news.example/politics/story")
    assert site is not None
    assert site.permits("search") is True
    assert site.permits("ai-index") is True
    assert site.permits("ai-train") is False
    assert site.permits("ai-input") is True
    assert site.payment_for("search") is None
    payment = site.payment_for("ai-input")
    assert payment is not None
    assert (payment.type, payment.amounts[0].value, payment.amounts[0].currency) == (
        "use",
        Decimal("0.002"),
        "EUR",
    )
    assert site.server is None

    premium = doc.terms_for("https://news.example/premium/deal")
    assert premium is not None
    assert premium.server == "https://license.news.example"
    assert all(premium.permits(u) is False for u in Usage)
    # "/premium" itself is outside "/premium/*"
    assert doc.terms_for("https://news.example/premium").patterns == ("/",)


def test_prohibition_beats_permission_at_equal_specificity() -> None:
    doc = parse_rsl(
        rsl(
            '<content url="/"><license><permits type="usage">ai-train search</permits></license>'
            '<license><prohibits type="usage">ai-train</prohibits></license></content>'
        )
    )
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("ai-train") is False
    assert terms.permits("search") is True


def test_specific_usage_beats_all_and_ai_all() -> None:
    doc = parse_rsl(
        one_licence('<permits type="usage">all</permits><prohibits type="usage">ai-all</prohibits>')
        .replace("</license>", '</license><license><permits type="usage">ai-input</permits></license>')
    )
    terms = doc.terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("search") is True  # all, and ai-all does not cover search
    assert terms.permits("ai-input") is True  # named explicitly beats ai-all
    assert terms.permits("ai-train") is False
    assert terms.permits("ai-index") is False


def test_closed_permits_list_denies_what_it_does_not_list() -> None:
    terms = parse_rsl(one_licence('<permits type="usage">search</permits>')).terms_for("https://a.example/")
    assert terms is not None
    assert terms.permits("search") is True
    for usage in AI_USAGES:
        assert terms.permits(usage) is False


def test_licence_without_usage_permits_grants_everything_not_prohibited() -> None:
    terms = parse_rsl(one_licence('<prohibits type="usage">ai-train</prohibits>')).terms_for(
        "https://a.example/"
    )
    assert terms is not None
    assert [terms.permits(u) for u in Usage] == [True, True, True, False]


def test_document_order_does_not_matter() -> None:
    a = '<content url="/"><license><permits type="usage">all</permits></license></content>'
    b = '<content url="/x/"><license><prohibits type="usage">ai-input</prohibits></license></content>'
    first, second = parse_rsl(rsl(a + b)), parse_rsl(rsl(b + a))
    for url in ("https://s.example/", "https://s.example/x/y"):
        t1, t2 = first.terms_for(url), second.terms_for(url)
        assert t1 is not None and t2 is not None
        assert [t1.permits(u) for u in Usage] == [t2.permits(u) for u in Usage]


def test_equally_narrow_scopes_are_read_together() -> None:
    doc = parse_rsl(
        rsl(
            '<content url="/a/"><license><permits type="usage">all</permits></license></content>'
            '<content url="/a/"><license><prohibits type="usage">search</prohibits></license></content>'
        )
    )
    terms = doc.terms_for("https://s.example/a/b")
    assert terms is not None
    assert terms.patterns == ("/a/", "/a/")
    assert terms.permits("search") is False
    assert terms.permits("ai-train") is True


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("/", "https://a.example/anything?q=1", True),
        ("/news/", "https://a.example/news/x", True),
        ("/news/", "https://a.example/newsroom", False),
        ("/news", "https://a.example/newsroom", True),
        ("/*.pdf$", "https://a.example/docs/a.pdf", True),
        ("/*.pdf$", "https://a.example/docs/a.pdf?x", False),
        ("/news/*/photos", "https://a.example/news/2024/photos/1", True),
        ("/fish%2Fchips", "https://a.example/fish%2fchips", True),
        ("/%7Euser/", "https://a.example/~user/page", True),
        ("/search?q=", "https://a.example/search?q=rsl", True),
        ("https://a.example/", "https://a.example/x", True),
        ("https://a.example/", "http://a.example/x", False),
        ("https://a.example/", "https://www.a.example/x", False),
        ("https://a.example:443/x", "https://A.example/x/y", True),
        ("", "https://anything.example/at/all", True),
    ],
)
def test_content_url_matching(pattern: str, url: str, matches: bool) -> None:
    doc = parse_rsl(one_licence('<permits type="usage">all</permits>', url=pattern))
    assert (doc.terms_for(url) is not None) is matches


def test_terms_are_shared_between_urls_of_one_scope() -> None:
    doc = parse_rsl(fixture("example-2.8.xml"))
    assert doc.terms_for("https://news.example/a") is doc.terms_for("https://news.example/b")


# -- licence statements -------------------------------------------------------------------


def test_statements_for_worked_example_28() -> None:
    src = source(fixture("example-2.8.xml"))
    stmts, gates = license_statements("https://news.example/story", [src], Grants())
    assert gates == []
    assert effects(stmts, Usage.SEARCH) == {Effect.ALLOW}
    assert effects(stmts, Usage.AI_INDEX) == {Effect.ALLOW}
    train = only(stmts, Usage.AI_TRAIN)
    assert train.effect is Effect.DENY
    assert train.preference is False
    assert train.evidence.signal is Signal.RSL
    assert train.evidence.source == LICENCE_URL
    assert train.evidence.element == '<content url="/">'
    assert train.evidence.raw == "ai-train"
    assert train.evidence.where() == f'{LICENCE_URL} <content url="/">'
    # ai-input costs EUR 0.002 per use, and this operator pays nothing
    rag = only(stmts, Usage.AI_INPUT)
    assert rag.effect is Effect.DENY
    assert rag.evidence.rule.startswith("payment required, operator has not agreed to pay")
    assert rag.preference is False


def test_payment_within_the_operators_ceiling_allows_with_a_payment_obligation() -> None:
    src = source(fixture("example-2.8.xml"))
    grants = Grants(max_price=Decimal("0.01"), currency="EUR")
    stmts, _ = license_statements("https://news.example/story", [src], grants)
    rag = only(stmts, Usage.AI_INPUT)
    assert rag.effect is Effect.ALLOW
    (pay,) = rag.obligations
    assert (pay.kind, pay.amount, pay.currency) == (ObligationKind.PAYMENT, Decimal("0.002"), "EUR")
    # wrong currency: not agreed
    stmts, _ = license_statements(
        "https://news.example/story", [src], Grants(max_price=Decimal("1"), currency="USD")
    )
    assert only(stmts, Usage.AI_INPUT).effect is Effect.DENY


def test_server_without_token_is_a_gate_and_with_token_an_obligation() -> None:
    src = source(fixture("example-2.8.xml"))
    stmts, gates = license_statements("https://news.example/premium/x", [src], Grants())
    (gate,) = gates
    assert gate.reason.startswith("licence server https://license.news.example requires a licence token before access: "
                                  "no client credentials for it")
    assert gate.evidence.element == '<content url="/premium/*" server="https://license.news.example">'
    assert all(s.effect is Effect.DENY and not s.preference for s in stmts)

    free = one_licence('<permits type="usage">all</permits>', content_attrs=' server="https://lic.example"')
    stmts, gates = license_statements("https://a.example/", [source(free)], Grants())
    assert [g.reason.partition(": ")[0] for g in gates] == [
        "licence server https://lic.example requires a licence token before access"]
    stmts, gates = license_statements(
        "https://a.example/", [source(free)], Grants(license_tokens={"https://lic.example": "tok"})
    )
    assert gates == []
    search = only(stmts, Usage.SEARCH)
    assert search.effect is Effect.ALLOW
    assert [(o.kind, o.url) for o in search.obligations] == [
        (ObligationKind.LICENSE_TOKEN, "https://lic.example")
    ]


def test_attribution_payment_becomes_an_attribution_obligation() -> None:
    body = one_licence('<permits type="usage">all</permits><payment type="attribution"/>')
    stmts, _ = license_statements("https://a.example/x", [source(body)], Grants())
    for usage in Usage:
        st_ = only(stmts, usage)
        assert st_.effect is Effect.ALLOW
        assert [o.kind for o in st_.obligations] == [ObligationKind.ATTRIBUTION]


def test_priced_type_without_amount_cannot_be_agreed_to() -> None:
    body = one_licence(
        '<permits type="usage">ai-train</permits><payment type="training">'
        "<custom>https://a.example/licensing</custom></payment>"
    )
    stmts, _ = license_statements("https://a.example/x", [source(body)], Grants(max_price=Decimal("100")))
    train = only(stmts, Usage.AI_TRAIN)
    assert train.effect is Effect.DENY
    assert "https://a.example/licensing" in train.evidence.rule


def test_cheapest_acceptable_offer_is_chosen() -> None:
    body = rsl(
        '<content url="/">'
        '<license><permits type="usage">ai-input</permits>'
        '<payment type="use"><amount currency="USD">0.5</amount></payment></license>'
        '<license><permits type="usage">ai-input</permits>'
        '<payment type="use"><amount currency="USD">0.1</amount></payment></license>'
        "</content>"
    )
    stmts, _ = license_statements("https://a.example/x", [source(body)], Grants(max_price=Decimal("1")))
    (pay,) = only(stmts, Usage.AI_INPUT).obligations
    assert pay.amount == Decimal("0.1")


def test_unsatisfiable_reporting_profile_means_not_licensed() -> None:
    body = one_licence(
        '<permits type="usage">all</permits>'
        '<reporting type="audit" profile="https://audit.example/v1" endpoint="https://audit.example/r"/>'
    )
    stmts, _ = license_statements("https://a.example/x", [source(body)], Grants())
    for usage in Usage:
        denial = only(stmts, usage)
        assert denial.effect is Effect.DENY
        assert denial.preference is False
        assert "reporting profile cannot be satisfied" in denial.evidence.rule
        assert "https://audit.example/v1" in denial.evidence.rule


def test_unfetchable_licence_makes_ai_usages_unlicensed_but_not_search() -> None:
    failed = LicenseSource.failed(robots_ref(line=3), "404")
    stmts, gates = license_statements("https://news.example/a", [failed], Grants())
    assert gates == []
    assert effects(stmts, Usage.SEARCH) == set()
    for usage in AI_USAGES:
        st_ = only(stmts, usage)
        assert st_.effect is Effect.DENY
        assert st_.preference is False
        assert st_.evidence.rule == (
            "licence https://news.example/license.xml declared in robots.txt line 3 "
            "could not be fetched or read: 404; content unlicensed"
        )
        # line 3 is robots.txt's, not the licence's: it is named in the rule only
        assert st_.evidence.line is None
        assert st_.evidence.where() == "https://news.example/license.xml"


def test_unparseable_licence_makes_content_unlicensed() -> None:
    src = source(fixture("billion-laughs.xml"))
    assert src.document is None
    assert src.error is not None and "refused for safety" in src.error
    stmts, _ = license_statements("https://news.example/a", [src], Grants())
    assert {s.usage for s in stmts} == set(AI_USAGES)
    assert "refused for safety" in stmts[0].evidence.rule


def test_non_conformant_document_makes_content_unlicensed() -> None:
    src = source(fixture("unknown-element.xml"))
    stmts, _ = license_statements("https://news.example/a", [src], Grants())
    assert {s.usage for s in stmts} == set(AI_USAGES)
    assert all(s.effect is Effect.DENY for s in stmts)
    assert "not a conformant RSL 1.0 document (unknown RSL element <summary>" in stmts[0].evidence.rule


def test_document_silent_about_the_url_contributes_nothing() -> None:
    body = one_licence('<prohibits type="usage">all</prohibits>', url="/private/")
    assert license_statements("https://a.example/public", [source(body)], Grants()) == ([], [])


def test_group_scoped_licence_replaces_global_ones() -> None:
    glob = source(
        one_licence('<prohibits type="usage">all</prohibits>'),
        robots_ref("https://a.example/global.xml", "global", 2),
    )
    group = source(
        one_licence('<permits type="usage">all</permits>'),
        robots_ref("https://a.example/bots.xml", "group", 9),
    )
    stmts, _ = license_statements("https://a.example/x", [glob, group], Grants())
    assert {s.effect for s in stmts} == {Effect.ALLOW}
    assert {s.evidence.source for s in stmts} == {"https://a.example/bots.xml"}
    # without a group-scoped licence the global one applies
    stmts, _ = license_statements("https://a.example/x", [glob], Grants())
    assert {s.effect for s in stmts} == {Effect.DENY}


def test_page_level_and_site_level_combine_most_restrictively() -> None:
    site = source(one_licence('<permits type="usage">all</permits>'))
    page_ref = LicenseRef(url="https://a.example/x", via="html-inline", scope="page", line=7)
    page = LicenseSource.from_body(page_ref, one_licence('<prohibits type="usage">ai-input</prohibits>', url=""))
    stmts, _ = license_statements("https://a.example/x", [site, page], Grants())
    rag = only(stmts, Usage.AI_INPUT)
    assert rag.effect is Effect.DENY
    assert rag.evidence.source == "https://a.example/x"
    assert rag.evidence.where() == "https://a.example/x line 7"
    # both sources allow search: both permissions are returned
    assert [s.evidence.source for s in stmts if s.usage is Usage.SEARCH] == [
        LICENCE_URL,
        "https://a.example/x",
    ]


def test_statements_are_memoised_per_scope_and_grants() -> None:
    src = source(fixture("example-2.8.xml"))
    first, _ = license_statements("https://news.example/a", [src], Grants())
    second, _ = license_statements("https://news.example/b", [src], Grants())
    assert all(a is b for a, b in zip(first, second, strict=True))
    paid, _ = license_statements(
        "https://news.example/a", [src], Grants(max_price=Decimal("1"), currency="EUR")
    )
    assert only(paid, Usage.AI_INPUT).effect is Effect.ALLOW
    assert only(first, Usage.AI_INPUT).effect is Effect.DENY


def test_insecure_flag_for_licences_fetched_over_http() -> None:
    body = one_licence("")
    assert source(body, robots_ref("http://a.example/l.xml")).insecure is True
    assert source(body, robots_ref("https://a.example/l.xml")).insecure is False
    failed = LicenseSource.failed(robots_ref("http://a.example/l.xml"), "timeout")
    assert failed.insecure and failed.error == "timeout" and failed.document is None


def test_embedded_licence_must_hold_one_content() -> None:
    ref = LicenseRef(url="https://a.example/p", via="html-inline", scope="page")
    two = rsl('<content url=""><license/></content><content url="/x"><license/></content>')
    src = LicenseSource.from_body(ref, two)
    assert src.document is not None
    assert any("exactly one <content>" in n for n in src.document.nonconformities)


def test_permission_evidence_quotes_the_permits_text() -> None:
    src = source(fixture("example-2.8.xml"))
    stmts, _ = license_statements("https://news.example/story", [src], Grants())
    search = only(stmts, Usage.SEARCH)
    assert search.evidence.raw == "search ai-index"
    assert search.evidence.rule == "search permitted by licence <license> #1"
    assert search.obligations == ()


def test_unknown_attribute_on_any_element_is_a_non_conformity() -> None:
    doc = parse_rsl(
        rsl(
            '<content url="/"><license><permits type="usage">all</permits></license>'
            '<terms lang="en">https://a.example/terms</terms><alternate href="x"/></content>'
        )
    )
    assert doc.nonconformities == [
        "unknown attribute 'lang' on <terms>",
        "unknown attribute 'href' on <alternate>",
    ]
    assert doc.contents[0].alternates == ()
