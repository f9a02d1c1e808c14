"""Web Bot Auth signatures, checked against RFC test vectors and two verifiers we did not share code with.

The signer is the ``http-message-signatures`` package driven by
:mod:`crawler.identity.signing`; it is checked by the fixtures' own verifier
(written from RFC 9421, itself pinned to the RFC's Appendix B.2.6 vector) and
by the package's verifier, and tampering with any covered part must fail both.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.identity.keys import IdentityError, key_from_jwk, new_signing_key, thumbprint
from crawler.identity.signing import RequestSigner, check_agent_url
from fixtures.identity import TEST_KEY_FILE, TEST_KEY_ID, TEST_KEY_X
from fixtures.identity.verifier import signature_base, verify

RFC_KEY = json.loads(TEST_KEY_FILE.read_text())


def test_rfc7638_thumbprints() -> None:
    # RFC 8037 Appendix A.3, and the RFC 9421 test key the Web Bot Auth draft's examples use.
    assert thumbprint({"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}) \
        == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert thumbprint({"kty": "OKP", "crv": "Ed25519", "x": TEST_KEY_X, "kid": "ignored"}) == TEST_KEY_ID
    assert key_from_jwk(RFC_KEY).keyid == TEST_KEY_ID


B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
             ';created=1618884473;keyid="test-key-ed25519"')
B26_SIGNATURE = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
B26_REQUEST = {
    "method": "POST", "authority": "example.com", "path": "/foo?param=Value&Pet=dog",
    "headers": {"date": "Tue, 20 Apr 2021 02:07:55 GMT", "content-type": "application/json",
                "content-length": "18"},
}


def test_the_fixture_verifier_reproduces_rfc9421_b26() -> None:
    base, _, _ = signature_base("sig-b26", B26_INPUT, B26_REQUEST)
    assert base.decode() == (
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@method": POST\n"@path": /foo\n'
        '"@authority": example.com\n"content-type": application/json\n"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    key = key_from_jwk(RFC_KEY)
    assert base64.b64encode(key.private.sign(base)).decode() == B26_SIGNATURE  # Ed25519 is deterministic
    key.public.verify(base64.b64decode(B26_SIGNATURE), base)


def _request(signer: RequestSigner, url: str = "http://news.example/a/b?x=1", **extra: str) -> dict[str, Any]:
    headers = {"User-Agent": "fairfetch/0.1.0 (+https://example.org/bot)", **extra}
    headers.update(signer.sign("GET", url, headers))
    host, _, path = url.split("://", 1)[1].partition("/")
    return {"method": "GET", "authority": host, "path": "/" + path,
            "headers": {k.lower(): v for k, v in headers.items()}, "url": url, "raw_headers": headers}


def test_a_signed_request_verifies_with_the_fixture_verifier() -> None:
    key = new_signing_key()
    request = _request(RequestSigner(key, "https://bot.example/"), **{"crawler-max-price": "USD 0.05"})
    verdict = verify(request, {key.keyid: key.public})
    assert verdict.ok, verdict.reason
    assert verdict.covered == ['"@method"', '"@authority"', '"@path"', '"signature-agent";key="sig1"',
                               '"crawler-max-price"']
    params = verdict.params
    assert params["tag"] == "web-bot-auth" and params["alg"] == "ed25519" and params["keyid"] == key.keyid
    assert 0 < params["expires"] - params["created"] <= 300
    assert request["headers"]["signature-agent"] == 'sig1="https://bot.example"'


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keys: dict[str, Any]) -> None:
        self.keys = keys

    def resolve_public_key(self, key_id: str) -> Any:
        return self.keys[key_id]

    def resolve_private_key(self, key_id: str) -> Any:
        raise NotImplementedError


class _Msg:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


def test_a_signed_request_verifies_with_the_http_message_signatures_verifier() -> None:
    key = new_signing_key()
    request = _request(RequestSigner(key, "https://bot.example"), Authorization="License tok")
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=_Keys({key.keyid: key.public}))
    (result,) = verifier.verify(_Msg("GET", request["url"], request["raw_headers"]), max_age=None)
    assert result.parameters["keyid"] == key.keyid
    assert '"authorization"' in request["headers"]["signature-input"]


@pytest.mark.parametrize("tamper", ["authority", "path", "method", "price", "agent", "key", "expired", "tag"])
def test_tampering_with_anything_covered_fails(tamper: str) -> None:
    key = new_signing_key()
    request = _request(RequestSigner(key, "https://bot.example"), **{"crawler-exact-price": "USD 0.01"})
    keys = {key.keyid: key.public}
    now = None
    if tamper == "authority":
        request["authority"] = "other.example"
    elif tamper == "path":
        request["path"] = "/a/c?x=1"
    elif tamper == "method":
        request["method"] = "POST"
    elif tamper == "price":
        request["headers"]["crawler-exact-price"] = "USD 0.001"
    elif tamper == "agent":
        request["headers"]["signature-agent"] = 'sig1="https://evil.example"'
    elif tamper == "key":
        keys = {key.keyid: Ed25519PrivateKey.generate().public_key()}
    elif tamper == "expired":
        now = time.time() + 3600
    elif tamper == "tag":
        request["headers"]["signature-input"] = request["headers"]["signature-input"].replace(
            'tag="web-bot-auth"', 'tag="other"')
    assert not verify(request, keys, now=now).ok


def test_every_signature_has_a_fresh_nonce() -> None:
    signer = RequestSigner(new_signing_key(), "https://bot.example")
    inputs = {_request(signer)["headers"]["signature-input"] for _ in range(5)}
    assert len(inputs) == 5


@pytest.mark.parametrize("url", ["http://bot.example", "bot.example", "https://", 'https://a"b.example',
                                 "https://bot.example/\u00e9"])
def test_the_signature_agent_must_be_a_plain_https_url(url: str) -> None:
    with pytest.raises(IdentityError):
        check_agent_url(url)


@settings(max_examples=60, deadline=None)
@given(path=st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=30),
       query=st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=20),
       port=st.sampled_from(["", ":8080"]))
def test_signatures_verify_for_any_plain_url(path: str, query: str, port: str) -> None:
    key = new_signing_key()
    url = f"http://host.example{port}/{path}" + (f"?{query}" if query else "")
    assert verify(_request(RequestSigner(key, "https://bot.example"), url), {key.keyid: key.public}).ok
