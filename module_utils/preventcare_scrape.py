"""What a rendered rule file reads and an exporter's /metrics does not give.

Every metric a rule reads needs a producer on the servers where the rule applies (CONVENTIONS:
"one truth per fact"). `missing()` takes the rule groups (bin/preventcare-rules output) and
the text of a live scrape, lists the selectors of every rule expression (metric name and
label matchers) and returns those that no series of the scrape satisfies.

Rules:
- labels and series the scrape itself adds (job, instance; up, scrape_*) are not expected
  from the exporter;
- in `A or B` one side is enough (the Linux RAID rule reads node_md_* or the project's
  preventcare_hardware_ok: a server without md arrays gives only the second);
- the right side of `unless` is read as well (the "never reported" rule needs the backup
  metric on a server that backs up);
- a regex matcher on "" (an empty list in the thresholds' params, e.g. no unwanted unit)
  selects nothing on purpose: the metric must exist, that matcher is not judged;
- functions, keywords, durations, numbers and strings are not metrics.
Pure Python, standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCRAPE_LABELS = ("job", "instance")
# Series Prometheus writes for every scrape itself, never in an exporter's /metrics.
SCRAPE_SERIES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "atan2",
    # aggregation operators, which may take `by (...)` before their parenthesis
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
_LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
      | (?P<duration>\[[^\]]*\])
      | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)
      | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<punct>=~|!~|!=|==|<=|>=|[{}(),=<>+\-*/%^])
    )""",
    re.VERBOSE,
)
_SERIES = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:\\.|[^"\\])*)"\s*,?')


class PromQLError(ValueError):
    """An expression this reader cannot follow."""


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple  # ((label, op, value), ...)

    def __str__(self) -> str:
        inner = ",".join(
            f'{name}{op}"{value}"' for name, op, value in self.matchers if name not in SCRAPE_LABELS
        )
        return f"{self.metric}{{{inner}}}" if inner else self.metric


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body)


def tokenize(expr: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    expr = expr.rstrip()
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise PromQLError(f"cannot read the expression at {expr[pos : pos + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match[kind]))
        pos = match.end()
    return tokens


def _matchers(tokens, index):
    """Parse `{name op "value", ...}` from tokens[index] == '{'; (matchers, next index)."""
    found, index = [], index + 1
    while tokens[index] != ("punct", "}"):
        if tokens[index] == ("punct", ","):
            index += 1
            continue
        name = tokens[index][1]
        op = tokens[index + 1][1]
        value = _unquote(tokens[index + 2][1])
        found.append((name, op, value))
        index += 3
    return tuple(found), index + 1


def _split_top(tokens, keyword):
    """Split tokens on a keyword at parenthesis depth 0."""
    parts, current, depth = [], [], 0
    for token in tokens:
        if token == ("punct", "("):
            depth += 1
        elif token == ("punct", ")"):
            depth -= 1
        if depth == 0 and token == ("ident", keyword):
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    return parts


def _strip_parens(tokens):
    while len(tokens) >= 2 and tokens[0] == ("punct", "(") and tokens[-1] == ("punct", ")"):
        depth = 0
        for i, token in enumerate(tokens):
            depth += {("punct", "("): 1, ("punct", ")"): -1}.get(token, 0)
            if depth == 0 and i < len(tokens) - 1:
                return tokens
        tokens = tokens[1:-1]
    return tokens


def _selectors(tokens) -> list[Selector]:
    found, index = [], 0
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if kind == "ident" and text in _LABEL_LIST_KEYWORDS and following == ("punct", "("):
            index = next(i for i in range(index, len(tokens)) if tokens[i] == ("punct", ")")) + 1
            continue
        if kind == "ident" and text not in _KEYWORDS and following != ("punct", "("):
            matchers = ()
            index += 1
            if following == ("punct", "{"):
                matchers, index = _matchers(tokens, index)
            found.append(Selector(text, matchers))
            continue
        if kind == "punct" and text == "{":  # {__name__=...} form
            matchers, index = _matchers(tokens, index)
            names = [v for n, op, v in matchers if n == "__name__" and op == "="]
            rest = tuple(m for m in matchers if m[0] != "__name__")
            if names:
                found.append(Selector(names[0], rest))
            continue
        index += 1
    return found


def alternatives(expr: str) -> list[list[Selector]]:
    """The expression's `or` branches (depth 0, outer parentheses removed), each a list of
    the selectors it reads. One satisfied branch is enough for the rule to work."""
    return _alternatives(tokenize(expr))


def _alternatives(tokens) -> list[list[Selector]]:
    tokens = _strip_parens(tokens)
    branches = _split_top(tokens, "or")
    if len(branches) == 1:
        return [_selectors(tokens)]
    return [found for branch in branches for found in _alternatives(branch)]


def parse_samples(text: str, unreadable: list | None = None) -> list[dict]:
    """Prometheus text exposition -> [{name, labels, value}] (the one reader of that format).

    Comments and blank lines are skipped; a sample line whose value is not a number is left
    out and, when `unreadable` is a list, appended to it (line number and text).
    """
    samples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SERIES.match(line)
        try:
            value = float(match[4]) if match else None
        except ValueError:
            value = None
        if value is None:
            if unreadable is not None:
                unreadable.append(f"line {number}: {line[:120]}")
            continue
        labels = {m[1]: _unquote('"' + m[2] + '"') for m in _LABEL_PAIR.finditer(match[3] or "")}
        samples.append({"name": match[1], "labels": labels, "value": value})
    return samples


def parse_scrape(text: str) -> dict[str, list[dict]]:
    """Prometheus text exposition -> {metric name: [labels, ...]}."""
    series: dict[str, list[dict]] = {}
    for sample in parse_samples(text):
        series.setdefault(sample["name"], []).append(sample["labels"])
    return series


def _satisfied(selector: Selector, series: dict, ignore=SCRAPE_LABELS) -> bool:
    if selector.metric in SCRAPE_SERIES:
        return True
    for labels in series.get(selector.metric, []):
        ok = True
        for name, op, value in selector.matchers:
            if name in ignore or (op == "=~" and value == ""):
                continue
            actual = labels.get(name, "")
            if op == "=":
                ok = actual == value
            elif op == "!=":
                ok = actual != value
            elif op == "=~":
                ok = re.fullmatch(value, actual) is not None
            elif op == "!~":
                ok = re.fullmatch(value, actual) is None
            if not ok:
                break
        if ok:
            return True
    return False


def missing(groups, scrape_text: str, ignore=SCRAPE_LABELS) -> list[dict]:
    """[{alert, selectors: [str, ...]}] for every rule whose every branch lacks a series."""
    series = parse_scrape(scrape_text)
    problems = []
    for group in groups or []:
        for rule in group.get("rules", []):
            expr = rule.get("expr", "")
            try:
                branches = alternatives(str(expr))
            except (PromQLError, IndexError, StopIteration) as exc:
                problems.append(
                    {"alert": rule.get("alert", "?"), "selectors": [f"unreadable: {exc}"]}
                )
                continue
            unmet = [
                [s for s in branch if not _satisfied(s, series, ignore)] for branch in branches
            ]
            if all(unmet):
                best = min(unmet, key=len)
                problems.append(
                    {
                        "alert": rule.get("alert") or rule.get("record", "?"),
                        "selectors": [str(s) for s in best],
                    }
                )
    return problems
