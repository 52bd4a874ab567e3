"""Every role documents its entry points, and its defaults agree with that documentation."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_argument_specs_for_its_entry_points(role):
    specs = _load(role / "meta" / "argument_specs.yml")
    assert specs, f"{role.name}: meta/argument_specs.yml is missing"
    entry_points = set(specs["argument_specs"])
    task_files = {p.stem for p in (role / "tasks").glob("*.yml")}
    assert "main" in entry_points
    assert entry_points <= task_files, f"{role.name}: specs for missing task files"
    for name, spec in specs["argument_specs"].items():
        assert spec.get("short_description"), f"{role.name}.{name}: no short_description"
        for option, detail in (spec.get("options") or {}).items():
            assert detail.get("type"), f"{role.name}: option {option} has no type"
            assert detail.get("description"), f"{role.name}: option {option} has no description"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_defaults_and_specs_agree(role):
    defaults = _load(role / "defaults" / "main.yml") or {}
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"].get(
        "options", {}
    )
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"{role.name}: defaults without a spec: {undocumented}"
    for name, value in defaults.items():
        spec_default = options[name].get("default")
        # Jinja defaults are computed at run time; the spec describes them in words.
        if isinstance(value, str) and "{{" in value:
            continue
        assert spec_default == value, (
            f"{role.name}: {name} defaults to {value!r} but the spec says {spec_default!r}"
        )
    for name, option in options.items():
        if "default" in option and not option.get("required"):
            assert name in defaults, (
                f"{role.name}: spec gives {name} a default that defaults/ lacks"
            )
