"""The visit cadence (VIS-01): how many preventive visits a contract year holds.

The booklet: two visits a year, plus one per server (physical or virtual) beyond the first.
The visit plan (set-up day) and the site's metric retention (it must cover the time between
two visits) both derive from this one rule.
"""

from __future__ import annotations

import math

YEAR_DAYS = 365


def visits_per_year(servers):
    """2 visits a year plus one per server beyond the first."""
    return 2 + max(int(servers) - 1, 0)


def days_between_visits(servers):
    """The longest expected gap between two visits, in whole days."""
    return math.ceil(YEAR_DAYS / visits_per_year(servers))
