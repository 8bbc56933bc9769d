"""Atomic writes: a reader never sees a half-written file or folder, and a failed or killed write loses nothing.

Every temp file and staging folder is hidden beside its target and named for the
process that made it, `.NAME.PID@HOST.XXXXXXXX.tmp`: the next writer of the same
target removes what a killed run left (its process is gone) and never what a
running one is still writing.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]
# .NAME.PID@HOST.RANDOM.tmp: a temp file or staging folder; .NAME.PID@HOST.RANDOM.old: an old folder moved aside.
_HIDDEN = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.[^.]+\.(?P<kind>tmp|old)")
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _owner() -> str:
    return f"{os.getpid()}@{_HOST}"


def _published_path(path: str | Path) -> Path:
    """Where a file written inside a staging folder will be: the staging folder's part named as its target."""
    parts = [match["name"] if (match := _HIDDEN.fullmatch(part)) else part for part in Path(path).parts]
    return Path(*parts)


@contextmanager
def write_errors(target: str | Path) -> Iterator[None]:
    """An OSError while writing `target` (a full disk, no permission) becomes one line naming it and the cause."""
    try:
        yield
    except OSError as exc:
        target = _published_path(target)
        named = exc.filename if isinstance(exc.filename, (str, os.PathLike)) else None
        where = _published_path(named) if named is not None else target
        full, inside = Path(os.path.abspath(where)), Path(os.path.abspath(target))
        if full != inside and inside not in full.parents:  # another file, one being read, say: name that one
            raise WorkbenchError(exc.strerror or str(exc), path=named) from None
        raise WorkbenchError(f"cannot write: {exc.strerror or exc}", path=where) from None


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def remove_stale(folder: str | Path, name: str | None = None) -> list[Path]:
    """Remove the temp files and staging folders in `folder` (for target `name`, or any) whose process is gone.

    A folder moved aside by a swap that was killed half-way is put back where its
    target is missing. Entries of live processes, and of other hosts, are left alone.
    """
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for entry in entries:
        match = _HIDDEN.fullmatch(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if match["host"] != _HOST or int(match["pid"]) == os.getpid() or not _pid_gone(int(match["pid"])):
            continue
        path, target = Path(entry.path), folder / match["name"]
        if match["kind"] == "old" and not os.path.lexists(target):
            os.rename(path, target)
        elif entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        log.warning("removed what a killed run left: %s", ", ".join(map(str, removed)))
    return removed


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[TextIO]:
    """Open a temp file beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    with write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_owner()}.", suffix=".tmp")
        os.close(fd)
        try:
            with open(tmp, mode, encoding=None if "b" in mode else encoding) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_json(path: str | Path, data: object) -> None:
    with atomic_open(path) as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


def jsonl_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    count = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(jsonl_line(row))
            count += 1
    return count


@functools.lru_cache(maxsize=1)
def _renameat2():
    return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux's renameat2 RENAME_EXCHANGE); False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_dir(tmp_dir: str | Path, final_dir: str | Path) -> None:
    """Move a fully written directory into place, replacing an older one: a reader sees the old one or the new one."""
    tmp_dir, final_dir = Path(tmp_dir), Path(final_dir)
    with write_errors(final_dir):
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        if not final_dir.exists():
            os.rename(tmp_dir, final_dir)
        elif exchange_paths(tmp_dir, final_dir):
            shutil.rmtree(tmp_dir, ignore_errors=True)  # it holds the old one now
        else:
            # Two renames: killed between them, the old one waits aside and remove_stale puts it back.
            aside = final_dir.with_name(f".{final_dir.name}.{_owner()}.{secrets.token_hex(4)}.old")
            os.rename(final_dir, aside)
            os.rename(tmp_dir, final_dir)
            shutil.rmtree(aside, ignore_errors=True)


def staging_dir(final_dir: str | Path) -> Path:
    """A fresh empty directory beside `final_dir`, to be moved into place by replace_dir."""
    final_dir = Path(final_dir)
    with write_errors(final_dir):
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(final_dir.parent, final_dir.name)
        return Path(tempfile.mkdtemp(dir=final_dir.parent, prefix=f".{final_dir.name}.{_owner()}.", suffix=".tmp"))


@contextmanager
def staged_dir(final_dir: str | Path) -> Iterator[Path]:
    """Write the block's files into a staging folder that replaces `final_dir` if the block succeeds, else is removed."""
    stage = staging_dir(final_dir)
    try:
        with write_errors(final_dir):
            yield stage
        replace_dir(stage, final_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def remove_dir(folder: str | Path) -> None:
    """Delete a folder so that a kill half-way leaves a hidden leftover (removed by the next writer), not a partial folder."""
    folder = Path(folder)
    doomed = folder.with_name(f".{folder.name}.{_owner()}.{secrets.token_hex(4)}.tmp")
    os.rename(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def check_replaceable(folder: str | Path, owned: Callable[[os.DirEntry], bool], what: str) -> None:
    """Refuse to replace a folder holding anything but `what` (an `-o reports` must not swallow the other reports)."""
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise WorkbenchError(f"is a file; {what} goes into a folder", path=folder)
    foreign = sorted(e.name for e in os.scandir(folder) if not owned(e) and not _HIDDEN.fullmatch(e.name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise WorkbenchError(
            f"holds {shown}, which {what} does not write; it would be replaced whole, so give a new or empty folder "
            f"or one holding {what} only",
            path=folder,
        )


def sha256_of_files(paths: Iterable[str | Path]) -> str:
    """The sha256 of the files' bytes, one after the other: for one file, what `sha256sum` prints."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
