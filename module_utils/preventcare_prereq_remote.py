"""PRE-06: a validated remote-assistance tool is installed and running on the server.

The tools and how each is found are data/remote_assistance.yml, the one catalogue.
"""

from __future__ import annotations

from ansible.module_utils.preventcare_data import (
    OTHER_REMOTE_TOOL,
    as_dict,
    as_list,
    remote_tools_catalogue,
)
from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_verdict import Judge

# A tool outside the catalogue, attested by the engineer: DECLARED, never verified.
OTHER = OTHER_REMOTE_TOOL


def linux_probes(tools):
    """What the evidence module looks for, for the contract's tools: {tool: {units, ...}}."""
    catalogue = remote_tools_catalogue()
    return {t: catalogue[t]["linux"] for t in as_list(tools) if t in catalogue}


def windows_services(tools):
    """The service names (with a * where a suffix may follow) the evidence script reads."""
    catalogue = remote_tools_catalogue()
    names = []
    for tool in (t for t in as_list(tools) if t in catalogue):
        probe = catalogue[tool]["windows"]
        names += [f"{n}*" if probe.get("prefix") else n for n in probe["services"]]
    return names


def _labels(tools):
    catalogue = remote_tools_catalogue()
    return ", ".join(catalogue[t]["label"] if t in catalogue else t for t in tools)


def check_remote_assistance(host, evidence, *, platform, lang, contract):
    """PRE-06: a validated tool from the contract is installed and running."""
    reader = evidence_reader(platform)
    judge = Judge.of("prerequisites", host, "PRE-06", "remote_assistance", lang)
    catalogue = remote_tools_catalogue()
    wanted = as_list(as_dict(as_dict(contract).get("remote_assistance")).get("tools"))
    states = reader.remote_tools(evidence, catalogue)
    shown = {"validated_tools": wanted, "tools": {t: states.get(t, {}) for t in wanted}}
    if not wanted:
        return judge.verdict("FAIL", "ra.none", shown)
    known = [t for t in wanted if t in catalogue]
    running = [t for t in known if states.get(t, {}).get("running")]
    if running:
        return judge.verdict("PASS", "ra.pass", shown, tool=_labels(running))
    if OTHER in wanted:
        return judge.verdict(
            "DECLARED", "ra.declared", shown, hint_key="ra.missing.hint", tools=", ".join(wanted)
        )
    installed = [t for t in known if states.get(t, {}).get("installed")]
    if installed:
        how = []
        for tool in installed:
            key, values = reader.how_to_start(tool, catalogue[tool])
            how.append(f"{catalogue[tool]['label']}: {judge.text(key, **values)}")
        return judge.verdict(
            "FAIL", "ra.stopped", shown, tools=_labels(installed), how=". ".join(how)
        )
    return judge.verdict("FAIL", "ra.missing", shown, tools=_labels(wanted))
