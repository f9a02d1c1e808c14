"""norms.rsl.olp and the licence-server rules of norms.rsl.statements: consent, what is asked, what answers mean."""

from __future__ import annotations

import json
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.model import Grants, LicenseRef, ObligationKind, Usage
from norms.rsl import LicenseSource, license_statements
from norms.rsl.olp import (
    MAX_ANSWER_BYTES,
    MAX_EXPIRES_IN,
    OlpError,
    TokenAnswer,
    licence_claims,
    license_challenge,
    license_element_xml,
    parse_token_answer,
    resource_for,
)
from norms.rsl.statements import NO_CONSENT, NO_CREDENTIALS

NS = "https://rslstandard.org/rsl"
SERVER = "https://lic.example"
LICENCE_URL = "https://news.example/license.xml"
DOC = f"""<rsl xmlns="{NS}">
  <content url="/news/*" server="{SERVER}">
    <license><permits type="usage">ai-index</permits></license>
    <license>
      <permits type="usage">ai-input ai-index</permits>
      <payment type="crawl"><amount currency="USD">0.01</amount></payment>
      <x:note xmlns:x="https://ext.example/">an extension &amp; more</x:note>
    </license>
  </content>
  <content url="/free/*"><license><permits type="usage">all</permits></license></content>
</rsl>"""


def source(url: str = LICENCE_URL) -> LicenseSource:
    return LicenseSource.from_body(LicenseRef(url=url, via="robots", scope="global", line=2), DOC)


def answer(**fields: object) -> bytes:
    return json.dumps({"access_token": "abc.DEF-123_~+/=", "token_type": "License", "expires_in": 600,
                       **fields}).encode()


# --- token answers ------------------------------------------------------------------------


def test_a_good_answer() -> None:
    got = parse_token_answer(200, answer(token_type="license"))
    assert got == TokenAnswer(access_token="abc.DEF-123_~+/=", token_type="License", expires_in=600)
    assert parse_token_answer(200, answer(expires_in=10**9)).expires_in == MAX_EXPIRES_IN


@pytest.mark.parametrize(("status", "body", "code"), [
    (500, b'{"error": "server_error"}', "server-error"),
    (503, b"", "server-error"),
    (400, b'{"error": "invalid_grant"}', "invalid_grant"),
    (401, b'{"error": "invalid_client"}', "invalid_client"),
    (400, b'{"error": "has \\" quote"}', "http-400"),
    (403, b"<html>no</html>", "http-403"),
    (200, b"<html>maintenance</html>", "not-json"),
    (200, b"[1, 2]", "not-json"),
    (200, b"\xff\xfe", "not-json"),
    (200, answer(access_token=None), "no-token"),
    (200, answer(access_token=""), "no-token"),
    (200, answer(access_token="has space"), "no-token"),
    (200, answer(access_token="x" * 5000), "no-token"),
    (200, answer(token_type="Bearer"), "wrong-token-type"),
    (200, answer(token_type=None), "wrong-token-type"),
    (200, answer(expires_in=0), "bad-expires-in"),
    (200, answer(expires_in=-5), "bad-expires-in"),
    (200, answer(expires_in="600"), "bad-expires-in"),
    (200, answer(expires_in=1.5), "bad-expires-in"),
    (200, answer(expires_in=True), "bad-expires-in"),
    (200, b"{" + b" " * MAX_ANSWER_BYTES + b"}", "too-large"),
])
def test_bad_answers_are_named(status: int, body: bytes, code: str) -> None:
    with pytest.raises(OlpError) as failure:
        parse_token_answer(status, body)
    assert failure.value.code == code


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([200, 200, 400, 401, 500]),
       fields=st.dictionaries(st.sampled_from(["access_token", "token_type", "expires_in", "error", "scope"]),
                              _json | st.sampled_from(["License", "tok", 60]), max_size=5))
def test_near_valid_answers_give_a_token_or_a_named_failure(status: int, fields: dict[str, object]) -> None:
    try:
        got = parse_token_answer(status, json.dumps(fields).encode())
    except OlpError as exc:
        assert exc.code
    else:
        assert status == 200 and got.token_type == "License" and 0 < got.expires_in <= MAX_EXPIRES_IN


# --- WWW-Authenticate ---------------------------------------------------------------------


