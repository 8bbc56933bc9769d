"""The one way to talk to Doccano: a small typed layer over doccano-client.

Nothing else in the workbench imports doccano_client or sends HTTP to Doccano.
Every failure comes out as one WorkbenchError line that says what to do; requests
time out; connection failures, and 502/503/504 on requests that are safe to
repeat, are retried with backoff.
"""

from __future__ import annotations

import functools
import html as html_lib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import requests
from doccano_client import DoccanoClient
from doccano_client.exceptions import DoccanoAPIError
from doccano_client.models.label_type import LabelType as LabelTypeModel
from doccano_client.repositories.data_upload import DataUploadRepository
from doccano_client.repositories.label_type import RelationTypeRepository, SpanTypeRepository
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from workbench.doccano.config import Credentials
from workbench.errors import WorkbenchError
from workbench.records import Entity, Relation

PROJECT_TYPE = "SequenceLabeling"
IMPORT_TASK = "RelationExtraction"
IMPORT_FORMAT = "JSONL"
ROLES = ("annotator", "annotation_approver", "project_admin")
PAGE = 500
_TYPE_REPOSITORIES = {"span": SpanTypeRepository, "relation": RelationTypeRepository}
T = TypeVar("T")
# Each retry would print a urllib3 warning; the final failure gets one clear line instead.
logging.getLogger("urllib3").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    project_type: str
    use_relation: bool
    collaborative: bool
    allow_overlapping: bool = False
    description: str = ""
    guideline: str = field(default="", repr=False)


@dataclass(frozen=True)
class LabelType:
    id: int
    name: str
    color: str
    text_color: str
    shortcut: str | None


@dataclass(frozen=True)
class Example:
    id: int
    doc_id: str | None


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    role: str


@dataclass(frozen=True)
class Progress:
    username: str
    confirmed: int
    total: int


class _TimeoutAdapter(HTTPAdapter):
    """requests has no session-wide timeout; without one a hung server hangs us forever."""

    def __init__(self, timeout: float, **kwargs):
        self._timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def _retry_policy(retries: int) -> Retry:
    # A refused connection never reached the server, so it is retried for every
    # method; read errors and 5xx gateway answers only for methods safe to repeat
    # (a repeated POST could import a batch twice).
    return Retry(
        total=retries,
        connect=retries,
        read=1,
        status=retries,
        backoff_factor=0.5,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
        raise_on_status=False,
    )


def _short(response: requests.Response | None) -> str:
    if response is None:
        return ""
    text = " ".join((response.text or "").split())
    return text[:200]


