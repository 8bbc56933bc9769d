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
from workbench.records import AnnotatedDoc

ENV_ANNOTATOR_PASSWORD = "DOCCANO_ANNOTATOR_PASSWORD"


@dataclass(frozen=True)
class AnnotatorResult:
    created: bool
    role_changed: bool
    seeded: int
    password_reset: bool = False


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


def label_keys(record: AnnotatedDoc) -> tuple[frozenset, frozenset]:
    """A record's spans and relations by what they mark, not by their ids (ids differ between copies)."""
    spans = {e.id: (e.start, e.end, e.label) for e in record.entities}
    relations = {(spans.get(r.head), spans.get(r.tail), r.type) for r in record.relations}
    return frozenset(spans.values()), frozenset(relations)


def untouched_doc_ids(admin: DoccanoSession, project_id: int, max_bytes: int = MAX_BYTES) -> set[str]:
    """The doc_ids nobody has worked on: their pre-annotations can be replaced without losing anyone's work.

    Nobody has confirmed or commented on them, and every other member holds no
    labels there or an unchanged copy of the pushing account's (what `annotator
    add` seeded). The pushing account's own edits cannot be told from its
    pre-annotations, so only its confirmation counts as work.
    """
    with tempfile.TemporaryDirectory(prefix="workbench-refresh-") as tmp:
        exports = {
            kind: read_export(admin.export(project_id, kind == "confirmed", Path(tmp) / f"{kind}.zip", max_bytes), Path(tmp) / kind, max_bytes)
            for kind in ("confirmed", "all")
        }
    pre_annotations = {r.example_id: label_keys(r.record) for r in exports["all"].get(admin.username, [])}
    touched = {r.doc_id for rows in exports["confirmed"].values() for r in rows}
    for user, rows in exports["all"].items():
        for row in rows:
            changed = user != admin.username and row.labelled and label_keys(row.record) != pre_annotations.get(row.example_id)
            if changed or row.record.meta.get("comments"):
                touched.add(row.doc_id)
    return {r.doc_id for r in exports["all"].get(admin.username, []) if r.doc_id and r.doc_id not in touched}


def add_annotator(
    admin: DoccanoSession,
    project_id: int,
    username: str,
    password: Callable[[], str],
    role: str = "annotator",
    seed: bool = True,
    reset_password: bool = False,
) -> AnnotatorResult:
    """Create the user if needed (or give them a new password), check their login, add them with the role, seed them.

    The login is checked before anything changes in the project, so a wrong
    password stops the command with nothing half done; running it again with the
    right password (or --reset-password) does the whole job.
    """
    created = not admin.user_exists(username)
    secret = password() if created or seed or reset_password else None
    if created:
        admin.create_user(username, secret)
    elif reset_password:
        admin.set_password(username, secret)
    annotator = None
    if seed and username != admin.username:
        hint = f"the password of an existing user; set {ENV_ANNOTATOR_PASSWORD} to it, pass --reset-password to give them a new one, or --no-seed"
        annotator = connect(Credentials(admin.url, username, secret), admin.timeout, admin.task_timeout, password_hint=hint)
    role_changed = ensure_member(admin, project_id, username, role)
    seeded = seed_pre_annotations(admin, annotator, project_id) if annotator is not None else 0
    return AnnotatorResult(created, role_changed, seeded, password_reset=reset_password and not created)