@pytest.mark.parametrize(("values", "error"), [
    (['License error="invalid_token"'], "invalid_token"),
    (["License error=insufficient_scope"], "insufficient_scope"),
    (['License realm="news", error="server_error", error_description="down, sorry"'], "server_error"),
    (['Basic realm="a, b", License error="invalid_request"'], "invalid_request"),
    (['Bearer error="invalid_token"', 'license error="invalid_token"'], "invalid_token"),
    (["License"], ""),
    (['License realm="x"'], ""),
    (['Bearer error="invalid_token"'], None),
    (["Basic abc=="], None),
    ([], None),
    ([""], None),
])
def test_license_challenges(values: list[str], error: str | None) -> None:
    assert license_challenge(values) == error


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet='License error="invalid_token" ,=\\\t', max_size=40), max_size=3))
def test_any_header_reads_as_an_error_name_or_none(values: list[str]) -> None:
    got = license_challenge(values)
    assert got is None or (isinstance(got, str) and len(got) <= 64)


# --- consent and gates --------------------------------------------------------------------


def _gate_and_obligations(grants: Grants) -> tuple[list[str], list[str | None]]:
    statements, gates = license_statements("https://news.example/news/a", [source()], grants)
    tokens = [o.url for s in statements for o in s.obligations if o.kind is ObligationKind.LICENSE_TOKEN]
    return [g.reason for g in gates], tokens


def test_a_token_is_obtainable_only_with_credentials_and_consent() -> None:
    creds = frozenset({SERVER})
    reasons, _ = _gate_and_obligations(Grants(license_credentials=creds))
    assert len(reasons) == 1 and NO_CONSENT in reasons[0] and NO_CREDENTIALS not in reasons[0]
    reasons, _ = _gate_and_obligations(Grants(max_price=Decimal("1")))
    assert len(reasons) == 1 and NO_CREDENTIALS in reasons[0] and NO_CONSENT not in reasons[0]
    reasons, _ = _gate_and_obligations(Grants())
    assert NO_CREDENTIALS in reasons[0] and NO_CONSENT in reasons[0]
    # a ceiling covers the free offer: agreed, and the token is an obligation of the allowed usages
    reasons, tokens = _gate_and_obligations(Grants(license_credentials=creds, max_price=Decimal("0")))
    assert reasons == [] and tokens and set(tokens) == {SERVER}
    reasons, tokens = _gate_and_obligations(Grants(license_credentials=frozenset({SERVER + "/"})))
    assert NO_CREDENTIALS not in reasons[0]  # a trailing slash names the same server


def test_accepting_a_licence_by_url_agrees_to_its_price() -> None:
    grants = Grants(license_credentials=frozenset({SERVER}), accepted_licenses=frozenset({LICENCE_URL}))
    statements, gates = license_statements("https://news.example/news/a", [source()], grants)
    assert gates == []
    ai_input = next(s for s in statements if s.usage is Usage.AI_INPUT)
    assert ai_input.effect.value == "allow"
    assert {o.kind for o in ai_input.obligations} == {ObligationKind.LICENSE_TOKEN, ObligationKind.PAYMENT}
    spelled = source("https://NEWS.example:443/license.xml")
    _, gates = license_statements("https://news.example/news/a", [spelled], grants)
    assert gates == []  # compared in normal form


def test_claims_name_the_scope_and_the_offer_agreed_to() -> None:
    grants = Grants(license_credentials=frozenset({SERVER}), max_price=Decimal("0.05"))
    (claim,) = licence_claims("https://news.example/news/a?x=1", [source()], grants, [Usage.AI_INPUT], [SERVER])
    assert (claim.resource, claim.offer_index, claim.license_url) == ("https://news.example/news/*", 2, LICENCE_URL)
    (index_only,) = licence_claims("https://news.example/news/a", [source()], grants, [Usage.AI_INDEX], [SERVER])
    assert index_only.offer_index == 1  # the free offer is cheaper
    held = grants.model_copy(update={"license_tokens": {SERVER: "tok"}})
    assert licence_claims("https://news.example/news/a", [source()], held, [Usage.AI_INPUT], [SERVER]) == []
    assert licence_claims("https://news.example/free/a", [source()], grants, [Usage.AI_INPUT], [SERVER]) == []
    assert resource_for("https://cdn.example/x/*", "https://news.example/") == "https://cdn.example/x/*"


def test_the_licence_element_is_sent_complete() -> None:
    xml = license_element_xml(DOC.encode(), "/news/*", 2)
    root = ElementTree.fromstring(xml)
    assert root.tag == f"{{{NS}}}license"
    assert root.find(f"{{{NS}}}payment/{{{NS}}}amount").text == "0.01"  # type: ignore[union-attr]
    assert root.find("{https://ext.example/}note").text == "an extension & more"  # type: ignore[union-attr]
    with pytest.raises(OlpError) as failure:
        license_element_xml(DOC.encode(), "/news/*", 3)
    assert failure.value.code == "licence-not-found"