def translate_error(exc: Exception, what: str, url: str, username: str, timeout: float) -> WorkbenchError:
    """One clear line for a failed call: what failed, why, and what to do."""
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.ReadTimeout):
        return WorkbenchError(
            f"cannot reach Doccano at {url} ({what}): is it running? "
            "Start it with `workbench doccano up`, or set DOCCANO_URL to a running server"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return WorkbenchError(f"Doccano at {url} did not answer within {timeout:g} s ({what}); try again, or raise `timeout` in configs/doccano.yml")
    if isinstance(exc, DoccanoAPIError):
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            return WorkbenchError(
                f"Doccano at {url} refused {what} for user {username!r} (HTTP {status}): "
                "log in as a project admin (DOCCANO_USERNAME, DOCCANO_PASSWORD)"
            )
        if status == 404:
            return WorkbenchError(f"Doccano at {url} has no such resource ({what}, HTTP 404)")
        if status >= 500:
            return WorkbenchError(
                f"Doccano at {url} failed with HTTP {status} ({what}); see its log "
                "(.doccano/logs/webserver.log for the local server) and try again"
            )
        return WorkbenchError(f"Doccano at {url} rejected {what} (HTTP {status}): {_short(exc.response)}")
    if isinstance(exc, requests.exceptions.RequestException):
        return WorkbenchError(f"talking to Doccano at {url} failed ({what}): {exc}")
    raise exc


def _call(what: str):
    """Run a DoccanoSession method and turn any request failure into translate_error's one line."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def wrapper(self: "DoccanoSession", *args, **kwargs) -> T:
            try:
                return method(self, *args, **kwargs)
            except (requests.exceptions.RequestException, DoccanoAPIError) as exc:
                raise translate_error(exc, what, self.url, self.username, self.timeout) from None

        return wrapper

    return decorate


def ping(url: str, timeout: float = 5.0) -> bool:
    """Whether Doccano at `url` answers its health check (web server, database and task queue all up)."""
    try:
        return requests.get(f"{url.rstrip('/')}/v1/health/", timeout=timeout).status_code == 200
    except requests.exceptions.RequestException:
        return False


def connect(
    credentials: Credentials,
    timeout: float = 60.0,
    task_timeout: float = 900.0,
    retries: int = 3,
    password_hint: str = "check DOCCANO_USERNAME and DOCCANO_PASSWORD",
) -> "DoccanoSession":
    """Log in; a wrong password, an unknown user or an unreachable server raises a WorkbenchError."""
    session = DoccanoSession(credentials, timeout, task_timeout, retries)
    session.login(credentials.password, password_hint)
    return session


class DoccanoSession:
    """A logged-in user on one Doccano server."""

    def __init__(self, credentials: Credentials, timeout: float, task_timeout: float, retries: int):
        self.url = credentials.url
        self.username = credentials.username
        self.timeout = timeout
        self.task_timeout = task_timeout
        self._client = DoccanoClient(credentials.url)
        # doccano-client keeps its requests session private; it is the only place
        # where timeouts and retries can be set for every call it makes.
        self._base = self._client._base_repository
        adapter = _TimeoutAdapter(timeout, max_retries=_retry_policy(retries))
        self._base._session.mount("http://", adapter)
        self._base._session.mount("https://", adapter)
        self._types: dict[tuple[int, str], dict[str, LabelType]] = {}

    def login(self, password: str, hint: str) -> None:
        try:
            self._client.login(self.username, password)
        except DoccanoAPIError as exc:
            if exc.response is not None and exc.response.status_code in (400, 401, 403):
                raise WorkbenchError(
                    f"Doccano at {self.url} refused the login of {self.username!r}: wrong user name or password ({hint})"
                ) from None
            raise translate_error(exc, "login", self.url, self.username, self.timeout) from None
        except requests.exceptions.RequestException as exc:
            raise translate_error(exc, "login", self.url, self.username, self.timeout) from None

    # Projects

    @_call("listing projects")
    def find_project(self, name: str) -> Project | None:
        for row in self._pages("projects"):
            if row["name"] == name:
                return _project(row)
        return None

    @_call("creating the project")
    def create_project(self, name: str, description: str, guideline: str, allow_overlapping: bool = False) -> Project:
        # Not collaborative: every annotator has their own spans, relations and
        # confirmations, which is what agreement needs. Overlapping spans only
        # where asked for: a review project shows every annotator's version at once.
        project = self._client.create_project(
            name, PROJECT_TYPE, description, guideline=guideline, use_relation=True, collaborative_annotation=False,
            allow_overlapping=allow_overlapping,
        )
        return _project(project.dict())

    @_call("updating the project description and guideline")
    def set_description_and_guideline(self, project_id: int, description: str, guideline: str) -> None:
        self._client.update_project(project_id, description=description, guideline=guideline)

    @_call("deleting the project")
    def delete_project(self, project_id: int) -> None:
        self._client.delete_project(project_id)

    # Label types

    @_call("listing label types")
    def label_types(self, project_id: int, kind: str) -> dict[str, LabelType]:
        """kind: "span" or "relation"; name -> type."""
        key = (project_id, kind)
        if key not in self._types:
            self._types[key] = {
                t.text: LabelType(t.id, t.text, t.background_color, t.text_color, t.suffix_key)
                for t in _TYPE_REPOSITORIES[kind](self._base).list(project_id)
            }
        return self._types[key]

    @_call("saving a label type")
    def save_label_type(self, project_id: int, kind: str, label_type: LabelType) -> None:
        """Create the type, or update it in place when label_type.id is set (name, colours, shortcut key)."""
        repo = _TYPE_REPOSITORIES[kind](self._base)
        model = LabelTypeModel(
            id=label_type.id or None,
            text=label_type.name,
            suffix_key=label_type.shortcut,
            background_color=label_type.color,
            text_color=label_type.text_color,
        )
        if label_type.id:
            repo.update(project_id, model)
        else:
            repo.create(project_id, model)
        self._types.pop((project_id, kind), None)

    # Examples

    @_call("listing examples")
    def examples(self, project_id: int) -> list[Example]:
        """Every example with the doc_id in its metadata, oldest first (None where it has none)."""
        found: list[Example] = []
        for row in self._pages(f"projects/{project_id}/examples"):
            doc_id = (row.get("meta") or {}).get("doc_id")
            found.append(Example(row["id"], doc_id if isinstance(doc_id, str) else None))
        return found

    @_call("listing confirmed examples")
    def confirmed_example_ids(self, project_id: int) -> set[int]:
        """The examples the logged-in user confirmed."""
        return {row["id"] for row in self._pages(f"projects/{project_id}/examples", {"confirmed": "true"})}

    def _pages(self, resource: str, params: dict | None = None) -> Iterator[dict]:
        # doccano-client pages with the server default (5 rows); ask for big pages
        # and count offsets ourselves rather than follow absolute `next` URLs.
        offset = 0
        while True:
            data = self._base.get(resource, params={**(params or {}), "limit": PAGE, "offset": offset}).json()
            yield from data["results"]
            offset += len(data["results"])
            if not data["results"] or offset >= data["count"]:
                return

    @_call("importing a batch")
    def import_jsonl(self, project_id: int, path: Path) -> None:
        """Import one JSONL file (Doccano relation format) and wait until the task queue has stored it."""
        repo = DataUploadRepository(self._base)
        upload_id = repo.upload(str(path))
        task_id = repo.ingest(project_id, [upload_id], IMPORT_TASK, IMPORT_FORMAT)
        result = self._wait(task_id, "the import")
        errors = (result or {}).get("error") or []
        if errors:
            first = "; ".join(str(e) for e in errors[:3])
            raise WorkbenchError(f"Doccano rejected {len(errors)} rows of the import: {first}")

    @_call("deleting examples")
    def delete_examples(self, project_id: int, example_ids: list[int]) -> None:
        # Doccano reads an empty id list as "delete every example".
        if not example_ids:
            return
        self._client.bulk_delete_examples(project_id, example_ids)

    @_call("exporting the project")
    def export(self, project_id: int, confirmed_only: bool, zip_path: Path, max_bytes: int) -> Path:
        """The JSONL export (one file per member, in a zip) saved to zip_path; larger than max_bytes is an error."""
        task_id = self._base.post(
            f"projects/{project_id}/download", json={"format": IMPORT_FORMAT, "exportApproved": confirmed_only}
        ).json()["task_id"]
        self._wait(task_id, "the export")
        # Stream to a name of our choosing: the server's Content-Disposition name is not trusted.
        response = self._base.get(f"projects/{project_id}/download", params={"taskId": task_id}, stream=True)
        size = 0
        with open(zip_path, "wb") as fh:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise WorkbenchError(f"the export from Doccano is larger than {max_bytes} bytes; raise --max-bytes")
                fh.write(chunk)
        return zip_path

    def _wait(self, task_id: str, what: str):
        deadline = time.monotonic() + self.task_timeout
        delay = 0.1
        while True:
            status = self._base.get(f"tasks/status/{task_id}").json()
            if status.get("ready"):
                if status.get("error"):
                    raise WorkbenchError(f"Doccano's task queue failed {what}: {status['error']}")
                return status.get("result")
            if time.monotonic() > deadline:
                raise WorkbenchError(
                    f"Doccano's task queue did not finish {what} within {self.task_timeout:g} s: "
                    "is `doccano task` running? (`workbench doccano status`)"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    # Users and members

    @_call("looking up a user")
    def user_exists(self, username: str) -> bool:
        return any(u.username == username for u in self._client.search_users(username))

    @_call("creating a user")
    def create_user(self, username: str, password: str) -> None:
        self._client.create_user(username, password)

    @_call("resetting a password")
    def set_password(self, username: str, password: str) -> None:
        """Give an existing user a new password, as a staff user in Django's admin site (Doccano's API has no way)."""
        user = next((u for u in self._client.search_users(username) if u.username == username), None)
        if user is None:
            raise WorkbenchError(f"Doccano at {self.url} has no user {username!r}")
        url = f"{self.url}/admin/auth/user/{user.id}/password/"
        session = self._base._session
        html = {"accept": "text/html"}
        form = session.get(url, headers=html, allow_redirects=False)
        if form.status_code != 200:
            raise WorkbenchError(
                f"Doccano at {self.url} did not open its password form for {self.username!r} (HTTP {form.status_code}): "
                "resetting a password needs a staff account (the admin `workbench doccano up` creates is one)"
            )
        token = session.cookies.get("csrftoken", "")
        answer = session.post(
            url,
            data={"csrfmiddlewaretoken": token, "password1": password, "password2": password},
            headers={**html, "content-type": "application/x-www-form-urlencoded", "X-CSRFToken": token, "referer": url},
            allow_redirects=False,
        )
        # Django's admin answers a saved form with a redirect, a rejected one with the form and its errors.
        if answer.status_code != 302:
            errors = re.findall(r'<ul class="errorlist[^"]*">\s*<li>(.*?)</li>', answer.text or "", re.S)
            why = html_text(errors[0]) if errors else f"HTTP {answer.status_code}"
            raise WorkbenchError(f"Doccano at {self.url} did not set the new password of {username!r}: {why}")

    @_call("listing project members")
    def members(self, project_id: int) -> list[Member]:
        return [Member(m.id, m.username, m.rolename) for m in self._client.list_members(project_id)]

    @_call("adding a project member")
    def add_member(self, project_id: int, username: str, role: str) -> None:
        self._client.add_member(project_id, username, role)

    @_call("changing a member's role")
    def set_role(self, project_id: int, member_id: int, role: str) -> None:
        self._client.update_member(project_id, member_id, role)

    @_call("reading annotation progress")
    def progress(self, project_id: int) -> list[Progress]:
        return [
            Progress(p.username, p.progress.completed, p.progress.total) for p in self._client.get_members_progress(project_id)
        ]

    # One user's annotations (the logged-in user's own, in a non-collaborative project)

    @_call("listing spans")
    def spans(self, project_id: int, example_id: int) -> list[Entity]:
        names = {t.id: t.name for t in self.label_types(project_id, "span").values()}
        return [Entity(s.id, names[s.label], s.start_offset, s.end_offset) for s in self._client.list_spans(project_id, example_id)]

    @_call("creating a span")
    def create_span(self, project_id: int, example_id: int, label: str, start: int, end: int) -> int:
        label_id = self.label_types(project_id, "span")[label].id
        return self._client.create_span(project_id, example_id, start, end, label_id).id

    @_call("changing a span")
    def update_span(self, project_id: int, example_id: int, span_id: int, label: str, start: int, end: int) -> None:
        label_id = self.label_types(project_id, "span")[label].id
        self._client.update_span(project_id, example_id, span_id, start_offset=start, end_offset=end, label=label_id)

    @_call("deleting a span")
    def delete_span(self, project_id: int, example_id: int, span_id: int) -> None:
        self._client.delete_span(project_id, example_id, span_id)

    @_call("listing relations")
    def relations(self, project_id: int, example_id: int) -> list[Relation]:
        names = {t.id: t.name for t in self.label_types(project_id, "relation").values()}
        return [Relation(r.id, r.from_id, r.to_id, names[r.type]) for r in self._client.list_relations(project_id, example_id)]

    @_call("creating a relation")
    def create_relation(self, project_id: int, example_id: int, head: int, tail: int, type_: str) -> int:
        type_id = self.label_types(project_id, "relation")[type_].id
        return self._client.create_relation(project_id, example_id, head, tail, type_id).id

    @_call("deleting a relation")
    def delete_relation(self, project_id: int, example_id: int, relation_id: int) -> None:
        self._client.delete_relation(project_id, example_id, relation_id)

    @_call("confirming an example")
    def toggle_confirmed(self, project_id: int, example_id: int) -> None:
        """Doccano's confirm button: confirms an unconfirmed example and un-confirms a confirmed one."""
        self._client.update_example_state(project_id, example_id)


def html_text(fragment: str) -> str:
    """The text of an HTML fragment (an error from a Django form), tags dropped, entities decoded."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _project(row: dict) -> Project:
    return Project(
        row["id"], row["name"], str(row["project_type"]), bool(row.get("use_relation")),
        bool(row.get("collaborative_annotation")), bool(row.get("allow_overlapping")), row.get("description") or "",
        row.get("guideline") or "",
    )
