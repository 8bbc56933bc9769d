"""Doccano on its own PostgreSQL server, started as `workbench doccano up --database postgresql` starts it.

Debian's postgresql package must be installed (`make test` installs it). The
server folder is a fresh temporary folder under /tmp: when the tests run as
root, PostgreSQL runs as the `postgres` user, which must be able to pass through
the folder's parents (pytest's own temporary root is closed to other users).
The Doccano virtual environment is the one tests/test_doccano.py shares.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, build_repo_corpus
from doccano_helpers import ADMIN, VENV, cli, login, write_config

from workbench.doccano.bench import run_load
from workbench.doccano.database import POSTGRESQL, SUPERUSER, DatabaseChoice, bin_dir, postgres_paths
from workbench.doccano.processes import alive, read_state
from workbench.doccano.push import articles_from_corpus
from workbench.doccano.server import down, free_port, server_paths, status, up
from workbench.labels import load_labels


@dataclass(frozen=True)
class PgServer:
    paths: object
    url: str
    password: str

    @property
    def database(self) -> dict:
        return read_state(postgres_paths(self.paths.root).state_file)

    def sql(self, query: str) -> str:
        """Ask PostgreSQL itself with psql, independently of Doccano."""
        pg = postgres_paths(self.paths.root)
        env = {**os.environ, "PGPASSWORD": pg.password_file.read_text().strip()}
        result = subprocess.run(
            [str(bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.database["port"]), "-U", SUPERUSER, "-d", "doccano", "-tAc", query],
            capture_output=True, text=True, env=env, check=True,
        )
        return result.stdout.strip()


@pytest.fixture(scope="module")
def pg_server():
    root = Path(tempfile.mkdtemp(prefix="workbench-test-pg-"))
    paths = server_paths(root, VENV)
    password = "Wb-" + secrets.token_urlsafe(12)
    try:
        url = up(paths, ROOT / "configs" / "doccano-constraints.txt", free_port(), ADMIN, password, database=DatabaseChoice(POSTGRESQL))
        yield PgServer(paths, url, password)
    finally:
        down(paths)
        shutil.rmtree(root, ignore_errors=True)


def test_up_runs_doccano_on_its_own_postgresql(pg_server):
    state = status(pg_server.paths)
    assert state.running and state.healthy and state.database == POSTGRESQL
    database = pg_server.database
    (postmaster,) = database["processes"]
    assert alive(postmaster)
    # Loopback only, its own data folder, no Unix socket: as `up` started it.
    cmdline = Path(f"/proc/{postmaster['pid']}/cmdline").read_bytes().split(b"\0")
    pg = postgres_paths(pg_server.paths.root)
    assert cmdline[1:3] == [b"-D", str(pg.data).encode()]
    assert b"listen_addresses=127.0.0.1" in cmdline and str(database["port"]).encode() in cmdline
    # The generated database password: readable by this user only, and in no state file.
    secret = pg.password_file.read_text().strip()
    assert stat.S_IMODE(pg.password_file.stat().st_mode) == 0o600
    for state_file in (pg.state_file, pg_server.paths.state_file):
        assert secret not in state_file.read_text()
    assert stat.S_IMODE(pg_server.paths.root.stat().st_mode) == (0o710 if os.geteuid() == 0 else 0o700)
    # Doccano's tables and its admin user are in PostgreSQL, not in a SQLite file.
    assert pg_server.sql("SELECT username FROM auth_user WHERE is_superuser") == ADMIN
    assert not (pg_server.paths.data / "db.sqlite3").exists()


def test_push_stores_the_articles_in_postgresql(pg_server, tmp_path):
    corpus = build_repo_corpus(tmp_path).output
    config = write_config(tmp_path, "pg-push")
    env = {"DOCCANO_URL": pg_server.url, "DOCCANO_USERNAME": ADMIN, "DOCCANO_PASSWORD": pg_server.password}
    result = cli("push", "--config", config, "--corpus", corpus, env=env)
    assert result.exit_code == 0, result.output
    articles = articles_from_corpus(corpus)
    assert f"uploaded {len(articles)} articles, 0 already there" in result.output
    stored = pg_server.sql(
        "SELECT count(*) FROM examples_example e JOIN projects_project p ON p.id = e.project_id WHERE p.name = 'pg-push'"
    )
    assert int(stored) == len(articles)


def test_concurrent_annotators_lose_no_label(pg_server):
    admin = login(pg_server)
    scheme = load_labels(ROOT / "configs" / "labels.yml")
    # 2 annotators x 2 threads over the same 4 documents; the time bound is far off, so
    # every document is done: each has 3 sentences of 5 entities and 2 relations, so per
    # annotator 4 x 15 = 60 spans, 4 x 6 = 24 relations and 4 confirmations.
    result = run_load(admin, scheme, annotators=2, seconds=600, threads=2, documents=4, database=POSTGRESQL, keep=True)
    assert (result.spans, result.relations, result.confirmed) == (120, 48, 8)
    assert result.requests == 120 + 48 + 8 and result.errors == 0
    assert (result.spans_lost, result.relations_lost, result.confirmations_lost, result.unexpected) == (0, 0, 0, 0)
    # Cross-check in PostgreSQL itself: the spans and relations of the load project's examples.
    where = "JOIN examples_example e ON e.id = x.example_id JOIN projects_project p ON p.id = e.project_id WHERE p.name = 'workbench-load'"
    assert int(pg_server.sql(f"SELECT count(*) FROM labels_span x {where}")) == 120
    assert int(pg_server.sql(f"SELECT count(*) FROM labels_relation x {where}")) == 48


def test_bad_database_choice_is_one_clean_line(tmp_path):
    result = cli("up", "--dir", tmp_path / "server", "--database", "oracle")
    assert result.exit_code == 1 and "unknown database 'oracle'" in result.output and "Traceback" not in result.output
    result = cli("up", "--dir", tmp_path / "server", "--database-url", "mysql://u:secret@127.0.0.1/db")
    assert result.exit_code == 1 and "postgres:// or postgresql:// URL" in result.output
    assert "secret" not in result.output


def test_down_stops_doccano_and_its_database(pg_server):
    database = pg_server.database
    port = database["port"]
    doccano_pids = sorted(status(pg_server.paths).pids.values())
    result = cli("down", "--dir", pg_server.paths.root)
    assert result.exit_code == 0, result.output
    stopped = [database["processes"][0]["pid"], *doccano_pids]
    assert all(str(pid) in result.output for pid in stopped)
    assert not alive(database["processes"][0])
    assert not status(pg_server.paths).running
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
