#!/usr/bin/env python3
"""Measure what one monitored Linux server costs on the monitor's disk (docs/footprint.md).

A second, independent method beside scripts/measure-footprint.py: the figures come from
Prometheus's own TSDB metrics after a real run, not from blocks rebuilt with promtool.

1. Starts one systemd container of the sensors image (a server with the set-up day's packages)
   and runs its node exporter with the production collectors (roles/monitor_agent defaults).
2. Starts this machine's Prometheus (Debian's 2.42) scraping it every 15 s, with 30-minute
   blocks (`--storage.tsdb.min-block-duration`, a hidden flag): the head is compacted into a
   block after 45 min instead of 3 h. At 15 s a chunk holds 120 samples (30 min), as on a live
   server, so a 30-minute block has the chunks of a production block.
3. Once the first block is written, reads from Prometheus itself (its /metrics page, and
   `scrape_samples_scraped` from its API): the series of the server, the samples appended per
   second (`prometheus_tsdb_head_samples_appended_total` over the run), the bytes per sample
   of the compacted chunks (`prometheus_tsdb_compaction_chunk_size_bytes_sum / ..._chunk_
   samples_sum`) and the block's size on disk (`prometheus_tsdb_storage_blocks_bytes`,
   chunks + index + meta; `prometheus_tsdb_blocks_loaded`).

Run as root from the project folder: .venv/bin/python scripts/measure-tsdb-bytes.py
(about 50 minutes; `--block 30m`). Prints a summary and the raw figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "containers" / "containers.conf"))

from podman_lab import build_image, podman  # noqa: E402

IMAGE = "localhost/preventcare-sensors:test"
IMAGE_SCRIPT = ROOT / "tests" / "containers" / "sensors" / "build-image.sh"
NAME = "pca-fp-node"
NETWORK = "pca-fp"
SUBNET = "10.89.67.128/25"
ADDRESS = "10.89.67.140"
PORT = 19467
# roles/monitor_agent/defaults/main.yml: monitor_agent_collectors and the textfile folder.
NODE_ARGS = (
    f"--web.listen-address={ADDRESS}:9100 --collector.textfile.directory="
    "/var/lib/prometheus/node-exporter --collector.mdadm --collector.hwmon "
    "--collector.powersupplyclass --collector.tapestats --collector.netclass "
    "--collector.systemd --collector.textfile"
)


def say(text):
    print(text, flush=True)


def query(expr):
    url = f"http://127.0.0.1:{PORT}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as answer:
        result = json.load(answer)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def own_metrics():
    """Prometheus's own metrics, read from its /metrics page (it does not scrape itself here).

    {name: value}, values of one name summed over its label sets.
    """
    url = f"http://127.0.0.1:{PORT}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        if not line.startswith("prometheus_tsdb_"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        values[name] = values.get(name, 0.0) + float(value)
    return values


def figures(appended_before, seconds):
    """What one server costs, from Prometheus's own TSDB metrics once a block is written."""
    tsdb = own_metrics()
    found = {
        "series": query('scrape_samples_scraped{job="preventcare-node"}'),
        "head_series": tsdb["prometheus_tsdb_head_series"],
        "samples_per_s": (tsdb["prometheus_tsdb_head_samples_appended_total"] - appended_before)
        / seconds,
        "chunk_bytes": tsdb["prometheus_tsdb_compaction_chunk_size_bytes_sum"],
        "chunk_samples": tsdb["prometheus_tsdb_compaction_chunk_samples_sum"],
        "chunks": tsdb["prometheus_tsdb_compaction_chunk_samples_count"],
        "block_bytes": tsdb["prometheus_tsdb_storage_blocks_bytes"],
        "blocks": tsdb["prometheus_tsdb_blocks_loaded"],
    }
    per_sample = found["chunk_bytes"] / found["chunk_samples"]
    block_per_sample = found["block_bytes"] / found["chunk_samples"]
    found.update(
        bytes_per_sample_chunks=per_sample,
        bytes_per_sample_block=block_per_sample,
        server_bytes_per_day=found["samples_per_s"] * 86400 * block_per_sample,
    )
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block", default="30m", help="TSDB block range (30m)")
    parser.add_argument("--timeout", type=int, default=4200, help="seconds to wait for a block")
    args = parser.parse_args(argv)
    build_image(IMAGE_SCRIPT)
    podman("rm", "-f", "-t", "0", "--ignore", NAME, check=False)
    if podman("network", "exists", NETWORK, check=False).returncode == 0:
        podman("network", "rm", "-f", NETWORK, check=False)
    podman("network", "create", "--subnet", SUBNET, NETWORK)
    work = Path(tempfile.mkdtemp(prefix="pca-tsdb."))
    prometheus = None
    try:
        podman("run", "-d", "--name", NAME, "--network", NETWORK, "--ip", ADDRESS,
               "--systemd=always", IMAGE, "/sbin/init")  # fmt: skip
        podman("exec", NAME, "systemctl", "is-system-running", "--wait", check=False, timeout=90)
        podman("exec", NAME, "sh", "-c",
               f"echo 'ARGS=\"{NODE_ARGS}\"' > /etc/default/prometheus-node-exporter"
               " && systemctl restart prometheus-node-exporter")  # fmt: skip
        (work / "prometheus.yml").write_text(
            "global: {scrape_interval: 15s, scrape_timeout: 10s}\n"
            "scrape_configs:\n"
            "  - job_name: preventcare-node\n"
            f"    static_configs: [{{targets: ['{ADDRESS}:9100'], labels: {{instance: srv}}}}]\n",
            encoding="utf-8",
        )
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{PORT}",
             f"--storage.tsdb.min-block-duration={args.block}",
             f"--storage.tsdb.max-block-duration={args.block}"],
            stdout=subprocess.DEVNULL, stderr=(work / "prometheus.log").open("w"),
        )  # fmt: skip
        started = time.time()
        say(f"Prometheus scraping {NAME}; waiting for the first {args.block} block")
        appended = None
        while time.time() - started < args.timeout:
            time.sleep(30)
            try:
                tsdb = own_metrics()
            except OSError:
                continue
            if appended is None:  # the first reading: samples are counted from here
                appended, counted_from = (
                    tsdb["prometheus_tsdb_head_samples_appended_total"],
                    time.time(),
                )
            if tsdb["prometheus_tsdb_compactions_total"] >= 1:
                break
        else:
            say("no block was written in time")
            return 1
        time.sleep(20)  # the loaded blocks' sizes are refreshed after the compaction
        figures_ = figures(appended, time.time() - counted_from)
        figures_["elapsed_s"] = round(time.time() - started)
        say(
            f"one server: {figures_['series']:.0f} series scraped every 15 s; Prometheus "
            f"appended {figures_['samples_per_s']:.1f} samples/s\n"
            f"first block: {figures_['chunk_samples']:.0f} samples in {figures_['chunks']:.0f} "
            f"chunks, {figures_['chunk_bytes']:.0f} B of chunks "
            f"({figures_['bytes_per_sample_chunks']:.3f} B/sample), "
            f"{figures_['block_bytes']:.0f} B "
            f"on disk with index ({figures_['bytes_per_sample_block']:.3f} B/sample)\n"
            f"one server per day: {figures_['server_bytes_per_day'] / 1e6:.2f} MB"
        )
        say("raw figures: " + json.dumps(figures_, sort_keys=True))
        return 0
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        podman("rm", "-f", "-t", "0", "--ignore", NAME, check=False)
        podman("network", "rm", "-f", NETWORK, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
