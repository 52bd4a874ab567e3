"""A problem in something a person wrote (the contract, a data table), and how it is listed.

The contract validation and the thresholds table share this type, so a bad threshold
override is listed like any other contract problem: path, message, hint.
"""

from __future__ import annotations

import dataclasses
import difflib


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong, phrased for the person who edits it.

    parts: the path as keys under the root (("thresholds", "MON-SYS-05", "value")), for
    callers that sort or silence problems by position; path is its rendering.
    """

    path: str
    message: str
    hint: str = ""
    sort_key: tuple = dataclasses.field(default=(), compare=False, repr=False)
    parts: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" — {self.hint}" if self.hint else "")


def format_problems(problems, header, footer=""):
    """One readable block: the header, a line per problem, then the footer."""
    lines = [header, *(f"  - {problem}" for problem in problems)]
    return "\n".join([*lines, footer] if footer else lines)


def closest(word, candidates):
    """The candidate a misspelt `word` most likely meant (case-insensitive), or None."""
    if isinstance(word, bool) or not isinstance(word, (str, int, float)):
        return None
    lowered = {str(c).lower(): c for c in candidates}
    match = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(word, candidates):
    """ "did you mean 'X'?" for the closest candidate, or "" when none is close."""
    close = closest(word, candidates)
    return f"did you mean '{close}'?" if close is not None else ""
