"""The Linux backup manager (the booklet's CPIO+TAR "gestionnaire Linux", MON-BK-02/03).

Standard library only: copied to /usr/local/lib/preventcare/ by the backup_manager role and
run by its systemd service (`preventcare-backup run JOB`), beside preventcare_sensors.py.
One run:
  lock (no overlapping runs) -> write the archive with GNU tar or cpio into a temporary
  file on the destination -> verify it by reading it back -> rename it -> rotate by
  retention -> write the textfile metrics (status, start, end, bytes, files) -> mail the
  result through the local MTA (the satellite Postfix of os_baseline).
SIGTERM (systemctl stop, shutdown) ends the run as `cancelled`: the archiver is stopped, the
partial file removed, the metrics written. A tape destination (a character device) is
written in place and verified by listing it; it is not rotated (the client changes tapes).

`preventcare-backup restore JOB --target DIR [--archive FILE]` extracts the newest (or a
given) archive under DIR: the documented restore procedure (docs/backup-restore.md).
The status names and codes come from data/thresholds.yml, written into the job's settings.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time

try:  # on the controller (tests), as the plugins import shared code
    from ansible.module_utils.preventcare_sensors import render_textfile, write_atomically
except ImportError:  # on the server: a script beside preventcare_sensors.py, no Ansible there
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from preventcare_sensors import render_textfile, write_atomically

ARCHIVE = re.compile(
    r"^(?P<job>[a-z0-9][a-z0-9_-]*)-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>tar\.gz|cpio\.gz)$"
)
EXIT = {"success": 0, "incomplete": 0, "cancelled": 0, "failed": 1}


class Cancelled(Exception):
    """SIGTERM arrived during the run."""


# --------------------------------------------------------------------------- pure logic
def classify_tar(returncode: int, stderr: str) -> str:
    """GNU tar's exit status (tar(1) RETURN VALUE): 0 ok; 1 "some files differ" (changed while
    read); 2 fatal. A run that only skipped unreadable files is incomplete, not failed."""
    if returncode == 0:
        return "success"
    if returncode == 1:
        return "incomplete"
    problems = [
        line
        for line in stderr.splitlines()
        if line.strip() and "Exiting with failure status" not in line
    ]
    skipped = [
        line for line in problems if re.search(r"Cannot (open|stat|read)|Permission denied", line)
    ]
    if problems and len(skipped) == len(problems):
        return "incomplete"
    return "failed"


def classify_cpio(find_rc: int, cpio_rc: int, stderr: str) -> str:
    """cpio -o returns non-zero when it could not read a file it was given; find 1 when a
    folder could not be entered: both leave an archive without those files (incomplete)."""
    if cpio_rc == 0 and find_rc == 0:
        return "success"
    unreadable = re.search(r"Cannot (open|stat)|Permission denied", stderr)
    return "incomplete" if unreadable else "failed"


def archive_name(job: str, when: datetime.datetime, archiver: str) -> str:
    ext = "tar.gz" if archiver == "tar" else "cpio.gz"
    return f"{job}-{when.strftime('%Y%m%dT%H%M%SZ')}.{ext}"


def to_rotate(names: list[str], job: str, now: datetime.datetime, retention_days: int) -> list:
    """Archives of `job` older than the retention; the newest archive is always kept."""
    mine = []
    for name in names:
        match = ARCHIVE.match(name)
        if match and match["job"] == job:
            stamp = datetime.datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.UTC
            )
            mine.append((stamp, name))
    mine.sort()
    limit = now - datetime.timedelta(days=retention_days)
    return [name for stamp, name in mine[:-1] if stamp < limit]


def backup_samples(job: dict, status: str, start: float, end: float, *, size: int, files: int):
    labels = {"backup_job": job["name"], "software": job.get("software", "cpio_tar")}
    code = int(job["codes"][status])
    return [
        ("preventcare_backup_last_status", labels, float(code)),
        ("preventcare_backup_last_start_timestamp_seconds", labels, float(start)),
        ("preventcare_backup_last_end_timestamp_seconds", labels, float(end)),
        ("preventcare_backup_last_size_bytes", labels, float(size)),
        ("preventcare_backup_last_files", labels, float(files)),
    ]


def tar_create_command(job: dict, output: str) -> list[str]:
    command = ["tar", "--create", "--gzip", "--file", output, "--absolute-names"]
    command += ["--warning=no-file-changed"] if job.get("ignore_changed") else []
    for pattern in job.get("exclude", []):
        command += ["--exclude", pattern]
    return command + list(job["paths"])


def find_command(job: dict) -> list[str]:
    command = ["find", *job["paths"], "-xdev"]
    for pattern in job.get("exclude", []):
        command += ["(", "-path", pattern, "-prune", ")", "-o"]
    return [*command, "-print0"]


# --------------------------------------------------------------------------- run
class Runner:
    def __init__(self, job: dict):
        self.job = job
        self.children: list[subprocess.Popen] = []
        self.cancelled = False
        self.partial: str | None = None  # the file being written, removed when the run fails

    def _on_term(self, _signum, _frame):
        self.cancelled = True
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        raise Cancelled()

    def run(self) -> str:
        job = self.job
        lock_path = os.path.join(
            job.get("lock_dir", "/run/lock"), f"preventcare-backup-{job['name']}.lock"
        )
        lock = open(lock_path, "w")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"<3>backup {job['name']}: another run holds {lock_path}; this one stops")
            return "locked"
        signal.signal(signal.SIGTERM, self._on_term)
        start = time.time()
        status, size, files, detail = "failed", 0, 0, ""
        try:
            status, size, files, detail = self._write_and_verify(start)
        except Cancelled:
            status, detail = "cancelled", "stopped (SIGTERM) before the end"
        except OSError as exc:
            status, detail = "failed", f"{exc.strerror or exc}: {exc.filename or ''}".strip()
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for child in self.children:
                if child.poll() is None:
                    child.kill()
                child.wait()
            partial = self.partial
            if status in ("cancelled", "failed") and partial and os.path.isfile(partial):
                os.unlink(partial)
        end = time.time()
        self._metrics(status, start, end, size=size, files=files)
        level = "<6>" if status == "success" else "<4>" if status == "incomplete" else "<3>"
        print(
            f"{level}backup {job['name']}: {status}; {files} files, {size} bytes. {detail}".strip()
        )
        self._mail(status, start, end, size=size, files=files, detail=detail)
        return status

    def _spawn(self, command, **kwargs):
        child = subprocess.Popen(command, env=dict(os.environ, LANG="C", LC_ALL="C"), **kwargs)
        self.children.append(child)
        return child

    def _write_and_verify(self, start):
        job = self.job
        destination = job["destination"]
        info = os.stat(destination)  # raises when the destination is gone (failed, clear text)
        tape = stat.S_ISCHR(info.st_mode)
        when = datetime.datetime.fromtimestamp(start, datetime.UTC)
        if tape:
            target = partial = destination
        else:
            if not os.access(destination, os.W_OK):
                raise PermissionError(13, "destination is not writable", destination)
            name = archive_name(job["name"], when, job["archiver"])
            target = os.path.join(destination, name)
            partial = os.path.join(destination, f".partial-{name}")
            self.partial = partial
        status, stderr = self._write(partial)
        if self.cancelled:
            raise Cancelled()
        if status == "failed":
            return status, 0, 0, stderr.strip()[-400:]
        files, verify_error = self._verify(partial)
        if verify_error:
            return "failed", 0, 0, f"verification failed: {verify_error}"
        if not tape:
            os.replace(partial, target)
            self.partial = None
            self._rotate(when)
        size = os.path.getsize(target) if not tape else 0
        return status, size, files, stderr.strip()[-400:]

    def _write(self, output):
        job = self.job
        if job["archiver"] == "tar":
            child = self._spawn(tar_create_command(job, output), stderr=subprocess.PIPE, text=True)
            _out, err = child.communicate()
            return classify_tar(child.returncode, err), err
        with open(output, "wb") as sink:
            find = self._spawn(find_command(job), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            cpio = self._spawn(
                ["cpio", "--create", "--null", "--format=newc", "--quiet"],
                stdin=find.stdout,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            gzip = self._spawn(["gzip", "-c"], stdin=cpio.stdout, stdout=sink)
            find.stdout.close()
            cpio.stdout.close()
            cpio_err = cpio.stderr.read().decode(errors="replace")
            find_err = find.stderr.read().decode(errors="replace")
            gzip.wait()
            cpio.wait()
            find.wait()
        err = find_err + cpio_err
        if gzip.returncode != 0:
            return "failed", err
        return classify_cpio(find.returncode, cpio.returncode, err), err

    def _verify(self, path):
        """Read the whole archive back; (number of entries, error text or '')."""
        if self.job["archiver"] == "tar":
            command = ["tar", "--list", "--gzip", "--file", path]
        else:
            command = ["sh", "-c", 'gzip -dc -- "$1" | cpio --list --quiet', "verify", path]
        child = self._spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = child.communicate()
        if child.returncode != 0:
            return 0, err.strip()[-300:] or f"exit status {child.returncode}"
        return len([line for line in out.splitlines() if line and not line.endswith("/")]), ""

    def _rotate(self, now):
        destination = self.job["destination"]
        for name in to_rotate(
            os.listdir(destination), self.job["name"], now, self.job["retention_days"]
        ):
            os.unlink(os.path.join(destination, name))

    def _metrics(self, status, start, end, *, size, files):
        job = self.job
        text = render_textfile(
            backup_samples(job, status, start, end, size=size, files=files), job.get("metrics", {})
        )
        write_atomically(
            os.path.join(job["textfile_dir"], f"preventcare_backup_{job['name']}.prom"), text
        )

    def _mail(self, status, start, end, *, size, files, detail):
        job = self.job
        if not job.get("mail_to"):
            return
        host = socket.getfqdn()
        words = job.get("words", {}).get(status, status)
        subject = f"[PreventCare] {host} backup {job['name']}: {words}"
        body = "\n".join(
            [
                f"Server: {host}",
                f"Backup job: {job['name']} ({job['archiver']} -> {job['destination']})",
                f"Status: {status} (code {job['codes'][status]})",
                "Start: " + datetime.datetime.fromtimestamp(start, datetime.UTC).isoformat(),
                "End: " + datetime.datetime.fromtimestamp(end, datetime.UTC).isoformat(),
                f"Files: {files}",
                f"Bytes: {size}",
                f"Detail: {detail or '-'}",
                "",
            ]
        )
        message = (
            f"To: {job['mail_to']}\nSubject: {subject}\nAuto-Submitted: auto-generated\n\n{body}"
        )
        try:
            subprocess.run(
                [job.get("sendmail", "/usr/sbin/sendmail"), "-t", "-oi"],
                input=message.encode(),
                timeout=60,
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(
                f"<4>backup {job['name']}: the result mail could not be handed to sendmail ({exc})"
            )


# --------------------------------------------------------------------------- restore
def newest_archive(job: dict) -> str | None:
    names = sorted(
        n
        for n in os.listdir(job["destination"])
        if (m := ARCHIVE.match(n)) and m["job"] == job["name"]
    )
    return os.path.join(job["destination"], names[-1]) if names else None


def restore(job: dict, target: str, archive: str | None = None, only=()) -> int:
    """Extract `archive` (default: the newest of the job) under `target`; `only` limits it
    to some saved paths (e.g. /srv/compta) and everything below them."""
    archive = archive or (
        job["destination"]
        if stat.S_ISCHR(os.stat(job["destination"]).st_mode)
        else newest_archive(job)
    )
    if not archive:
        print(
            f"preventcare-backup: no archive of {job['name']} in {job['destination']}",
            file=sys.stderr,
        )
        return 1
    os.makedirs(target, exist_ok=True)
    if job["archiver"] == "tar":
        # Archives hold absolute names; --absolute-names is not given, so tar strips the
        # leading / and everything lands under the target folder.
        # Names are stored absolute (--absolute-names): the members are named the same way.
        members = ["/" + path.strip("/") for path in only]
        command = ["tar", "--extract", "--gzip", "--file", archive, "--directory", target,
                   "--same-permissions", "--same-owner", *members]  # fmt: skip
    else:
        quoted = shlex.quote(archive)
        patterns = " ".join(
            shlex.quote(p)
            for path in only
            for p in ("/" + path.strip("/"), "/" + path.strip("/") + "/*")
        )
        script = (
            f"gzip -dc -- {quoted} | cpio --extract --make-directories "
            f"--preserve-modification-time --no-absolute-filenames --quiet {patterns}"
        )
        command = ["sh", "-c", script]
    done = subprocess.run(command, cwd=target, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(
            f"preventcare-backup: restore of {archive} failed: {done.stderr.strip()}",
            file=sys.stderr,
        )
        return 1
    print(f"restored {archive} under {target}")
    return 0


def load_job(config_dir: str, name: str) -> dict:
    path = os.path.join(config_dir, f"{name}.json")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise SystemExit(
            f"preventcare-backup: cannot read the job settings {path}: {exc}"
        ) from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="preventcare-backup")
    parser.add_argument("--config-dir", default="/etc/preventcare/backup")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run one backup job now")
    run_parser.add_argument("job")
    restore_parser = sub.add_parser("restore", help="extract an archive of a job under a folder")
    restore_parser.add_argument("job")
    restore_parser.add_argument("--target", required=True)
    restore_parser.add_argument("--archive")
    restore_parser.add_argument(
        "--only", action="append", default=[], metavar="PATH", help="restore only this saved path"
    )
    args = parser.parse_args(argv)
    job = load_job(args.config_dir, args.job)
    if args.command == "restore":
        return restore(job, args.target, args.archive, args.only)
    status = Runner(job).run()
    return 75 if status == "locked" else EXIT.get(status, 1)


if __name__ == "__main__":
    sys.exit(main())
