"""PRE-08: administrator-level access (root after become; Administrators, elevated)."""

from __future__ import annotations

from ansible.module_utils.preventcare_platforms import evidence_reader
from ansible.module_utils.preventcare_verdict import Judge


def check_admin_access(host, evidence, *, platform, lang, become_error=None):
    """PRE-08: Linux euid 0 after become; Windows: Administrators with a high-integrity token."""
    judge = Judge.of("prerequisites", host, "PRE-08", "admin_access", lang)
    access = evidence_reader(platform).admin_access(evidence, become_error)
    status = "PASS" if access["admin"] else "FAIL"
    return judge.verdict(status, access["key"], access["shown"], **access["values"])
