"""Log in to the configured Doccano: DOCCANO_* from the environment, else the local server and its generated password."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from workbench.doccano.client import DoccanoSession, connect
from workbench.doccano.config import DoccanoSettings, resolve_credentials
from workbench.doccano.server import ServerPaths, local_url, read_password, server_paths


def settings_paths(settings: DoccanoSettings, server_dir: Path | None = None) -> ServerPaths:
    return server_paths(server_dir or settings.server.resolved_dir)


def open_session(
    settings: DoccanoSettings, server_dir: Path | None = None, prompt: Callable[[str], str | None] | None = None
) -> DoccanoSession:
    paths = settings_paths(settings, server_dir)
    credentials = resolve_credentials(local_url(paths), lambda: read_password(paths), prompt)
    return connect(credentials, settings.timeout, settings.task_timeout)
