"""Every PowerShell script parses and uses only what Windows PowerShell 5.1 has.

No PowerShell runs here: the scripts are parsed with the tree-sitter PowerShell grammar
(PyPI tree-sitter-powershell, which follows PowerShell 7's syntax) and the constructs
that 5.1 lacks are refused by their syntax-tree nodes or, for parameters, by name:
  ternary `a ? b : c`, `??`, `??=`, `?.` / `?[]`  (PowerShell 7.0 operators; the grammar
      0.26.4 does not parse them at all, which the check counts as an error too),
  `&&` / `||` pipeline chains (7.0: node pipeline_chain_tail),
  `ConvertFrom-Json -AsHashtable` and `-Depth` (parameters added in 6.0 and 6.2).
Source: about_Operators / about_Pipeline_Chain_Operators and the ConvertFrom-Json page
of the PowerShell 7 documentation (Microsoft Learn), "Differences between Windows
PowerShell 5.1 and PowerShell 7.x".

Known false reports of the grammar (0.26.4) on valid 5.1 code, which the scripts avoid
rather than the check ignoring them:
  - a bare comma-separated argument list, `Select-Object A, B` (with or without a line
    continuation after the comma) is an ERROR node; write `Select-Object -Property
    @('A', 'B')`, which is the same call.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell as tsp

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    p for p in ROOT.rglob("*.ps1") if ".venv" not in p.parts and "node_modules" not in p.parts
)
PARSER = tree_sitter.Parser(tree_sitter.Language(tsp.language()))
PS7_ONLY_PARAMETERS = {"convertfrom-json": {"-ashashtable", "-depth"}}


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def problems(source: bytes) -> list[str]:
    """What Windows PowerShell 5.1 would refuse or the grammar cannot read, with its line."""
    tree = PARSER.parse(source)
    found = []
    for node in _walk(tree.root_node):
        line = node.start_point[0] + 1
        text = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        if node.type == "ERROR" or node.is_missing:
            found.append(f"line {line}: syntax error near {text[:40]!r}")
        elif node.type == "pipeline_chain_tail":
            found.append(f"line {line}: && / || pipeline chain (PowerShell 7 only)")
        elif node.type == "command":
            name = node.child_by_field_name("command_name")
            if name is None:
                continue
            command = source[name.start_byte : name.end_byte].decode().lower()
            for param in _walk(node):
                if param.type == "command_parameter":
                    flag = source[param.start_byte : param.end_byte].decode().lower()
                    if flag in PS7_ONLY_PARAMETERS.get(command, ()):
                        found.append(f"line {line}: {command} {flag} (PowerShell 6+ only)")
    return found


def test_every_script_of_the_project_is_checked():
    names = {p.name for p in SCRIPTS}
    assert {"prereq_evidence.ps1", "smtp_dialogue.ps1", "pending_updates.ps1"} <= names


@pytest.mark.req("PRE-05")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_parses_and_uses_only_windows_powershell_5_1(script):
    source = script.read_bytes()
    assert problems(source) == []
    assert source.lstrip(b"\xef\xbb\xbf").startswith(b"#Requires -Version 5.1")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (b"$a = $b ? 1 : 2\n", "syntax error"),
        (b"$a = $b ?? 1\n", "syntax error"),
        (b"$a = $b?.Name\n", "syntax error"),
        (b"Get-Item x && Get-Item y\n", "pipeline chain"),
        (b"Get-Item x || exit 1\n", "pipeline chain"),
        (b"$j = $t | ConvertFrom-Json -AsHashtable\n", "-ashashtable"),
        (b"$j = ConvertFrom-Json -InputObject $t -Depth 5\n", "-depth"),
        (b"function f( {\n", "syntax error"),
    ],
)
def test_constructs_that_5_1_lacks_are_refused(code, words):
    assert any(words in p for p in problems(code)), problems(code)


@pytest.mark.parametrize(
    "code",
    [
        b"$a = if ($b) { 1 } else { 2 }\n",
        b"Get-Item x; if ($?) { Get-Item y }\n",
        b"$j = $t | ConvertFrom-Json\n",
        b"$x = $t | ConvertTo-Json -Depth 5\n",
        b"Get-X |\n    Select-Object -Property @('A', 'B')\n",
        b"$v = (Get-ItemProperty -Path 'HKLM:\\X' `\n    -Name Y).Y\n",
    ],
)
def test_valid_5_1_code_passes(code):
    assert problems(code) == []
