#!/usr/bin/env python3
"""Measure the PreventCare Monitor's footprint on real test hosts (docs/footprint.md).

Starts a monitor host and N Linux servers (systemd containers from the test image), converges
them with playbooks/site_day.yml from a copy of the example inventory (production settings;
alerts go to an SMTP sink on this machine), lets them run, then measures over a fixed window:

- on each server, the node exporter's resident memory (VmRSS, sampled every scrape interval)
  and CPU time (utime + stime from /proc/PID/stat) while the monitor scrapes it;
- on the monitor host, what one server costs on disk per day of retention: its samples in the
  window are compacted into real TSDB blocks with promtool (dump, then create-blocks-from
  openmetrics), and the block's chunk bytes per sample are extrapolated to a day of scrapes;
  the WAL's growth over the window is given too.

Run as root, from the project folder, with the project's virtualenv:
    .venv/bin/python scripts/measure-footprint.py [--servers 2] [--window 600] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "containers" / "containers.conf"))

try:
    import yaml
    from site_lab import (
        EXAMPLE,
        HOST_FROM_CONTAINERS,
        PROMETHEUS,
        LabError,
        MailSink,
        SiteLab,
        podman,
    )

    sys.path.insert(0, str(ROOT / "bin"))
    import preventcare_env  # noqa: F401 - module_utils importable
    from ansible.module_utils.preventcare_calendar import days_between_visits
except ImportError as exc:  # run with the system python, or before scripts/setup.sh
    sys.exit(f"{exc}: run this script with the project's virtualenv (.venv/bin/python)")

NODE_JOB = "preventcare-node"
TSDB = "/var/lib/prometheus/metrics2"
DAY = 86400
# Prometheus cuts a head chunk every 120 samples (tsdb), 30 min at a 15 s scrape.
SAMPLES_PER_CHUNK = 120
BLOCK_MS = 2 * 3600 * 1000  # the TSDB's smallest block range
# A dumped sample: {labels} value timestamp_ms (promtool 2.42).
_DUMP_LINE = re.compile(r"^\{(?P<labels>.*)\} (?P<value>\S+) (?P<ts>-?\d+)$")
# One label pair of a dumped series; values keep their escapes, which OpenMetrics shares.
_PAIR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=2, help="Linux servers scraped (2)")
    parser.add_argument("--window", type=int, default=600, help="measurement window, s (600)")
    parser.add_argument("--settle", type=int, default=60, help="wait before measuring, s (60)")
    parser.add_argument("--keep", action="store_true", help="leave the test hosts running")
    parser.add_argument("--reuse", action="store_true", help="measure hosts left running by --keep")
    args = parser.parse_args(argv)
    if not 1 <= args.servers <= 20:
        parser.error("--servers must be between 1 and 20")
    # Past 30 min the series' chunks (120 samples at a 15 s scrape) would be cut in the window.
    if not 60 <= args.window <= 1800:
        parser.error("--window must be between 60 s (four scrapes) and 1800 s (one chunk)")
    return args


def say(text: str):
    print(text, flush=True)


# --------------------------------------------------------------------------- servers
class Exporter:
    """The node exporter process of one server: CPU ticks and RSS read from /proc."""

    def __init__(self, lab: SiteLab, host: str):
        self.lab, self.host = lab, host
        pid = lab.exec(host, "systemctl", "show", "-p", "MainPID", "--value",
                       "prometheus-node-exporter").stdout.strip()  # fmt: skip
        if not pid or pid == "0":
            raise LabError(f"prometheus-node-exporter is not running on {host}")
        self.pid = pid
        self.hz = int(lab.exec(host, "getconf", "CLK_TCK").stdout)
        self.rss_kib: list[int] = []

    def read(self) -> tuple[float, int]:
        """(CPU seconds used so far, VmRSS in KiB), read in one exec."""
        out = self.lab.exec(
            self.host, "cat", f"/proc/{self.pid}/stat", f"/proc/{self.pid}/status"
        ).stdout
        stat, _, status = out.partition("\n")
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / self.hz  # utime, stime (fields 14, 15)
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        self.rss_kib.append(rss)
        return cpu, rss


def monitor_du(lab: SiteLab, path: str) -> int:
    return int(lab.exec(lab.monitor, "du", "-sb", path).stdout.split()[0])


def scalar(lab: SiteLab, promql: str) -> float:
    result = lab.query(promql)
    return float(result[0]["value"][1]) if result else math.nan


# --------------------------------------------------------------------------- TSDB
def to_openmetrics(dump: str, keep, shift_ms: int, until_ms: int | None = None):
    """promtool's dump lines -> (OpenMetrics text, samples, series) for series where keep(labels).

    Timestamps move by shift_ms: the window then lies in one 2 h block, as most samples of a
    live Prometheus do (a block boundary would cut every series' chunk in two).
    """
    out, samples, series = [], 0, set()
    for line in dump.splitlines():
        match = _DUMP_LINE.match(line)
        if not match or not keep(match["labels"]):
            continue
        if until_ms is not None and int(match["ts"]) >= until_ms:
            continue
        pairs = dict(_PAIR.findall(match["labels"]))
        name = pairs.pop("__name__")
        labels = ",".join(f'{key}="{value}"' for key, value in pairs.items())
        ts = (int(match["ts"]) + shift_ms) / 1000
        out.append(f"{name}{{{labels}}} {match['value']} {ts:.3f}")
        samples += 1
        series.add(match["labels"])
    out.append("# EOF")
    return "\n".join(out) + "\n", samples, series


def build_blocks(lab: SiteLab, openmetrics: str, name: str) -> dict:
    """Compact samples into TSDB blocks on the monitor host; sizes of chunks and index."""
    work = f"/tmp/footprint-{name}"
    lab.shell(lab.monitor, f"rm -rf {work} && mkdir -p {work}/blocks")
    local = lab.workdir / f"{name}.om"
    local.write_text(openmetrics, encoding="utf-8")
    podman("cp", str(local), f"{lab.container(lab.monitor)}:{work}/input.om")
    lab.exec(lab.monitor, "promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
             f"{work}/input.om", f"{work}/blocks", timeout=600)  # fmt: skip
    # Bytes of the files themselves (segment files, index), not of the folders.
    files = lab.shell(
        lab.monitor, f"cd {work}/blocks && find . -type f -printf '%s %P\\n'"
    ).stdout.splitlines()
    sizes = [(int(size), path) for size, path in (line.split(" ", 1) for line in files)]
    return {
        "blocks": len({path.split("/")[0] for _, path in sizes if path.endswith("/meta.json")}),
        "chunks": sum(size for size, path in sizes if "/chunks/" in path),
        "index": sum(size for size, path in sizes if path.endswith("/index")),
    }


# --------------------------------------------------------------------------- run
def measure(lab: SiteLab, args) -> dict:
    servers = list(lab.servers)
    if not lab.wait_for(lambda: lab.targets_up(NODE_JOB), timeout=120):
        raise LabError(f"not every {NODE_JOB} target is up after 120 s")
    say(f"targets up; settling {args.settle} s before the {args.window} s window")
    time.sleep(args.settle)
    scrape = lab.api(f"{PROMETHEUS}/api/v1/status/config")["data"]["yaml"]
    interval = int(re.search(r"scrape_interval: (\d+)s", scrape).group(1))

    exporters = [Exporter(lab, host) for host in servers]
    t0 = time.time()
    cpu0 = [e.read()[0] for e in exporters]
    wal0 = monitor_du(lab, f"{TSDB}/wal")
    appended0 = scalar(lab, "prometheus_tsdb_head_samples_appended_total")
    while time.time() - t0 < args.window:
        time.sleep(min(interval, max(0.0, args.window - (time.time() - t0))))
        for exporter in exporters:
            exporter.read()
    t1 = time.time()
    cpu1 = [e.read()[0] for e in exporters]
    wal1 = monitor_du(lab, f"{TSDB}/wal")
    appended1 = scalar(lab, "prometheus_tsdb_head_samples_appended_total")
    elapsed = t1 - t0
    per_scrape = {
        r["metric"]["instance"]: float(r["value"][1])
        for r in lab.query(f'scrape_samples_post_metric_relabeling{{job="{NODE_JOB}"}}')
    }

    say("compacting the window's samples into TSDB blocks with promtool")
    # A copy: promtool reads the head from the WAL without disturbing the live Prometheus.
    lab.shell(lab.monitor, f"rm -rf /tmp/footprint-db && cp -a {TSDB} /tmp/footprint-db")
    dump = lab.exec(lab.monitor, "promtool", "tsdb", "dump",
                    f"--min-time={int(t0 * 1000)}", f"--max-time={int(t1 * 1000)}",
                    "/tmp/footprint-db", timeout=600).stdout  # fmt: skip
    wanted = {f'instance="{host}"' for host in servers}

    def server_series(labels: str) -> bool:
        return f'job="{NODE_JOB}"' in labels and any(w in labels for w in wanted)

    # The window and its first half: the difference is what one more sample costs once a
    # chunk is open, without the cost of opening it.
    middle = int((t0 + elapsed / 2) * 1000)
    shift = 1000 - int(t0 * 1000) % BLOCK_MS
    store = {}
    for part, keep in (("servers", server_series), ("all", lambda labels: True)):
        for half, until in (("", None), ("_half", middle)):
            text, samples, series = to_openmetrics(dump, keep, shift, until)
            store[part + half] = dict(build_blocks(lab, text, part + half), samples=samples,
                                      series=len(series))  # fmt: skip

    return {
        "servers": servers,
        "window_s": round(elapsed, 1),
        "scrape_interval_s": interval,
        "exporter": {
            host: {
                "rss_kib": {
                    "min": min(e.rss_kib),
                    "mean": round(statistics.mean(e.rss_kib)),
                    "max": max(e.rss_kib),
                    "samples": len(e.rss_kib),
                },
                "cpu_seconds": round(c1 - c0, 3),
                "cpu_percent_of_one_core": round(100 * (c1 - c0) / elapsed, 3),
            }
            for host, e, c0, c1 in zip(servers, exporters, cpu0, cpu1, strict=True)
        },
        "samples_per_scrape": per_scrape,
        "wal_growth_bytes": wal1 - wal0,
        "head_samples_appended": appended1 - appended0,
        "store": store,
    }


def cost(full: dict, half: dict, window: float) -> dict:
    """Bytes per day of a set of series, from its blocks over the window and its first half."""
    marginal = (full["chunks"] - half["chunks"]) / (full["samples"] - half["samples"])
    opening = (half["chunks"] - marginal * half["samples"]) / full["series"]
    samples_day = full["samples"] * DAY / window
    # One chunk opened per series every SAMPLES_PER_CHUNK samples.
    per_sample = marginal + opening / SAMPLES_PER_CHUNK
    return {
        "marginal": marginal,
        "opening": opening,
        "average": full["chunks"] / full["samples"],
        "samples_day": samples_day,
        "day": samples_day * per_sample,
        "per_sample": per_sample,
    }


def summarise(m: dict, retention_days: int) -> str:
    n = len(m["servers"])
    w = m["window_s"]
    store = m["store"]
    lines = [f"PreventCare Monitor footprint: {n} Linux server(s) scraped every "
             f"{m['scrape_interval_s']} s, window {w:.0f} s"]  # fmt: skip
    lines.append("\nnode exporter on each server (RSS sampled every scrape interval):")
    for host, e in m["exporter"].items():
        rss = e["rss_kib"]
        lines.append(
            f"  {host}: RSS min/mean/max {rss['min'] / 1024:.1f} / {rss['mean'] / 1024:.1f} / "
            f"{rss['max'] / 1024:.1f} MiB ({rss['samples']} samples); CPU {e['cpu_seconds']:.2f} s "
            f"in {w:.0f} s = {e['cpu_percent_of_one_core']:.3f} % of one core"
        )
    servers = cost(store["servers"], store["servers_half"], w)
    full = store["servers"]
    per_scrape = ", ".join(f"{m['samples_per_scrape'].get(h, math.nan):.0f}" for h in m["servers"])
    lines += [
        "\nmonitor host disk, per server (its node exporter's series only):",
        f"  samples per scrape: {per_scrape}; {full['series'] / n:.0f} series per server",
        f"  blocks of the window: {full['samples']} samples, chunks {full['chunks']} B "
        f"({servers['average']:.2f} B/sample), index {full['index']} B; "
        f"first half: {store['servers_half']['samples']} samples, "
        f"chunks {store['servers_half']['chunks']} B",
        f"  a sample in an open chunk: {servers['marginal']:.2f} B; opening a chunk: "
        f"{servers['opening']:.0f} B per series, every {SAMPLES_PER_CHUNK} samples "
        f"-> {servers['per_sample']:.2f} B/sample",
        f"  per server per day of retention: {servers['samples_day'] / n:.0f} samples x "
        f"{servers['per_sample']:.2f} B = {servers['day'] / n / 1e6:.1f} MB "
        f"(+ {full['index'] / n / 1e3:.0f} kB of index per block)",
        f"  for a retention of {retention_days} d: "
        f"{servers['day'] / n * retention_days / 1e6:.0f} MB per server",
    ]
    everything = cost(store["all"], store["all_half"], w)
    site = everything["day"] - servers["day"]
    lines += [
        "\nmonitor host disk, everything stored (all jobs: servers, the monitor's own exporter, "
        "the stack, probes):",
        f"  {store['all']['series']} series, {store['all']['samples']} samples in the window "
        f"(Prometheus counted {m['head_samples_appended']:.0f} appended), "
        f"{everything['day'] / 1e6:.1f} MB per day; "
        f"without the {n} server(s): {site / 1e6:.1f} MB per day",
        f"  WAL growth: {m['wal_growth_bytes']} B in {w:.0f} s "
        f"({m['wal_growth_bytes'] * DAY / w / 1e6:.0f} MB of WAL writes per day; the WAL keeps "
        "about the last 2 to 3 hours, it is not retained)",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("run as root: the test hosts are rootful podman containers")
    servers = tuple(f"srv-lin{i:02d}" for i in range(1, args.servers + 1))
    workdir = Path(tempfile.mkdtemp(prefix="preventcare-footprint."))
    lab = SiteLab(workdir, prefix="preventcare-fp", subnet_prefix="10.89.212", servers=servers)
    sink = MailSink().start()

    def edit(contract):
        contract["smtp_relay"] = {"host": HOST_FROM_CONTAINERS, "port": sink.port, "tls": "none",
                                  "sender": contract["smtp_relay"]["sender"]}  # fmt: skip

    try:
        if not args.reuse:
            say(f"starting a monitor host and {args.servers} server(s); converging site_day.yml")
            lab.start()
            lab.write_inventory(edit)
            lab.converge()
        result = measure(lab, args)
    except LabError as exc:
        say(f"measurement failed: {exc}")
        return 1
    finally:
        sink.stop()
        if not args.keep:
            lab.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    contract = yaml.safe_load((EXAMPLE / "group_vars" / "all" / "preventcare.yml").read_text())
    retention = contract["preventcare"].get("monitoring", {}).get("retention")
    if retention:
        days = int(re.fullmatch(r"(\d+)d", retention).group(1))
    else:  # monitor_site's default: the gap between two visits for these servers, plus 30 days
        days = days_between_visits(len(servers)) + 30
    say("\n" + summarise(result, days))
    say("\nraw figures: " + json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
