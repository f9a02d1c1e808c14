"""The SSRF guard refuses every non-public target, in every notation, unless told otherwise."""

from __future__ import annotations

import ipaddress

import pytest

from crawler.checker.guard import Refused, Unresolvable, guard, ip_literal, why_not_public

REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fec0::1]/",  # site-local
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://240.0.0.1/",  # reserved
    "http://100.64.0.1/",  # shared address space, not global
    "http://255.255.255.255/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://127.0.0.1.:8080/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        guard(url)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_proxy_does_not_lift_the_check_of_literals_and_local_names(url: str) -> None:
    with pytest.raises(Refused):
        guard(url, proxied=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "//example.com/",
        "example.com",
        "http:///nohost",
        "http://user:pw@93.184.215.14/",
        "http://user@93.184.215.14/",
        "http://93.184.215.14:99999/",
        "http://1.2.3.999/",  # ends in a number, but no IPv4 address
        "http://93.184.215.14/\r\nX: y",
    ],
)
def test_malformed_or_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        guard(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "connect"),
    [
        ("http://93.184.215.14/", "93.184.215.14"),
        ("https://8.8.8.8:8443/x", "8.8.8.8"),
        ("http://134744072/", "8.8.8.8"),  # decimal notation of a public address
        ("http://[2606:4700::1111]/", "[2606:4700::1111]"),
    ],
)
def test_public_addresses_are_allowed_and_pinned(url: str, connect: str) -> None:
    target = guard(url)
    assert target.pinned and target.connect_host == connect


def test_mapped_forms_are_refused_even_for_public_addresses() -> None:
    # ::ffff:0:0/96 is reserved: nobody needs to write a public address that way.
    with pytest.raises(Refused):
        guard("http://[::ffff:8.8.8.8]/")


def test_allow_private_lets_loopback_through() -> None:
    target = guard("http://127.1:8080/x", allow_private=True)
    assert target.connect_host == "127.0.0.1" and target.port == 8080
    assert target.host_header == "127.0.0.1:8080"


def test_a_name_is_resolved_once_and_the_checked_address_is_pinned() -> None:
    target = guard("http://localhost:8123/", allow_private=True)
    assert target.pinned
    assert target.connect_host in {"127.0.0.1", "[::1]"}
    assert target.host_header == "localhost:8123"


def test_every_resolved_address_is_checked() -> None:
    # localhost resolves to loopback only; the refusal names the address that failed.
    with pytest.raises(Refused, match="resolves to"):
        guard("http://localhost/")


def test_an_unresolvable_name_is_left_to_a_proxy_but_not_otherwise() -> None:
    with pytest.raises(Unresolvable):
        guard("http://no-such-host.invalid/")
    target = guard("http://no-such-host.invalid/", proxied=True)
    assert not target.pinned and target.connect_host == "no-such-host.invalid"


def test_ip_literal_notations() -> None:
    assert ip_literal("127.1") == ipaddress.ip_address("127.0.0.1")
    assert ip_literal("0x7f.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert ip_literal("[::1]") == ipaddress.ip_address("::1")
    assert ip_literal("news.example") is None
    assert ip_literal("cafe.be") is None


def test_why_not_public_names_the_embedded_address() -> None:
    reason = why_not_public(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert reason is not None and "10.0.0.1" in reason
    assert why_not_public(ipaddress.ip_address("1.1.1.1")) is None
