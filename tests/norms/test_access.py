"""HTTP access gates, Pay Per Crawl prices and login-wall redirects."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.access import access_from_response, format_price, parse_price, pay_per_crawl_headers
from norms.model import AI_USAGES, Effect, Grants, ObligationKind, Signal

URL = "https://news.example/article"
NO_GRANTS = Grants()
CEILING = Grants(max_price=Decimal("0.05"), currency="USD")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("USD 0.01", (Decimal("0.01"), "USD")),
        ("usd 1", (Decimal("1"), "USD")),
        ("  EUR 0.005 ", (Decimal("0.005"), "EUR")),
        ("USD -0.01", None),
        ("0.01 USD", None),
        ("USD", None),
        ("USD 1e3", None),
        ("USD NaN", None),
        ("US 0.01", None),
        ("", None),
    ],
)
def test_parse_price(value, expected):
    assert parse_price(value) == expected


def test_format_price_never_uses_exponent_notation():
    assert format_price((Decimal("1E+1"), "usd")) == "USD 10"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "HTTP 401 Unauthorized"),
        (403, "HTTP 403 Forbidden"),
        (451, "HTTP 451 Unavailable For Legal Reasons"),
    ],
)
def test_hard_denials_are_gates_with_plain_reasons(status, reason):
    r = access_from_response(status, {}, url=URL, grants=CEILING)
    (gate,) = r.gates
    assert gate.reason == reason
    assert gate.evidence.signal is Signal.HTTP_STATUS and gate.evidence.raw == str(status)
    assert r.statements == [] and r.obligations == []


def test_401_with_license_scheme_names_the_rsl_licence():
    r = access_from_response(401, [("WWW-Authenticate", 'License realm="news"')], url=URL, grants=NO_GRANTS)
    assert "RSL licence" in r.gates[0].reason


def test_401_with_basic_auth_says_we_never_log_in():
    r = access_from_response(401, {"www-authenticate": 'Basic realm="x"'}, url=URL, grants=NO_GRANTS)
    assert "basic" in r.gates[0].reason and "never logs in" in r.gates[0].reason


def test_403_records_the_crawler_error_code():
    r = access_from_response(403, {"crawler-error": "PaymentFailed"}, url=URL, grants=CEILING)
    assert r.gates[0].reason == "HTTP 403 Forbidden (crawler-error: PaymentFailed)"
    assert [e.raw for e in r.evidence] == ["PaymentFailed"]
    assert r.evidence[0].signal is Signal.PAY_PER_CRAWL


def test_402_within_the_ceiling_is_no_gate_but_a_payment_obligation():
    r = access_from_response(402, {"crawler-price": "USD 0.01"}, url=URL, grants=CEILING)
    assert r.gates == []
    assert r.price == (Decimal("0.01"), "USD")
    (ob,) = r.obligations
    assert ob.kind is ObligationKind.PAYMENT and ob.amount == Decimal("0.01") and ob.currency == "USD"
    assert r.may_retry_with_payment
    assert pay_per_crawl_headers(r.price, CEILING) == {"crawler-max-price": "USD 0.05"}


def test_402_above_the_ceiling_is_a_gate():
    r = access_from_response(402, {"crawler-price": "USD 0.10"}, url=URL, grants=CEILING)
    assert "USD 0.10" in r.gates[0].reason and "ceiling of USD 0.05" in r.gates[0].reason
    assert r.obligations == [] and not r.may_retry_with_payment
    assert pay_per_crawl_headers(r.price, CEILING) == {}


def test_402_when_the_operator_pays_nothing_is_a_gate():
    r = access_from_response(402, {"crawler-price": "USD 0.01"}, url=URL, grants=NO_GRANTS)
    assert "no price ceiling" in r.gates[0].reason


def test_402_in_another_currency_is_a_gate():
    r = access_from_response(402, {"crawler-price": "EUR 0.01"}, url=URL, grants=CEILING)
    assert "pays in USD, not EUR" in r.gates[0].reason


@pytest.mark.parametrize("headers", [{}, {"crawler-price": "lots"}])
def test_402_without_a_readable_price_is_a_gate(headers):
    r = access_from_response(402, headers, url=URL, grants=CEILING)
    assert r.gates and r.gates[0].reason.startswith("HTTP 402 Payment Required")


def test_402_with_license_challenge_and_no_price_needs_an_rsl_licence():
    r = access_from_response(402, {"WWW-Authenticate": "License"}, url=URL, grants=CEILING)
    assert "RSL licence" in r.gates[0].reason


def test_200_charged_is_a_payment_obligation_with_evidence():
    r = access_from_response(200, {"crawler-charged": "USD 0.01"}, url=URL, grants=CEILING)
    assert r.gates == [] and r.charged == (Decimal("0.01"), "USD")
    (ob,) = r.obligations
    assert ob.kind is ObligationKind.PAYMENT and ob.amount == Decimal("0.01")
    assert any(e.signal is Signal.PAY_PER_CRAWL and e.raw == "USD 0.01" for e in r.evidence)


def test_unreadable_charged_header_is_recorded():
    r = access_from_response(200, {"crawler-charged": "one cent"}, url=URL, grants=CEILING)
    assert r.charged is None and r.obligations == []
    assert r.evidence[0].raw == "one cent"


def test_plain_200_and_no_response_say_nothing():
    for status in (200, None):
        r = access_from_response(status, {"content-type": "text/html"}, url=URL, grants=CEILING)
        assert (r.gates, r.statements, r.obligations, r.price, r.charged) == ([], [], [], None, None)


@pytest.mark.parametrize(
    ("location", "walled"),
    [
        ("/login?next=/article", True),
        ("https://accounts.news.example/signin", True),
        ("/account/login", True),
        ("/subscribe", True),
        ("/articles/2026/new-home", False),
        ("/authors/jane", False),
    ],
)
def test_redirect_to_a_login_page_is_a_derived_ai_denial_not_a_gate(location, walled):
    r = access_from_response(302, {"Location": location}, url=URL, grants=NO_GRANTS)
    assert r.gates == []
    if walled:
        assert {s.usage for s in r.statements} == set(AI_USAGES)
        assert all(s.effect is Effect.DENY and s.derived and s.preference for s in r.statements)
    else:
        assert r.statements == []


def test_pay_per_crawl_headers():
    assert pay_per_crawl_headers(None, NO_GRANTS) == {}
    assert pay_per_crawl_headers(None, CEILING) == {"crawler-max-price": "USD 0.05"}
    assert pay_per_crawl_headers((Decimal("0.05"), "USD"), CEILING) == {"crawler-max-price": "USD 0.05"}
    assert pay_per_crawl_headers(None, Grants(max_price=Decimal("0"))) == {}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), st.integers(100, 599)),
    st.lists(
        st.tuples(
            st.sampled_from(["crawler-price", "crawler-charged", "crawler-error", "www-authenticate", "location"]),
            st.text(max_size=40),
        ),
        max_size=4,
    ),
)
def test_arbitrary_responses_never_raise(status, headers):
    r = access_from_response(status, headers, url=URL, grants=CEILING)
    assert all(g.reason for g in r.gates)
    if status in (401, 403, 451):
        assert r.gates


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_parse_price_returns_a_price_or_none(text):
    p = parse_price(text)
    assert p is None or (p[0] >= 0 and len(p[1]) == 3)
