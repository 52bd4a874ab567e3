"""Is an IPv4 address public? One table of special-purpose blocks for every caller.

The contract validation refuses a declared public_ip that is not public, and PRE-02 judges
the same address (and the egress one) with the same table, so they can never disagree.
"""

from __future__ import annotations

import ipaddress

# Special-purpose IPv4 blocks (RFC 6890 registry), in the order they are reported.
_SPECIAL_V4 = (
    ("0.0.0.0/8", "this_network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "ietf"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_SPECIAL_V4_NETS = tuple((ipaddress.IPv4Network(n), why) for n, why in _SPECIAL_V4)


def classify_public_ipv4(value):
    """(True, None) for a public unicast IPv4 address, else (False, reason key)."""
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return False, "not_ipv4"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return False, "broadcast"
    for network, why in _SPECIAL_V4_NETS:
        if address in network:
            return False, why
    if not address.is_global:  # any block the registry adds later
        return False, "special"
    return True, None
