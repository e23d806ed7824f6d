"""The address guard's pure functions: every spelling of loopback, private, link-local,
CGNAT, multicast and reserved addresses is refused; public ones pass; the default policy
follows the listening address."""

from __future__ import annotations

import ipaddress

import pytest

from chat_core.backends.address_guard import (
    ALLOW_HINT,
    check_addresses,
    literal_ipv4,
    parse_address,
    refusal,
)
from chat_core.backends.visitor_http import checked_addresses
from chat_core.errors import ConfigError, EndpointRefusedError
from chat_core.settings import (
    Settings,
    default_visitor_endpoints,
    load_settings,
    visitor_endpoints_policy,
)

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "127.0.0.2",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7F.0.0.1",
    "0177.0.0.1",  # octal
    "0177.1",
    "127.1",  # short forms
    "127.0.1",
    "127.0.0.1.",  # a trailing dot
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "64:ff9b::7f00:1",  # NAT64
    "2002:7f00:1::",  # 6to4
]
REFUSED = {
    "0.0.0.0": "unspecified",
    "0": "unspecified",
    "::": "unspecified",
    "10.0.0.1": "private",
    "10.1": "private",
    "167772161": "private",  # 10.0.0.1 in decimal
    "0xa000001": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "0300.0250.1.1": "private",  # 192.168.1.1 in octal
    "::ffff:192.168.1.1": "private",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "169.254.169.254": "link-local",
    "0xa9fea9fe": "link-local",  # the metadata address in hex
    "2852039166": "link-local",  # ... and in decimal
    "::ffff:169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "private",  # reserved: Python files 240/4 under is_private
    "198.18.0.1": "private",  # benchmarking range
    "192.0.2.1": "private",  # documentation range
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "134744072", "0x8080808", "93.184.216.34", "2606:4700::1111",
          "::ffff:8.8.8.8"]  # fmt: skip


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_refused(host: str) -> None:
    ip = parse_address(host)
    assert ip is not None
    assert "loopback" in (refusal(ip) or "")


@pytest.mark.parametrize(("host", "kind"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused_naming_why(host: str, kind: str) -> None:
    ip = parse_address(host)
    assert ip is not None
    assert kind in (refusal(ip) or "")


@pytest.mark.parametrize("host", PUBLIC)
def test_public_addresses_pass(host: str) -> None:
    ip = parse_address(host)
    assert ip is not None and refusal(ip) is None


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "localhost",
        "1.2.3.4.5",
        "0x100000000",
        "256.1.1.1",
        "08.1.1.1",
        "1e3",
        "1_0.0.0.1",
        "١٢٧.0.0.1",
        "",
        "0x7f_00_00_01",
    ],
)
def test_names_and_malformed_numbers_are_not_addresses(host: str) -> None:
    assert parse_address(host) is None


def test_inet_aton_forms_read_like_the_resolver() -> None:
    assert literal_ipv4("1.2.3") == ipaddress.IPv4Address("1.2.0.3")
    assert literal_ipv4("1.65535") == ipaddress.IPv4Address("1.0.255.255")
    assert literal_ipv4("0x1.0x2.0x3.0x4") == ipaddress.IPv4Address("1.2.3.4")
    assert literal_ipv4("4294967295") == ipaddress.IPv4Address("255.255.255.255")


def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public() -> None:
    public = ipaddress.ip_address("93.184.216.34")
    assert check_addresses("example.test", [public]) is None
    message = check_addresses("rebind.test", [public, ipaddress.ip_address("127.0.0.1")])
    assert message is not None
    assert "rebind.test (127.0.0.1)" in message and "loopback" in message
    assert ALLOW_HINT in message and "CHAT_VISITOR_ENDPOINTS=any" in message


def test_a_literal_host_is_checked_even_when_the_resolver_says_otherwise() -> None:
    public = ipaddress.ip_address("93.184.216.34")
    assert check_addresses("2130706433", [public]) is not None


def test_checked_addresses_raises_and_keeps_only_what_it_checked() -> None:
    assert checked_addresses("ok.test", ["93.184.216.34"]) == ["93.184.216.34"]
    with pytest.raises(EndpointRefusedError, match="private"):
        checked_addresses("lan.test", ["93.184.216.34", "192.168.0.10"])
    with pytest.raises(EndpointRefusedError, match="did not resolve"):
        checked_addresses("none.test", [])


@pytest.mark.parametrize(
    ("address", "policy"),
    [
        ("127.0.0.1", "any"),
        ("localhost", "any"),
        ("::1", "any"),
        ("[::1]", "any"),
        ("127.0.0.5", "any"),
        (None, "public"),  # Streamlit's default: every interface
        ("", "public"),
        ("0.0.0.0", "public"),
        ("::", "public"),
        ("192.168.1.20", "public"),
        ("myhost.example", "public"),
    ],
)
def test_the_default_policy_follows_the_listening_address(address: str | None, policy: str) -> None:
    assert default_visitor_endpoints(address) == policy
    assert visitor_endpoints_policy(None, address) == policy


def test_the_setting_wins_over_the_default() -> None:
    assert visitor_endpoints_policy("off", "127.0.0.1") == "off"
    assert visitor_endpoints_policy(" ANY ", "0.0.0.0") == "any"
    assert visitor_endpoints_policy("public", "127.0.0.1") == "public"
    settings = load_settings(env={"CHAT_VISITOR_ENDPOINTS": "off"}, dotenv_path=None, secrets={})
    assert settings.visitor_policy == "off"
    assert Settings().visitor_policy == "public"  # unknown listening address: the safe default


def test_a_bad_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CHAT_VISITOR_ENDPOINTS"):
        load_settings(env={"CHAT_VISITOR_ENDPOINTS": "everything"}, dotenv_path=None, secrets={})
