"""Look at a page a person reads in a real headless browser (Debian's chromium).

`look(url_or_path, screenshot)` loads the page twice in chromium - once for a PNG screenshot,
once for the DOM after rendering - and returns what the page shows: its visible text (script
and style contents left out) and the rendered DOM. Tests assert on that text, not on the HTML
source, so a page that renders blank or hides its content fails.
"""

from __future__ import annotations

import html.parser
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--ignore-certificate-errors",
    "--hide-scrollbars",
)


@dataclass
class Page:
    text: str
    dom: str
    screenshot: Path


class _Text(html.parser.HTMLParser):
    _HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self):
        super().__init__()
        self.parts = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self._HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(dom):
    parser = _Text()
    parser.feed(dom)
    return " ".join(parser.parts)


def chromium():
    found = shutil.which("chromium")
    assert found, "Debian's chromium is not installed (scripts/setup.sh installs it)"
    return found


def look(target, screenshot, *, size="1280,1800", budget_ms=5000, timeout=120):
    """Render `target` (a URL, or a file path) in chromium; screenshot to `screenshot` (PNG)."""
    url = target if "://" in str(target) else Path(target).resolve().as_uri()
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    common = [chromium(), *_FLAGS, f"--window-size={size}", f"--virtual-time-budget={budget_ms}"]
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [*common, f"--user-data-dir={profile}", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [*common, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout
    assert screenshot.exists() and screenshot.stat().st_size > 5_000, "the screenshot is empty"
    return Page(text=visible_text(dom), dom=dom, screenshot=screenshot)
