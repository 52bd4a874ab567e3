"""Set-up duration by site size (SET-05), at each boundary of the booklet's table."""

from __future__ import annotations

import pytest
from ansible.module_utils.preventcare_sizing import SizingError, setup_duration


@pytest.mark.req("SET-05")
@pytest.mark.parametrize(
    ("users", "servers", "contract_days", "days", "rule"),
    [
        (1, 1, None, 1, "small"),
        (9, 2, None, 1, "small"),  # 9 users, 2 servers: still one day
        (10, 2, None, 2, "medium"),  # 10 users
        (9, 3, None, 2, "medium"),  # 3 servers
        (1, 3, None, 2, "medium"),
        (49, 1, None, 2, "medium"),  # 49 users
        (49, 8, 5, 2, "medium"),  # below 50 the contract's figure does not apply
        (50, 1, 3, 3, "contract"),  # 50 users: the contract's figure
        (60, 4, 1, 1, "contract"),
    ],
)
def test_the_set_up_duration_follows_the_booklets_table(users, servers, contract_days, days, rule):
    assert setup_duration(users, servers, contract_days) == {"days": days, "rule": rule}


@pytest.mark.req("SET-05")
def test_from_50_users_without_the_contracts_figure_the_error_says_what_to_set():
    with pytest.raises(SizingError, match=r"client\.setup_duration_days"):
        setup_duration(50, 1)
    with pytest.raises(SizingError, match=r"client\.users is 60"):
        setup_duration(60, 2)


@pytest.mark.parametrize(
    ("users", "servers", "days"), [(0, 1, None), (True, 1, None), (5, "2", None), (60, 1, 0)]
)
def test_bad_counts_are_refused_clearly(users, servers, days):
    with pytest.raises(SizingError):
        setup_duration(users, servers, days)
