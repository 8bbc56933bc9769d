"""The database a local Doccano runs on: SQLite in its data folder, a PostgreSQL server of its own, or an existing server.

A PostgreSQL server of its own is Debian's `postgresql` package run from its
binaries (/usr/lib/postgresql/<version>/bin), apart from the system's clusters:

    postgres/data/       the cluster (initdb), owned by the user the server runs as
    postgres/server.log  the server's log
    database.json        the server's port and process (pid and start time), for `down`
    database-password    the generated password of its superuser `doccano` (mode 0600)

It listens on 127.0.0.1 only, at a port chosen free when it starts, with no Unix
socket, and asks every connection for the password (scram-sha-256). The
database `doccano` is created on first start.

PostgreSQL refuses to run as root. When the workbench runs as root, initdb and
the server run as the `postgres` system user (runuser), which owns postgres/;
the server folder then belongs to the group `postgres` with mode 0710, so that
user may pass through it to postgres/ and read nothing else (the secrets are 0600).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from workbench.doccano.processes import HOST, process_record, stop_recorded
from workbench.errors import WorkbenchError
from workbench.fileio import write_json

SUPERUSER = "doccano"
DATABASE = "doccano"
SYSTEM_USER = "postgres"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
DATABASES = (SQLITE, POSTGRESQL)


@dataclass(frozen=True)
class DatabaseChoice:
    """What `up` was asked for: SQLite, our own PostgreSQL server, or an existing server's URL."""

    kind: str = SQLITE
    url: str | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.kind not in DATABASES:
            raise WorkbenchError(f"unknown database {self.kind!r}; use one of {', '.join(DATABASES)}")
        if self.url is not None and urlsplit(self.url).scheme not in ("postgres", "postgresql"):
            raise WorkbenchError("--database-url must be a postgres:// or postgresql:// URL")

    @property
    def label(self) -> str:
        """Safe to print and record: the kind, and for an existing server its host and port (never the password)."""
        if self.url is None:
            return self.kind
        parts = urlsplit(self.url)
        return f"{POSTGRESQL} at {parts.hostname}:{parts.port or 5432}{parts.path}"


@dataclass(frozen=True)
class PostgresPaths:
    folder: Path
    data: Path
    log: Path
    state_file: Path
    password_file: Path
    setup_log: Path  # what initdb, pg_ctl, psql and createdb said when they failed


def postgres_paths(root: Path) -> PostgresPaths:
    folder = root / "postgres"
    return PostgresPaths(folder, folder / "data", folder / "server.log", root / "database.json", root / "database-password",
                         root / "logs" / "postgres-setup.log")


def bin_dir() -> Path:
    """The newest PostgreSQL installed from Debian's packages."""
    found = [Path(p) for p in sorted(Path("/").glob(BIN_GLOB.lstrip("/"))) if (Path(p) / "pg_ctl").exists()]
    if not found:
        raise WorkbenchError("PostgreSQL is not installed: `apt-get install -y postgresql` (Debian's package), or `make postgresql`")
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], what: str, paths: PostgresPaths, env: dict | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)
    if result.returncode != 0:
        paths.setup_log.parent.mkdir(parents=True, exist_ok=True)
        with open(paths.setup_log, "a", encoding="utf-8") as fh:
            fh.write(f"$ {' '.join(cmd)}\n{result.stdout}{result.stderr}\n")  # no secret is ever on a command line
        raise WorkbenchError(f"{what} failed (exit {result.returncode}); see {paths.setup_log} and {paths.log}")
    return result.stdout


def _prepare_folder(root: Path, paths: PostgresPaths) -> None:
    """The cluster's folder, owned by the user the server runs as (see the module docstring for root)."""
    account = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise WorkbenchError(f"no `{SYSTEM_USER}` system user: install Debian's postgresql package") from None
        closed = [p for p in root.resolve().parents if not _passable(p, account)]
        if closed:
            raise WorkbenchError(f"the `{SYSTEM_USER}` user, which runs PostgreSQL, cannot pass through {closed[0]} "
                                 "(no x permission for it); put the server folder elsewhere (--dir)", path=root)
    paths.folder.mkdir(exist_ok=True)
    paths.folder.chmod(0o700)
    if account is not None:
        os.chown(root, 0, account.pw_gid)
        root.chmod(0o710)
        os.chown(paths.folder, account.pw_uid, account.pw_gid)


def _passable(folder: Path, account: pwd.struct_passwd) -> bool:
    info = folder.stat()
    if info.st_uid == account.pw_uid:
        return bool(info.st_mode & 0o100)
    if info.st_gid == account.pw_gid:
        return bool(info.st_mode & 0o010)
    return bool(info.st_mode & 0o001)


def ensure_cluster(root: Path, password: str) -> PostgresPaths:
    """initdb once: superuser `doccano` with the password, UTF-8, password authentication for every connection."""
    paths = postgres_paths(root)
    _prepare_folder(root, paths)
    if (paths.data / "PG_VERSION").exists():
        return paths
    if paths.data.exists():
        # An initdb that was interrupted: it leaves a folder that initdb refuses to reuse.
        shutil.rmtree(paths.data)
    # initdb reads the password from a file, which the server's user must be able to read:
    # a 0600 file of that user's inside postgres/ (0700), gone when initdb ends.
    pwfile = paths.folder / "initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    try:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        _run(_as_server_user([str(bin_dir() / "initdb"), "-D", str(paths.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                              "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"]),
             "initdb of the PostgreSQL cluster", paths)
    finally:
        pwfile.unlink(missing_ok=True)
    return paths


def start_postgres(root: Path, port: int, password: str, wait: float = 60.0) -> str:
    """Start the cluster on 127.0.0.1:port, record its process, create the database if new; return Doccano's DATABASE_URL."""
    paths = ensure_cluster(root, password)
    options = f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories=''"
    _run(_as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(paths.data), "-l", str(paths.log), "-w", "-t", str(int(wait)),
                          "-o", options, "start"]),
         f"starting PostgreSQL on {HOST}:{port}", paths)
    # The postmaster's pid is the first line of postmaster.pid (readable by root, or by its own user).
    pid = int((paths.data / "postmaster.pid").read_text().split()[0])
    write_json(paths.state_file, {"port": port, "processes": [process_record("postgres", pid)]})
    env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
    connect = ["-h", HOST, "-p", str(port), "-U", SUPERUSER]
    exists = _run([str(bin_dir() / "psql"), *connect, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                  "looking up the database", paths, env)
    if exists.strip() != "1":
        _run([str(bin_dir() / "createdb"), *connect, DATABASE], "creating the database", paths, env)
    return database_url(port, password)


def database_url(port: int, password: str) -> str:
    """Doccano's DATABASE_URL for our own server; the server has no TLS, and Doccano asks for it unless sslmode is set."""
    return f"postgresql://{SUPERUSER}:{quote(password, safe='')}@{HOST}:{port}/{DATABASE}?sslmode=disable"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def stop_postgres(root: Path, grace: float = 60.0) -> list[int]:
    """Fast shutdown (SIGINT: open connections are closed, nothing committed is lost) of the recorded server only."""
    return stop_recorded(postgres_paths(root).state_file, signal.SIGINT, grace)
