"""The alert mail template writes the machine-readable block the console reads (SEC-04, ALR-01).

The role's real template (roles/monitor_site, Jinja rendered as the role does) is rendered by
Alertmanager's own template engine (`amtool template render`, Debian's Alertmanager 0.25) on
amtool's sample notification; the block must be one JSON object with every field of every
alert, which preventcare_alertmail then signs and reads back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.module_utils.preventcare_alertmail import _ALERT_FIELDS, BEGIN, END
from required_tools import require

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "roles/monitor_site/templates/etc/prometheus/alertmanager_templates"
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))


def _render_jinja(tmp_path: Path) -> Path:
    env = jinja2.Environment(
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        undefined=jinja2.StrictUndefined,
    )
    env.filters["comment"] = lambda text: f"# {text}"
    source = (TEMPLATE / "preventcare.tmpl.j2").read_text(encoding="utf-8")
    out = tmp_path / "preventcare.tmpl"
    out.write_text(
        env.from_string(source).render(__monitor_site_thresholds=TABLE, ansible_managed="test"),
        encoding="utf-8",
    )
    return out


@pytest.mark.req("SEC-04")
@pytest.mark.req("ALR-01")
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_alertmanager_renders_one_json_block_with_every_field_after_the_text(tmp_path, lang):
    amtool = require("amtool", "the template is rendered by Alertmanager's engine")
    template = _render_jinja(tmp_path)
    done = subprocess.run(
        [amtool, "template", "render", f"--template.glob={template}",
         f'--template.text={{{{ template "preventcare.{lang}.text" . }}}}'],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    text = done.stdout
    assert text.index("PreventCare Monitor") < text.index(BEGIN), "the block follows the text"
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    body = json.loads(block)
    assert set(body) == {"v", "client", "monitor", "alerts"} and body["v"] == 1
    assert len(body["alerts"]) == 2  # amtool's sample notification has two alerts
    for alert in body["alerts"]:
        assert set(alert) == set(_ALERT_FIELDS)
        assert isinstance(alert["starts_at"], int) and alert["ends_at"] == 0
        assert alert["fingerprint"].startswith("fingerprint")
    assert body["alerts"][0]["instance"] == "foo.bar:1234"
