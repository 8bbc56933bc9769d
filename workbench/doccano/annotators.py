"""Annotators: a Doccano user in the project with a role, and their own copy of the pre-annotations.

Doccano 1.8.4 stores an imported span or relation under the user who ran the
import, and in a project that does not share annotations every user sees only
their own. So the pre-annotations that push uploads belong to the pushing
account, and no annotator would see them. Adding an annotator therefore copies
them into the annotator's own annotations, logged in as the annotator (Doccano's
API only creates labels for the logged-in user), for every example the annotator
has neither labelled nor confirmed. Adding the same annotator again after a push
with new pre-annotations copies just those.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from workbench.doccano.client import ROLES, DoccanoSession, connect
from workbench.doccano.config import Credentials
from workbench.doccano.pull import MAX_BYTES, ExportRow, read_export
from workbench.errors import WorkbenchError

ENV_ANNOTATOR_PASSWORD = "DOCCANO_ANNOTATOR_PASSWORD"


@dataclass(frozen=True)
class AnnotatorResult:
    created: bool
    role_changed: bool
    seeded: int


def ensure_member(admin: DoccanoSession, project_id: int, username: str, role: str) -> bool:
    """Make the user a member with that role; True if the membership was added or its role changed."""
    if role not in ROLES:
        raise WorkbenchError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    member = next((m for m in admin.members(project_id) if m.username == username), None)
    if member is None:
        admin.add_member(project_id, username, role)
        return True
    if member.role != role:
        admin.set_role(project_id, member.id, role)
        return True
    return False


def copy_labels(session: DoccanoSession, project_id: int, row: ExportRow) -> None:
    """Create one export row's spans and relations as the logged-in user."""
    record = row.record
    new_ids = {e.id: session.create_span(project_id, row.example_id, e.label, e.start, e.end) for e in record.entities}
    for rel in record.relations:
        if rel.head in new_ids and rel.tail in new_ids:
            session.create_relation(project_id, row.example_id, new_ids[rel.head], new_ids[rel.tail], rel.type)


def seed_pre_annotations(admin: DoccanoSession, annotator: DoccanoSession, project_id: int, max_bytes: int = MAX_BYTES) -> int:
    """Copy the pushing account's labels to the annotator where the annotator has not started; return the documents seeded."""
    with tempfile.TemporaryDirectory(prefix="workbench-seed-") as tmp:
        zip_path = admin.export(project_id, False, Path(tmp) / "all.zip", max_bytes)
        rows = read_export(zip_path, Path(tmp) / "all", max_bytes)
    started = {r.example_id for r in rows.get(annotator.username, []) if r.labelled}
    started |= annotator.confirmed_example_ids(project_id)
    todo = [r for r in rows.get(admin.username, []) if r.record.entities and r.example_id not in started]
    for row in tqdm(todo, desc=f"pre-annotations for {annotator.username}", unit="doc", disable=len(todo) < 20):
        copy_labels(annotator, project_id, row)
    return len(todo)


def add_annotator(
    admin: DoccanoSession,
    project_id: int,
    username: str,
    password: Callable[[], str],
    role: str = "annotator",
    seed: bool = True,
) -> AnnotatorResult:
    """Create the user if needed (asking for the password only then or to seed), add them with the role, seed them."""
    created = not admin.user_exists(username)
    secret = password() if created or seed else None
    if created:
        admin.create_user(username, secret)
    role_changed = ensure_member(admin, project_id, username, role)
    seeded = 0
    if seed and username != admin.username:
        hint = f"the password of an existing user; set {ENV_ANNOTATOR_PASSWORD} or pass --no-seed"
        annotator = connect(Credentials(admin.url, username, secret), admin.timeout, admin.task_timeout, password_hint=hint)
        seeded = seed_pre_annotations(admin, annotator, project_id)
    return AnnotatorResult(created, role_changed, seeded)
