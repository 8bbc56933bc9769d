"""Doccano settings from configs/doccano.yml, and the credentials to log in with (never from a file we commit)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import WorkbenchError
from pydantic import BaseModel, StrictInt, StrictStr, confloat, conint

from workbench.yamlconfig import load_optional_yaml_model

DEFAULT_CONFIG = Path("configs/doccano.yml")
ENV_URL = "DOCCANO_URL"
ENV_USERNAME = "DOCCANO_USERNAME"
ENV_PASSWORD = "DOCCANO_PASSWORD"
ENV_SERVER_DIR = "WORKBENCH_DOCCANO_DIR"
DEFAULT_USERNAME = "admin"


class ServerSettings(BaseModel):
    dir: StrictStr = ".doccano"
    port: conint(strict=True, ge=1, le=65535) = 8000
    constraints: StrictStr = "configs/doccano-constraints.txt"
    workers: conint(strict=True, ge=1) = 2
    concurrency: conint(strict=True, ge=1) = 1
    # sqlite (Doccano's embedded default) or postgresql (a local server `up` starts).
    database: Literal["sqlite", "postgresql"] = "sqlite"

    class Config:
        extra = "forbid"

    @property
    def resolved_dir(self) -> Path:
        return Path(os.environ.get(ENV_SERVER_DIR) or self.dir)


class DoccanoSettings(BaseModel):
    """configs/doccano.yml; its schema too (unknown keys and wrong types are errors naming the key and line)."""

    project: StrictStr = "diplomatic-contacts"
    # Where `annotations adjudicate --review` sends documents with conflicts.
    review_project: StrictStr = "diplomatic-contacts-review"
    description: StrictStr = "News articles to annotate."
    guidelines: StrictStr = "annotations/GUIDELINES.md"
    labels: StrictStr = "configs/labels.yml"
    batch_size: StrictInt = 200
    snapshots: StrictStr = "annotations/snapshots"
    # Where `doccano next` records each push: its ranking and the pre-annotations it sent.
    pushes: StrictStr = "annotations/pushes"
    timeout: confloat(gt=0) = 60.0
    task_timeout: confloat(gt=0) = 900.0
    server: ServerSettings = ServerSettings()

    class Config:
        extra = "forbid"


def load_settings(path: str | Path = DEFAULT_CONFIG) -> DoccanoSettings:
    """Read the config; a missing file means the defaults, an unknown key is an error."""
    return load_optional_yaml_model(path, DoccanoSettings, "Doccano settings")


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


MAINTAINERS_START = "<!-- maintainers -->"
MAINTAINERS_END = "<!-- /maintainers -->"


def read_guideline(settings: DoccanoSettings) -> str:
    """The annotation guidelines as Doccano shows them: without the blocks marked for maintainers."""
    path = Path(settings.guidelines)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot read the guidelines: {exc.strerror or exc}", path=path) from None
    return strip_maintainers(text, path)


def strip_maintainers(text: str, path: Path | str = "<guideline>") -> str:
    """Drop every line from a `<!-- maintainers -->` line to its `<!-- /maintainers -->` line, markers included.

    Annotators see the guideline in Doccano, where notes about config files and
    repository paths mean nothing; an unclosed or nested marker is an error, so a
    typo never hides the rest of the page or shows a note.
    """
    kept: list[str] = []
    opened: int | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == MAINTAINERS_START:
            if opened is not None:
                raise WorkbenchError(f"{MAINTAINERS_START} inside the block opened on line {opened}", path=path, line=number)
            opened = number
        elif marker == MAINTAINERS_END:
            if opened is None:
                raise WorkbenchError(f"{MAINTAINERS_END} without an opening {MAINTAINERS_START}", path=path, line=number)
            opened = None
        elif opened is None:
            kept.append(line)
    if opened is not None:
        raise WorkbenchError(f"{MAINTAINERS_START} is never closed with {MAINTAINERS_END}", path=path, line=opened)
    # A removed block leaves the blank lines on both sides of it.
    return re.sub(r"\n{3,}", "\n\n", "".join(kept))
