"""A problem in something a person wrote (the contract, a data table), and how it is listed.

The contract validation and the thresholds table share this type, so a bad threshold
override is listed like any other contract problem: path, message, hint.
"""

from __future__ import annotations

import dataclasses


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
