"""Names for temporary files and directories that say which process made them, so that a later run
can remove those a dead process left behind.

A process killed outright (``kill -9``, an out-of-memory kill, power loss) cannot clean up: its spilled
counts (``cooc-runs-*`` directories) and its half-written model files (``.cooc-tmp-*.tmp``) stay. Each
of them carries an owner tag, ``<pid>@<host>``, where ``<host>`` is the host name and, on Linux, the
PID namespace, so a tag names one process on one machine. Before creating its own, a run removes the
entries of the same kind whose tag names *this* host and a process that no longer exists. Entries of
other hosts (a shared temporary directory), of live processes, of other users, and untagged ones are
left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
from pathlib import Path

__all__ = ["owner_tag", "remove_stale"]

logger = logging.getLogger(__name__)

_TAG = re.compile(r"(\d+)@([A-Za-z0-9._]+)-")


def _host() -> str:
    try:
        name = socket.gethostname()
    except OSError:  # pragma: no cover - no host name at all
        name = "localhost"
    with contextlib.suppress(OSError):  # containers sharing a host name have their own PID namespace
        ns = os.readlink("/proc/self/ns/pid")
        name += "." + "".join(ch for ch in ns if ch.isdigit())
    return re.sub(r"[^A-Za-z0-9.]", "_", name)


def owner_tag() -> str:
    """``<pid>@<host>``: the tag of this process, for a temporary name (no ``-`` in it)."""
    return f"{os.getpid()}@{_host()}"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never a process we could own: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process (or no way to tell): alive
        return True
    return True


def remove_stale(directory: str | os.PathLike[str], prefix: str) -> list[Path]:
    """Remove entries ``<prefix><pid>@<host>-*`` of ``directory`` left by dead processes of this host.

    Best effort: an entry that cannot be removed is logged at debug level and left. Returns what was
    removed.
    """
    removed: list[Path] = []
    host = _host()
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for name in names:
        if not name.startswith(prefix):
            continue
        m = _TAG.match(name, len(prefix))
        if m is None or m.group(2) != host or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        path = Path(directory) / name
        try:
            st = path.lstat()
            if uid is not None and st.st_uid != uid:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            logger.debug("could not remove the stale %s: %s", path, exc)
            continue
        logger.info("removed %s, left by process %s which no longer runs", path, m.group(1))
        removed.append(path)
    return removed
