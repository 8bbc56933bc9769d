"""Fault injection for the crash tests: a workbench command in a child process, SIGKILLed at an exact commit point.

A commit point is a call that makes a write visible: `os.replace`, `os.rename` or the swap of
two folders (`workbench.fileio.exchange_paths`), on a path inside the test's workspace. Run as a
script, `python tests/killpoints.py ARGS...` hooks those calls in its own process and then runs
`workbench ARGS...`:

- with FAULTS_TRACE=FILE it appends each commit point to FILE, one JSON line each;
- with FAULTS_STOP=N:before (or N:after) it stops itself (SIGSTOP) just before (after) the N-th
  point, counted from 1; the test waits for the stop, then SIGKILLs the child's whole process
  group (Dask's workers too), as `kill -9` or the OOM killer would. No timing is involved.

The parent's side: `trace` and `kill_at`, and `tree`, what a workspace holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Hidden temp files and staging folders (workbench.fileio's names): what a killed run may leave.
HIDDEN = re.compile(r"\..+\.\d+@[0-9a-f]{8}\.[^.]+\.(tmp|old)")


@dataclass(frozen=True)
class Point:
    index: int
    op: str
    src: str
    dst: str


def _child_env(workspace: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTS_")}
    # SOURCE_DATE_EPOCH: a report's date, so that two runs write the same bytes.
    return {**env, "FAULTS_ROOT": str(workspace), "SOURCE_DATE_EPOCH": "0", **extra}


def _command(args: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def trace(args: list[str], workspace: Path, trace_file: Path) -> tuple[list[Point], str]:
    """Run the command to the end; its commit points and its output."""
    trace_file.unlink(missing_ok=True)
    done = subprocess.run(_command(args), cwd=workspace, env=_child_env(workspace, FAULTS_TRACE=str(trace_file)),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = trace_file.read_text().splitlines() if trace_file.exists() else []
    return [Point(**json.loads(line)) for line in lines], done.stdout + done.stderr


def kill_at(args: list[str], workspace: Path, index: int, when: str, log: Path, sig: int = signal.SIGKILL) -> tuple[int, str]:
    """Run the command until just `when` ("before"/"after") its commit point `index`, then send it `sig`:
    SIGKILL to it and its children; SIGINT (Ctrl-C) to it alone, which then goes on to handle it.
    Its exit status and output."""
    with open(log, "w") as out:
        # SIGINT's default handler, as at a terminal: a background job (CI's runner) may inherit it ignored.
        proc = subprocess.Popen(_command(args), cwd=workspace, env=_child_env(workspace, FAULTS_STOP=f"{index}:{when}"),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            _, status = os.waitpid(proc.pid, os.WUNTRACED)
            assert os.WIFSTOPPED(status), f"the run ended (status {status}) before commit point {index}: {log.read_text()}"
            if sig == signal.SIGKILL:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                os.kill(proc.pid, sig)
                os.kill(proc.pid, signal.SIGCONT)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
    return proc.returncode, log.read_text()


def tree(root: Path) -> dict[str, str]:
    """Every visible file under root (relative path -> sha256); hidden staging leftovers are not part of any state."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(HIDDEN.fullmatch(part) for part in rel.parts):
            files[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if HIDDEN.fullmatch(p.name))


def part(files: dict[str, str], unit: str) -> dict[str, str]:
    """The files of one unit (a file, or a folder and everything in it)."""
    return {k: v for k, v in files.items() if k == unit or k.startswith(unit.rstrip("/") + "/")}


def _install(stop: str | None, trace_file: str | None, root: Path) -> None:
    import workbench.fileio as fileio

    count = 0
    stop_at = (int(stop.split(":")[0]), stop.split(":")[1]) if stop else None

    def hooked(name, real):
        def call(src, dst, *args, **kwargs):
            nonlocal count
            inside = os.path.realpath(dst).startswith(str(root) + os.sep)
            if not inside:
                return real(src, dst, *args, **kwargs)
            count += 1
            if trace_file:
                with open(trace_file, "a") as fh:
                    fh.write(json.dumps({"index": count, "op": name, "src": str(src), "dst": str(dst)}) + "\n")
            if stop_at == (count, "before"):
                os.kill(os.getpid(), signal.SIGSTOP)
            result = real(src, dst, *args, **kwargs)
            if stop_at == (count, "after"):
                os.kill(os.getpid(), signal.SIGSTOP)
            return result

        return call

    os.replace = hooked("replace", os.replace)
    os.rename = hooked("rename", os.rename)
    if hasattr(fileio, "exchange_paths"):  # so that the harness also runs against code from before it
        fileio.exchange_paths = hooked("exchange", fileio.exchange_paths)


if __name__ == "__main__":
    _install(os.environ.get("FAULTS_STOP"), os.environ.get("FAULTS_TRACE"), Path(os.environ["FAULTS_ROOT"]).resolve())
    from workbench.cli import app

    app(sys.argv[1:], prog_name="workbench")
