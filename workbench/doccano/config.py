"""Doccano settings from configs/doccano.yml, and the credentials to log in with (never from a file we commit)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import WorkbenchError
from workbench.yamlconfig import check_keys, read_settings

DEFAULT_CONFIG = Path("configs/doccano.yml")
ENV_URL = "DOCCANO_URL"
ENV_USERNAME = "DOCCANO_USERNAME"
ENV_PASSWORD = "DOCCANO_PASSWORD"
ENV_SERVER_DIR = "WORKBENCH_DOCCANO_DIR"
DEFAULT_USERNAME = "admin"


@dataclass
class ServerSettings:
    dir: str = ".doccano"
    port: int = 8000
    constraints: str = "configs/doccano-constraints.txt"
    workers: int = 2
    concurrency: int = 1
    database: str = "sqlite"

    @property
    def resolved_dir(self) -> Path:
        return Path(os.environ.get(ENV_SERVER_DIR) or self.dir)


@dataclass
class DoccanoSettings:
    project: str = "diplomatic-contacts"
    # Where `annotations adjudicate --review` sends documents with conflicts.
    review_project: str = "diplomatic-contacts-review"
    description: str = "News articles to annotate."
    guidelines: str = "annotations/GUIDELINES.md"
    labels: str = "configs/labels.yml"
    batch_size: int = 200
    snapshots: str = "annotations/snapshots"
    timeout: float = 60.0
    task_timeout: float = 900.0
    server: ServerSettings = field(default_factory=ServerSettings)


def load_settings(path: str | Path = DEFAULT_CONFIG) -> DoccanoSettings:
    """Read the config; a missing file means the defaults, an unknown key is an error."""
    data = read_settings(path, DoccanoSettings.__dataclass_fields__)
    if data is None:
        return DoccanoSettings()
    server = check_keys(data.pop("server", None) or {}, ServerSettings.__dataclass_fields__, path, "server")
    return DoccanoSettings(**data, server=ServerSettings(**server))


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str
    password: str = field(repr=False)


def public_url(url: str) -> str:
    """The URL without user, password, query or fragment: safe to print and to write in a manifest."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def resolve_credentials(
    local_url: str | None = None,
    local_password: Callable[[], str | None] | None = None,
    prompt: Callable[[str], str] | None = None,
) -> Credentials:
    """DOCCANO_URL/USERNAME/PASSWORD; without a URL, the local server; without a password, its password file or a prompt.

    The local server's password file is only used for the local server's URL, so a
    generated password never goes to another host.
    """
    raw_url = os.environ.get(ENV_URL) or local_url
    if not raw_url:
        raise WorkbenchError(f"no Doccano server: set {ENV_URL}, or start the local one with `workbench doccano up`")
    parts = urlsplit(raw_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WorkbenchError(f"{ENV_URL} must be an http(s) URL, got {public_url(raw_url)!r}")
    url = public_url(raw_url)
    username = os.environ.get(ENV_USERNAME) or parts.username or DEFAULT_USERNAME
    password = os.environ.get(ENV_PASSWORD) or parts.password
    if not password and local_password is not None and local_url and url == public_url(local_url):
        password = local_password()
    if not password and prompt is not None:
        password = prompt(f"Doccano password for {username} at {url}")
    if not password:
        raise WorkbenchError(f"no password for Doccano user {username!r} at {url}: set {ENV_PASSWORD}")
    return Credentials(url, username, password)


def read_guideline(settings: DoccanoSettings) -> str:
    """The annotation guidelines that Doccano shows as the project guideline."""
    path = Path(settings.guidelines)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot read the guidelines: {exc.strerror or exc}", path=path) from None
