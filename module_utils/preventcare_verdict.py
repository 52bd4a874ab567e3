"""One way to say a verdict: status, evidence, requirement, and text from a catalogue.

Every checklist item (prerequisites, visit sheet) is a dict
    {host, requirement, check, status, blocking, title, evidence, hint}
built by `Judge.verdict`. The title is the catalogue's text for a key and the hint is the
text of "KEY.hint" (or another key, or a text computed by the check); a PASS never carries
a hint. The words a person reads live in data/texts/*.yml, English and French side by side.
"""

from __future__ import annotations

import functools

from ansible.module_utils.preventcare_data import data_path, load_table

STATUSES = ("PASS", "WARN", "FAIL", "UNREACHABLE", "NOT_APPLICABLE", "DECLARED")
LANGUAGES = ("fr", "en")
PLATFORMS = ("linux", "windows")
# Only a PASS, FAIL or UNREACHABLE can block: a warning, an attestation or a check that does
# not apply never stops a run.
_NEVER_BLOCKING = ("WARN", "DECLARED", "NOT_APPLICABLE")


class Texts:
    """A catalogue of texts in fr and en, read from data/texts/<name>.yml."""

    def __init__(self, entries, source):
        self.entries = entries
        self.source = source

    def has(self, key):
        return key in self.entries

    def template(self, key, lang):
        """The text of `key` in `lang` (English when missing), its {values} left as they are."""
        try:
            entry = self.entries[key]
        except KeyError:
            raise KeyError(f"no text {key!r} in {self.source}") from None
        return entry.get(lang, entry["en"])

    def text(self, key, lang, **values):
        """The text of `key` in `lang`, its {values} filled in."""
        return self.template(key, lang).format(**values)


@functools.cache
def load_texts(name):
    """The catalogue data/texts/<name>.yml; ValueError naming the bad entry otherwise."""
    path = data_path(f"texts/{name}.yml")
    entries = load_table(path, "text catalogue").get("texts")
    if not isinstance(entries, dict):
        raise ValueError(f"the text catalogue {path} has no `texts` mapping")
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(x), str) for x in LANGUAGES):
            raise ValueError(f"{path}: {key} must give both texts, fr and en")
    return Texts(entries, path)


def check_language(lang):
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def check_platform(platform):
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}")
    return platform


def contract_language(contract):
    """The contract's language, French by default as the booklet is."""
    lang = contract.get("language") if isinstance(contract, dict) else None
    return lang if lang in LANGUAGES else "fr"


def failure_message(outcome):
    """The message of a failed or unreachable task result, trimmed to one line."""
    outcome = outcome if isinstance(outcome, dict) else {}
    msg = str(outcome.get("msg") or outcome.get("module_stderr") or "no detail").strip()
    first = msg.splitlines()[0] if msg else "no detail"
    return first[:300]


class Judge:
    """Verdicts of one check on one host: host, requirement, check, language and catalogue."""

    def __init__(self, texts, *, host, requirement, check, lang, blocking=True):
        self.texts = texts
        self.host = host
        self.requirement = requirement
        self.check = check
        self.lang = check_language(lang)
        self.blocking = blocking

    @classmethod
    def of(cls, catalogue, host, requirement, check, lang, *, blocking=True):
        """The judge of `check` on `host`, speaking from data/texts/<catalogue>.yml."""
        texts = load_texts(catalogue)
        return cls(
            texts, host=host, requirement=requirement, check=check, lang=lang, blocking=blocking
        )

    def text(self, key, **values):
        return self.texts.text(key, self.lang, **values)

    def verdict(self, status, key, evidence=None, *, hint=None, hint_key=None, **values):
        """The result dict; the hint is `hint`, else the text of hint_key or KEY.hint."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        values = {"host": self.host, **values}
        if status == "PASS":
            hint = ""
        elif hint is None:
            hint_key = hint_key or f"{key}.hint"
            hint = self.text(hint_key, **values) if self.texts.has(hint_key) else ""
        return {
            "host": self.host,
            "requirement": self.requirement,
            "check": self.check,
            "status": status,
            "blocking": self.blocking and status not in _NEVER_BLOCKING,
            "title": self.text(key, **values),
            "evidence": evidence if evidence is not None else {},
            "hint": str(hint),
        }

    def unreachable(self, outcome):
        msg = failure_message(outcome)
        return self.verdict("UNREACHABLE", "unreachable", {"error": msg}, msg=msg)
