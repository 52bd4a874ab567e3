"""Filter of molecule/windows: what the rendered rules read that a live scrape lacks."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_scrape import missing


def preventcare_scrape_missing(text, groups, collectors=True):
    """["Alert: selector, ..."] for every rule of `groups` that the scrape text cannot feed.

    collectors=False leaves out the rules fed only by the project's own collectors (the
    preventcare_* textfile metrics): what an exporter must publish by itself.
    """
    if not isinstance(text, str) or not isinstance(groups, list):
        raise AnsibleFilterError(
            "preventcare_scrape_missing expects the scrape text and the rule groups (a list), "
            f"got {type(text).__name__} and {type(groups).__name__}"
        )
    problems = missing(groups, text)
    if not collectors:
        problems = [
            p for p in problems if not all(s.startswith("preventcare_") for s in p["selectors"])
        ]
    return [f"{p['alert']}: {', '.join(p['selectors'])}" for p in problems]


class FilterModule:
    """PreventCare scrape filter."""

    def filters(self):
        return {"preventcare_scrape_missing": preventcare_scrape_missing}
