"""Set-up duration by site size (SET-05), as the booklet sets it (3.2.1):

- 1 day for sites of 1 to 9 users with at most 2 servers;
- 2 days for sites of 10 to 49 users, or of 3 servers and more;
- from 50 users, the figure the contract sets (client.setup_duration_days, which the
  contract validation requires from 50 users).
"""

from __future__ import annotations

SMALL_USERS_MAX = 9
SMALL_SERVERS_MAX = 2
CONTRACT_USERS_MIN = 50


class SizingError(ValueError):
    """A site the rule cannot size; the message names what to give."""


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SizingError(f"{what} is {value!r}: expected a whole number")
    return value


def setup_duration(users, servers, contract_days=None):
    """{"days", "rule"}: the set-up duration and which clause of SET-05 gave it.

    rule: "small" (1-9 users, at most 2 servers), "medium" (10-49 users or 3+ servers) or
    "contract" (50 users and more: the contract's figure).
    """
    users = _count(users, "client.users")
    servers = _count(servers, "the number of servers")
    if users < 1:
        raise SizingError("client.users is 0: a site has at least one user")
    if users >= CONTRACT_USERS_MIN:
        if contract_days is None:
            raise SizingError(
                f"client.users is {users}: from {CONTRACT_USERS_MIN} users the set-up duration "
                "is the contract's figure; set client.setup_duration_days in the contract"
            )
        days = _count(contract_days, "client.setup_duration_days")
        if days < 1:
            raise SizingError("client.setup_duration_days is 0: give at least 1 day")
        return {"days": days, "rule": "contract"}
    if users <= SMALL_USERS_MAX and servers <= SMALL_SERVERS_MAX:
        return {"days": 1, "rule": "small"}
    return {"days": 2, "rule": "medium"}
