"""The local Doccano server: its own virtual environment, data directory, processes and pid file.

Layout of the server directory (default .doccano/, gitignored):

    venv/            doccano 1.8.4 and its pinned dependencies (configs/doccano-constraints.txt)
    data/            DOCCANO_HOME: the SQLite database (also the task queue's broker) and media
    logs/            install.log, init.log, webserver.log, task.log
    server.json      url, port and the process ids of the web server and the task queue
    admin-password   the admin password `up` generated when DOCCANO_PASSWORD was unset (mode 0600)
    secret-key       Django's SECRET_KEY for this server (mode 0600)
    postgres/, database.json, database-password
                     with `up --database postgresql`: its own PostgreSQL server (workbench/doccano/database.py)

Everything listens on 127.0.0.1 only. `doccano webserver` binds 0.0.0.0, so the
web server is the same gunicorn application started the way `doccano webserver`
starts it, but bound to loopback; the task queue is `doccano task`.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from workbench.doccano.client import ping
from workbench.doccano.database import (
    SQLITE, DatabaseChoice, database_url, new_password, postgres_paths, start_postgres, stop_postgres,
)
from workbench.doccano.processes import HOST, alive, process_record, stop_recorded
from workbench.doccano.processes import read_state as read_state_file
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files, write_json

ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class ServerPaths:
    root: Path
    venv: Path
    data: Path
    logs: Path
    state_file: Path
    password_file: Path
    secret_file: Path

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def server_paths(root: str | Path, venv: str | Path | None = None) -> ServerPaths:
    """The layout above, under root; the venv can live elsewhere (tests share one between servers)."""
    root = Path(root).resolve()
    venv = Path(venv).resolve() if venv else root / "venv"
    return ServerPaths(root, venv, root / "data", root / "logs", root / "server.json", root / "admin-password", root / "secret-key")


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    url: str | None
    pids: dict[str, int]
    healthy: bool
    database: str = SQLITE


# Installation


def _constraints_digest(constraints: Path) -> str:
    if not constraints.exists():
        raise WorkbenchError("constraints file not found", path=constraints)
    return sha256_of_files([constraints])


def is_installed(venv: Path, constraints: Path) -> bool:
    """Whether `venv` holds doccano installed with exactly these constraints (a finished install leaves its stamp)."""
    stamp = venv / ".workbench-constraints"
    digest = _constraints_digest(Path(constraints))
    return stamp.exists() and stamp.read_text().strip() == digest and (venv / "bin" / "doccano").exists()


def ensure_installed(venv: Path, constraints: Path, log: Path) -> bool:
    """Install doccano into `venv` unless the same constraints are installed already; True if it installed."""
    constraints = Path(constraints)
    if is_installed(venv, constraints):
        return False
    stamp = venv / ".workbench-constraints"
    digest = _constraints_digest(constraints)
    # Without its stamp, a failed or interrupted install is redone next time.
    stamp.unlink(missing_ok=True)
    _run([sys.executable, "-m", "venv", "--clear", str(venv)], log, "creating the Doccano virtual environment")
    # psycopg2-binary is Doccano's PostgreSQL driver (`up --database postgresql`). doccano
    # 1.8.4 documents `pip install 'doccano[postgresql]'`, but its wheel's metadata gives
    # that extra no requirement at all, so the driver is named here.
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "doccano", "psycopg2-binary",
          "-c", str(constraints.resolve())],
         log, "installing doccano (see the log)")
    stamp.write_text(digest + "\n")
    return True


def _run(cmd: list[str], log: Path, what: str, env: dict | None = None) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(cmd[:3])} ...\n")
        fh.flush()
        result = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    if result.returncode != 0:
        raise WorkbenchError(f"{what} failed (exit {result.returncode}); see {log}")


# Configuration of the doccano processes


def _private_file(path: Path, make: Callable[[], str]) -> str:
    """The file's content, creating it first (mode 0600, readable by this user only) if it does not exist."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def read_password(paths: ServerPaths) -> str | None:
    """The admin password `up` generated, if any."""
    try:
        return paths.password_file.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _doccano_env(paths: ServerPaths, database_url: str | None = None) -> dict[str, str]:
    # What `doccano` sets up for itself (backend/cli.py), plus our own secret key. Without
    # a database URL, SQLite in the data folder; with one, Doccano's task queue also uses
    # that database as its broker (its settings derive CELERY_BROKER_URL from it).
    home = str(paths.data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCCANO_", "DJANGO_", "CELERY_", "DATABASE_"))}
    env.update(
        DOCCANO_HOME=home,
        STANDALONE="True",
        DEBUG="False",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=database_url or f"sqlite:///{home}/db.sqlite3",
        MEDIA_ROOT=f"{home}/media",
        SECRET_KEY=_private_file(paths.secret_file, lambda: secrets.token_urlsafe(48)),
        PYTHONUNBUFFERED="1",
    )
    return env


def _backend_dir(paths: ServerPaths) -> Path:
    found = sorted(paths.venv.glob("lib/python*/site-packages/backend"))
    if not found:
        raise WorkbenchError(f"doccano is not installed in {paths.venv}; run `workbench doccano up`")
    return found[0]


def init_server(paths: ServerPaths, username: str, password: str | None, database_url: str | None = None) -> None:
    """`doccano init` (database and roles) once, then `doccano createuser` for the admin every time.

    On a database server `doccano init` runs every time: it only applies missing
    migrations and roles. The password reaches createuser through the environment,
    never the command line (which `ps` shows).
    """
    env = _doccano_env(paths, database_url)
    paths.data.mkdir(parents=True, exist_ok=True)
    log = paths.logs / "init.log"
    if database_url or not (paths.data / "db.sqlite3").exists():
        _run([str(paths.bin("doccano")), "init"], log, "`doccano init`", env)
    if password is None:
        password = _private_file(paths.password_file, lambda: secrets.token_urlsafe(18))
    script = (
        "import os, sys; from backend.cli import main; "
        "sys.argv = ['doccano', 'createuser', '--username', os.environ['WB_ADMIN_USER'], "
        "'--password', os.environ.pop('WB_ADMIN_PASSWORD'), '--email', os.environ['WB_ADMIN_EMAIL']]; main()"
    )
    env.update(WB_ADMIN_USER=username, WB_ADMIN_PASSWORD=password, WB_ADMIN_EMAIL=ADMIN_EMAIL)
    _run([str(paths.bin("python")), "-c", script], log, "`doccano createuser`", env)


# Processes


def read_state(paths: ServerPaths) -> dict | None:
    return read_state_file(paths.state_file)


def local_url(paths: ServerPaths) -> str | None:
    """The URL of the local server if its state file says one was started."""
    state = read_state(paths)
    return state.get("url") if state else None


def status(paths: ServerPaths) -> ServerStatus:
    state = read_state(paths)
    if not state:
        return ServerStatus(False, None, {}, False)
    running_pids = {p["name"]: p["pid"] for p in state.get("processes", []) if alive(p)}
    running = len(running_pids) == len(state.get("processes", [])) > 0
    return ServerStatus(running, state.get("url"), running_pids, running and ping(state["url"]), state.get("database", SQLITE))


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn binds: connections of a stopped server still in TIME_WAIT do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _spawn(name: str, cmd: list[str], paths: ServerPaths, env: dict) -> dict:
    paths.logs.mkdir(parents=True, exist_ok=True)
    with open(paths.logs / f"{name}.log", "ab") as log:
        # A session of its own: `down` signals this process group and nothing else.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=paths.data, start_new_session=True)
    return process_record(name, proc.pid)


def start(paths: ServerPaths, port: int, workers: int = 2, concurrency: int = 1, wait: float = 180.0,
          database_url: str | None = None, database: str = SQLITE) -> str:
    """Start the web server and the task queue, record their pids, and wait until Doccano answers; return its URL.

    database_url: Doccano's DATABASE_URL (None: SQLite); database: what to record and show of it (no password).
    """
    current = status(paths)
    if current.running:
        raise WorkbenchError(f"Doccano already runs at {current.url} (pids {sorted(current.pids.values())}); `workbench doccano down` first")
    if current.pids:
        stop(paths)
    if not _port_free(port):
        raise WorkbenchError(f"port {port} on {HOST} is in use; choose another with --port")
    env = _doccano_env(paths, database_url)
    url = f"http://{HOST}:{port}"
    web = [str(paths.bin("python")), "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(workers),
           "--chdir", str(_backend_dir(paths)), "--capture-output", "--log-level", "info", "config.wsgi"]
    task = [str(paths.bin("doccano")), "task", "--concurrency", str(concurrency)]
    processes = [_spawn("webserver", web, paths, env), _spawn("task", task, paths, env)]
    write_json(paths.state_file, {
        "url": url,
        "port": port,
        "database": database,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "processes": processes,
    })
    _wait_ready(paths, url, processes, wait)
    return url


def _wait_ready(paths: ServerPaths, url: str, processes: list[dict], wait: float) -> None:
    deadline = time.monotonic() + wait
    while not ping(url, timeout=10):
        dead = [p["name"] for p in processes if not alive(p)]
        if dead or time.monotonic() > deadline:
            stop(paths)
            why = f"the {' and '.join(dead)} process exited" if dead else f"it did not answer within {wait:g} s"
            raise WorkbenchError(f"Doccano did not start: {why}; see {paths.logs}/webserver.log and task.log")
        time.sleep(0.5)


def stop(paths: ServerPaths, grace: float = 30.0) -> list[int]:
    """Stop exactly Doccano's processes recorded in the pid file, and their children; return the pids that were running."""
    return stop_recorded(paths.state_file, signal.SIGTERM, grace)


@dataclass(frozen=True)
class Stopped:
    doccano: list[int]  # pids that were running
    database: list[int]


def down(paths: ServerPaths) -> Stopped:
    """Stop Doccano, then the PostgreSQL server `up` started for it, if any (a database stopped first fails open requests)."""
    doccano = stop(paths)
    return Stopped(doccano, stop_postgres(paths.root))


def up(paths: ServerPaths, constraints: Path, port: int, username: str, password: str | None,
       workers: int = 2, concurrency: int = 1, progress: Callable[[str], None] = lambda step: None,
       database: DatabaseChoice = DatabaseChoice()) -> str:
    """Install if needed, start the database if it is ours, initialise, create the admin and start; return the URL.

    If Doccano runs already on the same database, its URL at once.
    """
    current = status(paths)
    if current.running:
        if current.database != database.label:
            raise WorkbenchError(f"Doccano already runs at {current.url} on {current.database}; `workbench doccano down` first")
        return current.url
    # The database holds password hashes and the folder generated passwords: this user only.
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    installed = is_installed(paths.venv, constraints)
    progress(f"reusing doccano in {paths.venv}" if installed else "installing doccano (once; a few minutes)")
    ensure_installed(paths.venv, constraints, paths.logs / "install.log")
    try:
        progress(f"starting the database ({database.label})")
        database_url = open_database(paths, database)
        progress("initialising the database and the admin user")
        init_server(paths, username, password, database_url)
        progress("starting the web server and the task queue")
        return start(paths, port, workers, concurrency, database_url=database_url, database=database.label)
    except BaseException:
        stop_postgres(paths.root)  # nothing of a failed `up` is left running
        raise


def open_database(paths: ServerPaths, database: DatabaseChoice) -> str | None:
    """Doccano's DATABASE_URL: None for SQLite, the given URL, or our own PostgreSQL server's (started if it is not running)."""
    if database.url is not None or database.kind == SQLITE:
        return database.url
    pg = postgres_paths(paths.root)
    secret = _private_file(pg.password_file, new_password)
    state = read_state_file(pg.state_file)
    if state and all(alive(p) for p in state.get("processes", [])):
        return database_url(state["port"], secret)
    stop_postgres(paths.root)  # what is left of a server that died
    return start_postgres(paths.root, free_port(), secret)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
