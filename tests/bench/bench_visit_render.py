#!/usr/bin/env python3
"""Benchmark: build and render a visit sheet for a large synthetic fleet (VIS-04).

Makes HOSTS x ITEMS result dicts (statuses spread like a real sheet, evidence of a realistic
size), then times build_report + the four renderings (JSON, HTML, Markdown, JUnit) the
compliance run writes, and reports the wall time and the peak memory of this process.

    .venv/bin/python tests/bench/bench_visit_render.py [--hosts 1000] [--items 30]

Target (issue 9): 1,000 hosts x 30 items under 3 s and 300 MB. A benchmark, not a test:
its figures go in docs/benchmarks.md with the command.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bin"))
import preventcare_env  # noqa: E402, F401
from ansible.module_utils import preventcare_report as report  # noqa: E402
from ansible.module_utils.preventcare_visit import visit_section  # noqa: E402

STATUSES = ("PASS",) * 6 + ("WARN", "FAIL", "NOT_APPLICABLE", "DECLARED")


def results(hosts: int, items: int) -> list[dict]:
    found = []
    for h in range(hosts):
        host = f"srv{h:04d}"
        for i in range(items):
            status = STATUSES[(h + i) % len(STATUSES)]
            found.append(
                {
                    "host": host,
                    "requirement": "VIS-03",
                    "check": f"area{i % 10}.item{i}",
                    "status": status,
                    "blocking": False,
                    "title": f"Item {i} of {host}: a sentence of the length a finding has",
                    "evidence": {"units": {f"unit{n}.service": {"active": True} for n in range(3)}},
                    "hint": ""
                    if status == "PASS"
                    else "What the engineer does about it, in a line.",
                }
            )
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    args = parser.parse_args(argv)
    contract = {"client": {"id": "bench", "name": "Bench SARL", "users": 9}, "language": "fr"}
    data = results(args.hosts, args.items)
    period = {"from": "2026-06-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "source": "default"}
    templates = str(ROOT / "templates" / "reports")
    start = time.perf_counter()
    section = visit_section(period, "", data, {"available": False, "reason": "benchmark"})
    document = report.build_report(data, contract, "20261201T000000Z", "visit", visit=section)
    # As preventcare_write_report renders them: the four at once.
    texts = report.render_all(document, report.FORMATS, templates)
    sizes = {fmt: len(text) for fmt, text in texts.items()}
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.hosts} hosts x {args.items} items = {len(data)} results")
    print(f"build + render json, html, md, junit: {elapsed:.2f} s")
    print(f"peak memory of the process (ru_maxrss): {peak_mb:.0f} MB")
    print("sizes: " + ", ".join(f"{fmt} {size / 1e6:.1f} MB" for fmt, size in sizes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
