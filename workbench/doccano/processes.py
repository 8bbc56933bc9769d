"""Processes we start and must stop again: recorded by pid and start time, so that a reused pid is never signalled.

A state file (JSON) lists {"name", "pid", "start_ticks"} for each process;
`stop_recorded` signals exactly those, and after a grace period kills what is
left of their process groups (each was started as the leader of its own).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

HOST = "127.0.0.1"


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (None if it is gone): with the pid, it names one process, never a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return None
    return int(fields[19])


def process_record(name: str, pid: int, tries: int = 50) -> dict:
    for _ in range(tries):
        ticks = start_ticks(pid)
        if ticks is not None:
            break
        time.sleep(0.01)
    return {"name": name, "pid": pid, "start_ticks": ticks}


def alive(proc: dict) -> bool:
    return proc.get("start_ticks") is not None and start_ticks(proc["pid"]) == proc["start_ticks"]


def read_state(state_file: Path) -> dict | None:
    try:
        return json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stop_recorded(state_file: Path, sig: int = signal.SIGTERM, grace: float = 30.0) -> list[int]:
    """Stop exactly the processes recorded in state_file, and their children; return the pids that were running.

    `sig` goes to the recorded processes only (gunicorn, celery and PostgreSQL
    then stop their own workers; a celery worker signalled directly hangs its
    parent's warm shutdown). Whatever is left of their process groups after
    `grace` is killed. The state file is removed.
    """
    state = read_state(state_file)
    if not state:
        return []
    running = [p for p in state.get("processes", []) if alive(p)]
    for proc in running:
        _signal(proc["pid"], sig)
    deadline = time.monotonic() + grace
    while any(alive(p) for p in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for proc in running:
        # The recorded pid leads its own process group (a session of its own), so the
        # group holds that process and the workers it forked, nothing else.
        if alive(proc) or _group_exists(proc["pid"]):
            _signal(proc["pid"], signal.SIGKILL, group=True)
    state_file.unlink(missing_ok=True)
    return [p["pid"] for p in running]


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal(pid: int, sig: int, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except ProcessLookupError:
        pass
