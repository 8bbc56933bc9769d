"""The test Doccano server (one per test session, started by `workbench doccano up`'s code) and what tests do with it.

The server's virtual environment is cached in .doccano/venv (gitignored): the
first run installs it (a few minutes), later runs reuse it. If the server cannot
start, the tests that need it fail; they never skip. conftest.py turns
`start_server` into the session fixture `doccano_server`.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from typer.testing import CliRunner

from workbench.cli import app
from workbench.doccano.client import DoccanoSession, connect
from workbench.doccano.config import Credentials
from workbench.doccano.server import server_paths, stop, up

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
VENV = ROOT / ".doccano" / "venv"
ADMIN = "admin"


@dataclass(frozen=True)
class Server:
    paths: object
    url: str
    port: int
    password: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path) -> Iterator[Server]:
    """Start a server in root (sharing the cached venv), point DOCCANO_* at it, stop it afterwards."""
    paths = server_paths(root, VENV)
    port = free_port()
    password = "Wb-" + secrets.token_urlsafe(12)
    patch = pytest.MonkeyPatch()
    try:
        url = up(paths, ROOT / "configs" / "doccano-constraints.txt", port, ADMIN, password)
        patch.setenv("DOCCANO_URL", url)
        patch.setenv("DOCCANO_USERNAME", ADMIN)
        patch.setenv("DOCCANO_PASSWORD", password)
        patch.setenv("WORKBENCH_DOCCANO_DIR", str(root))
        patch.delenv("DOCCANO_ANNOTATOR_PASSWORD", raising=False)
        yield Server(paths, url, port, password)
    finally:
        patch.undo()
        stop(paths)


def login(server: Server, username: str = ADMIN, password: str | None = None) -> DoccanoSession:
    return connect(Credentials(server.url, username, password or server.password), timeout=30, task_timeout=120)


def write_config(folder: Path, project: str, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "project": project,
        "guidelines": str(ROOT / "annotations" / "GUIDELINES.md"),
        "labels": str(ROOT / "configs" / "labels.yml"),
        "snapshots": str(folder / "snapshots"),
        "batch_size": 2,
        **extra,
    }
    path = folder / "doccano.yml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def cli(*args, env=None):
    return runner.invoke(app, ["doccano", *map(str, args)], env=env)


def span_key(entity) -> tuple:
    return (entity.start, entity.end, entity.label)


def relation_keys(entities, relations) -> set:
    by_id = {e.id: e for e in entities}
    return {((by_id[r.head].start, by_id[r.head].end), (by_id[r.tail].start, by_id[r.tail].end), r.type) for r in relations}
