"""The Doccano round trip against a real Doccano 1.8.4 server, started once for the session (conftest.py's doccano_server)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, build_repo_corpus
from doccano_helpers import ADMIN, VENV, cli, login, relation_keys, runner, span_key, write_config

from workbench.cli import app
from workbench.doccano.client import DoccanoSession, connect
from workbench.doccano.config import Credentials
from workbench.doccano.push import articles_from_corpus, push, records_predictor
from workbench.doccano.server import status, up
from workbench.errors import WorkbenchError
from workbench.records import read_records

def assert_clean_failure(result, *expected):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output


def free_word(text: str, taken: list, skip: int = 0) -> tuple[int, int]:
    """Offsets of an alphabetic word that no span covers (token-aligned, so the validator accepts a span there)."""
    import spacy

    found = 0
    for token in spacy.blank("en").make_doc(text):
        start, end = token.idx, token.idx + len(token)
        if token.is_alpha and len(token) > 3 and all(end <= e.start or start >= e.end for e in taken):
            if found == skip:
                return start, end
            found += 1
    raise AssertionError("no free word")


# The annotated project: pushed with pre-annotations, then two annotators at work.


@dataclass
class Annotated:
    config: Path
    corpus: str
    folder: Path
    examples: dict[str, int]
    project_id: int
    expected: dict[str, dict[str, tuple[set, set]]]


def annotate(session: DoccanoSession, project_id: int, example_id: int, text: str, edits: dict) -> None:
    """One annotator's edits on one example: delete, relabel, add a span and a relation."""
    spans = session.spans(project_id, example_id)
    relations = session.relations(project_id, example_id)
    in_relation = {r.head for r in relations} | {r.tail for r in relations}
    free = [s for s in spans if s.id not in in_relation]
    for span in free[: edits["delete_spans"]]:
        session.delete_span(project_id, example_id, span.id)
    for relation in relations[: edits["delete_relations"]]:
        session.delete_relation(project_id, example_id, relation.id)
    relabel = free[edits["delete_spans"]]
    session.update_span(project_id, example_id, relabel.id, edits["relabel"], relabel.start, relabel.end)
    start, end = free_word(text, spans, edits["word"])
    new = session.create_span(project_id, example_id, edits["new_label"], start, end)
    person = next(s for s in spans if s.label == "PERSON")
    session.create_relation(project_id, example_id, person.id, new, "AFFILIATION")


def as_truth(session: DoccanoSession, project_id: int, example_id: int) -> tuple[set, set]:
    spans = session.spans(project_id, example_id)
    return {span_key(s) for s in spans}, relation_keys(spans, session.relations(project_id, example_id))


@pytest.fixture(scope="module")
def annotated(doccano_server, tmp_path_factory, gold_records, scheme) -> Annotated:
    folder = tmp_path_factory.mktemp("round-trip")
    corpus = build_repo_corpus(folder).output
    config = write_config(folder, "round-trip")
    admin = login(doccano_server)
    result = push(admin, "round-trip", "test", "guideline", scheme, articles_from_corpus(corpus), records_predictor(gold_records), batch_size=2)
    assert (result.created, result.counts.uploaded, result.counts.already_there) == (True, 5, 0)
    for user in ("alice", "bob"):
        added = cli("annotator", "add", user, "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": f"{user}-Pass-2024"})
        assert added.exit_code == 0, added.output
        assert f"created user {user}: now annotator in 'round-trip'; pre-annotations copied for 5 documents" in added.output
    examples = {e.doc_id: e.id for e in admin.examples(result.project.id)}
    texts = {r.doc_id: r.text for r in gold_records}
    pid = result.project.id
    alice, bob = login(doccano_server, "alice", "alice-Pass-2024"), login(doccano_server, "bob", "bob-Pass-2024")
    shared = "004_0fbc241607889f95"
    annotate(alice, pid, examples[shared], texts[shared], {"delete_spans": 1, "delete_relations": 1, "relabel": "LOC", "new_label": "NORP", "word": 0})
    annotate(bob, pid, examples[shared], texts[shared], {"delete_spans": 2, "delete_relations": 0, "relabel": "DATE", "new_label": "ORG", "word": 3})
    confirmed = {"alice": ["002_f62e6af6bda9c9e2", shared], "bob": ["003_140c4e8053404410", shared]}
    for session, user in ((alice, "alice"), (bob, "bob")):
        for doc_id in confirmed[user]:
            session.toggle_confirmed(pid, examples[doc_id])
    # Confirming twice is un-confirming: 001 is not bob's confirmed work.
    bob.toggle_confirmed(pid, examples["001_05c9d2cdeba1758c"])
    bob.toggle_confirmed(pid, examples["001_05c9d2cdeba1758c"])
    expected = {
        user: {doc_id: as_truth(session, pid, examples[doc_id]) for doc_id in confirmed[user]}
        for session, user in ((alice, "alice"), (bob, "bob"))
    }
    return Annotated(config, corpus, folder, examples, pid, expected)


def test_snapshot_holds_each_annotators_exact_work(annotated, doccano_server, gold_records):
    result = cli("pull", "--config", annotated.config, "--name", "round-1", "--corpus", annotated.corpus)
    assert result.exit_code == 0, result.output
    snapshot = annotated.folder / "snapshots" / "round-1"
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["project"] == "round-trip" and manifest["project_id"] == annotated.project_id
    assert manifest["server"] == doccano_server.url and manifest["confirmed_only"] is True
    assert manifest["annotators"] == ["alice", "bob"] and manifest["created"].endswith("Z")
    assert sorted(manifest["files"]) == ["annotators/alice.jsonl", "annotators/bob.jsonl"]
    assert doccano_server.password not in (snapshot / "manifest.json").read_text()
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((snapshot / rel).read_bytes()).hexdigest() == digest
    gold = {r.doc_id: r for r in gold_records}
    for user, truth in annotated.expected.items():
        records = read_records(snapshot / "annotators" / f"{user}.jsonl")
        assert [r.doc_id for r in records] == sorted(truth)
        assert manifest["counts"][user] == {
            "documents": len(records),
            "entities": sum(len(r.entities) for r in records),
            "relations": sum(len(r.relations) for r in records),
        }
        for record in records:
            assert record.meta["annotator"] == user and record.meta["confirmed"] is True
            assert all(isinstance(e.id, int) for e in record.entities)
            spans, relations = truth[record.doc_id]
            assert {span_key(e) for e in record.entities} == spans
            assert relation_keys(record.entities, record.relations) == relations
            assert record.text == gold[record.doc_id].text
    alice = {r.doc_id: r for r in read_records(snapshot / "annotators" / "alice.jsonl")}
    bob = {r.doc_id: r for r in read_records(snapshot / "annotators" / "bob.jsonl")}
    # Untouched but confirmed: exactly the pre-annotations, which reached the annotator.
    untouched = gold["002_f62e6af6bda9c9e2"]
    assert {span_key(e) for e in alice["002_f62e6af6bda9c9e2"].entities} == {span_key(e) for e in untouched.entities}
    assert relation_keys(alice["002_f62e6af6bda9c9e2"].entities, alice["002_f62e6af6bda9c9e2"].relations) == relation_keys(
        untouched.entities, untouched.relations
    )
    shared = "004_0fbc241607889f95"
    assert {e.label for e in alice[shared].entities} >= {"NORP", "LOC"}
    assert len(alice[shared].entities) == len(gold[shared].entities) and len(bob[shared].entities) == len(gold[shared].entities) - 1
    assert {span_key(e) for e in alice[shared].entities} != {span_key(e) for e in bob[shared].entities}
    for path in (snapshot / "annotators").iterdir():
        checked = runner.invoke(app, ["annotations", "validate", str(path), "--corpus", annotated.corpus])
        assert checked.exit_code == 0, checked.output


def test_review_round_trip_resolves_conflicts_in_gold(annotated, doccano_server, tmp_path):
    """adjudicate --review -> Doccano review project (every version) -> reviewer confirms -> pull -> --resolved."""
    assert cli("pull", "--config", annotated.config, "--name", "for-review", "--corpus", annotated.corpus).exit_code == 0
    snapshot = annotated.folder / "snapshots" / "for-review"
    shared = "004_0fbc241607889f95"
    review_args = ["--review", "--review-project", "round-trip-review", "--doccano-config", str(annotated.config)]
    adjudicate = ["annotations", "adjudicate", str(snapshot), "-o", str(tmp_path / "gold.jsonl")]
    first = runner.invoke(app, [*adjudicate, *review_args])
    assert first.exit_code == 0, first.output
    assert "review: 1 document with conflicts -> Doccano project 'round-trip-review'" in first.output

    admin = login(doccano_server)
    project = admin.find_project("round-trip-review")
    assert project.allow_overlapping and [e.doc_id for e in admin.examples(project.id)] == [shared]
    example = admin.examples(project.id)[0].id
    # The pushing account sees the union of both annotators' versions as its own spans.
    alice, bob = annotated.expected["alice"][shared], annotated.expected["bob"][shared]
    spans = admin.spans(project.id, example)
    assert {span_key(s) for s in spans} == alice[0] | bob[0]
    assert relation_keys(spans, admin.relations(project.id, example)) == alice[1] | bob[1]
    again = runner.invoke(app, [*adjudicate[:-1], str(tmp_path / "gold-again.jsonl"), *review_args])
    assert again.exit_code == 0 and "0 uploaded, 1 already there" in again.output

    # The reviewer keeps alice's spans, drops bob's own, and confirms.
    for span in spans:
        if span_key(span) not in alice[0]:
            admin.delete_span(project.id, example, span.id)
    admin.toggle_confirmed(project.id, example)
    resolution = as_truth(admin, project.id, example)
    pulled = cli("pull", "--config", annotated.config, "--project", "round-trip-review", "--name", "review-1", "--corpus", annotated.corpus)
    assert pulled.exit_code == 0, pulled.output
    reviewed = read_records(annotated.folder / "snapshots" / "review-1" / "annotators" / f"{ADMIN}.jsonl")
    # Who said what travelled as the example's metadata, where the reviewer saw it.
    assert "alice" in reviewed[0].meta["review_notes"] and "bob" in reviewed[0].meta["review_notes"]

    resolved = runner.invoke(app, [*adjudicate[:-1], str(tmp_path / "final.jsonl"), "--resolved", str(annotated.folder / "snapshots" / "review-1")])
    assert resolved.exit_code == 0, resolved.output
    assert "resolved in review: 1 document\n" in resolved.output and "0 open conflicts" in resolved.output
    final = {r.doc_id: r for r in read_records(tmp_path / "final.jsonl")}[shared]
    assert {span_key(e) for e in final.entities} == resolution[0] == alice[0]
    assert relation_keys(final.entities, final.relations) == resolution[1]
    assert final.meta["adjudication"]["provenance"] == "review" and final.meta["adjudication"]["reviewer"] == ADMIN
    # Provenance survives review: a span both annotators made names both.
    both = next(e for e in final.entities if span_key(e) in bob[0])
    assert both.attrs["annotators"] == ["alice", "bob"]


def test_second_push_adds_nothing(annotated, doccano_server):
    result = cli("push", "--config", annotated.config, "--corpus", annotated.corpus)
    assert result.exit_code == 0, result.output
    assert "reused project 'round-trip'" in result.output and "uploaded 0 articles, 5 already there" in result.output
    assert len(login(doccano_server).examples(annotated.project_id)) == 5


def test_progress_counts_confirmed_documents_per_annotator(annotated):
    result = cli("progress", "--config", annotated.config)
    assert result.exit_code == 0, result.output
    assert "alice\t2/5 confirmed" in result.output and "bob\t2/5 confirmed" in result.output
    assert "admin\t0/5 confirmed" in result.output


def test_unconfirmed_pull_adds_labelled_work_marked_unconfirmed(annotated):
    result = cli("pull", "--config", annotated.config, "--name", "round-1-all", "--include-unconfirmed", "--corpus", annotated.corpus)
    assert result.exit_code == 0, result.output
    snapshot = annotated.folder / "snapshots" / "round-1-all"
    manifest = json.loads((snapshot / "manifest.json").read_text())
    # The pushing account owns the imported pre-annotations, so it shows up too.
    assert manifest["annotators"] == ["admin", "alice", "bob"] and manifest["confirmed_only"] is False
    alice = read_records(snapshot / "annotators" / "alice.jsonl")
    assert {r.doc_id: r.meta["confirmed"] for r in alice} == {
        "000_2cb32350f79870a9": False,
        "001_05c9d2cdeba1758c": False,
        "002_f62e6af6bda9c9e2": True,
        "003_140c4e8053404410": False,
        "004_0fbc241607889f95": True,
    }
    assert not any(r.meta["confirmed"] for r in read_records(snapshot / "annotators" / "admin.jsonl"))


def test_existing_snapshot_is_refused_and_kept(annotated):
    first = cli("pull", "--config", annotated.config, "--name", "keep-me", "--corpus", annotated.corpus)
    assert first.exit_code == 0, first.output
    manifest = (annotated.folder / "snapshots" / "keep-me" / "manifest.json").read_bytes()
    again = cli("pull", "--config", annotated.config, "--name", "keep-me", "--corpus", annotated.corpus)
    assert_clean_failure(again, "never overwritten")
    assert (annotated.folder / "snapshots" / "keep-me" / "manifest.json").read_bytes() == manifest
    assert not [p for p in (annotated.folder / "snapshots").iterdir() if p.name.startswith(".")]


def test_pull_killed_publishes_a_whole_snapshot_or_none(annotated, tmp_path):
    from killpoints import kill_at, leftovers, trace, tree

    config = write_config(tmp_path, "round-trip")  # the annotated project, into a snapshots folder of this test's own
    snapshots = tmp_path / "snapshots"
    pull = ["doccano", "pull", "--config", str(config), "--corpus", str(annotated.corpus), "--name"]
    points, _ = trace([*pull, "first"], tmp_path, tmp_path / "trace.jsonl")
    publish = next(p.index for p in points if p.dst == str(snapshots / "first"))
    # Before the first annotator's file goes into the staging folder, after the manifest, and around the rename.
    chosen = [(1, "before"), (publish - 1, "after"), (publish, "before"), (publish, "after")]
    for index, when in chosen:
        earlier = tree(snapshots)
        name = f"killed-{index}-{when}"
        kill_at([*pull, name], tmp_path, index, when, tmp_path / f"{name}.log")
        published = (index, when) == (publish, "after")
        assert (snapshots / name).exists() == published, "published at the rename, whole, or not at all"
        assert bool(leftovers(snapshots)) != published, "a killed pull leaves only its hidden staging folder"
        assert {k: v for k, v in tree(snapshots).items() if not k.startswith(f"{name}/")} == earlier, "earlier snapshots intact"
        if published:
            manifest = json.loads((snapshots / name / "manifest.json").read_text())
            for rel, digest in manifest["files"].items():
                assert hashlib.sha256((snapshots / name / rel).read_bytes()).hexdigest() == digest
        again = cli("pull", "--config", config, "--corpus", annotated.corpus, "--name", name)
        if published:
            assert_clean_failure(again, "never overwritten")
        else:
            assert again.exit_code == 0, again.output
        assert leftovers(snapshots) == [], "the next pull removed what the killed one left"


def test_annotator_may_not_export(annotated, doccano_server):
    env = {"DOCCANO_USERNAME": "alice", "DOCCANO_PASSWORD": "alice-Pass-2024"}
    result = cli("pull", "--config", annotated.config, "--name", "by-alice", env=env)
    assert_clean_failure(result, "refused exporting the project for user 'alice' (HTTP 403)", "project admin")


# Pushing: interrupted and resumed, raced.


def test_interrupted_push_resumed_leaves_no_duplicate(doccano_server, tmp_path, gold_records, scheme):
    corpus = build_repo_corpus(tmp_path).output
    articles = articles_from_corpus(corpus)
    admin = login(doccano_server)
    calls = []

    def interrupting(batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return records_predictor(gold_records)(batch)

    with pytest.raises(KeyboardInterrupt):
        push(admin, "resume", "test", "g", scheme, articles, interrupting, batch_size=2)
    project = admin.find_project("resume")
    assert len(admin.examples(project.id)) == 2
    # A batch that landed twice, as when a push resumes while its last import still runs.
    from workbench.doccano.push import upload_row
    from workbench.fileio import write_jsonl

    again = write_jsonl(tmp_path / "again.jsonl", [upload_row(articles[0], None)])
    assert again == 1
    admin.import_jsonl(project.id, tmp_path / "again.jsonl")
    assert len(admin.examples(project.id)) == 3
    result = push(admin, "resume", "test", "g", scheme, articles, records_predictor(gold_records), batch_size=2)
    assert (result.created, result.counts.uploaded, result.counts.already_there, result.counts.duplicates_removed) == (False, 3, 2, 1)
    examples = admin.examples(project.id)
    assert sorted(e.doc_id for e in examples) == sorted(a[0] for a in articles)
    first = min(e.id for e in examples)
    assert first == min(e.id for e in examples if e.doc_id == articles[0][0])


# Failures: one clear line and exit 1.


def test_status_says_where_it_runs(doccano_server):
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert f"Doccano runs at {doccano_server.url}" in result.output and "answering" in result.output


def test_wrong_password_fails_cleanly(doccano_server, tmp_path):
    result = cli("progress", "--config", write_config(tmp_path, "round-trip"), env={"DOCCANO_PASSWORD": "wrong-password"})
    assert_clean_failure(result, "refused the login of 'admin': wrong user name or password")
    assert "wrong-password" not in result.output


def test_missing_project_fails_cleanly(doccano_server, tmp_path):
    result = cli("pull", "--config", write_config(tmp_path, "no-such-project"))
    assert_clean_failure(result, "has no project 'no-such-project'", "workbench doccano push")
    assert not (tmp_path / "snapshots").exists() or not list((tmp_path / "snapshots").iterdir())


def test_server_that_does_not_answer_times_out_cleanly(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        result = cli("progress", "--config", write_config(tmp_path, "x", timeout=1), env={"DOCCANO_URL": url, "DOCCANO_PASSWORD": "pw"})
        assert_clean_failure(result, f"Doccano at {url} did not answer within 1 s")
    finally:
        silent.close()


def test_pull_with_the_server_stopped_fails_cleanly_and_writes_nothing(doccano_server, annotated):
    stopped = cli("down")
    assert stopped.exit_code == 0 and "stopped Doccano (pids" in stopped.output, stopped.output
    try:
        assert not status(doccano_server.paths).pids
        assert_clean_failure(cli("status"), "Doccano is not running")
        before = sorted(p.name for p in (annotated.folder / "snapshots").iterdir())
        result = cli("pull", "--config", annotated.config, "--name", "while-down", "--corpus", annotated.corpus)
        assert_clean_failure(result, f"cannot reach Doccano at {doccano_server.url}", "workbench doccano up")
        assert sorted(p.name for p in (annotated.folder / "snapshots").iterdir()) == before
        with pytest.raises(WorkbenchError, match="cannot reach Doccano"):
            login(doccano_server)
    finally:
        steps: list[str] = []
        up(doccano_server.paths, ROOT / "configs" / "doccano-constraints.txt", doccano_server.port, ADMIN, doccano_server.password, progress=steps.append)
    assert login(doccano_server).find_project("round-trip") is not None
    # `up` again: the installed venv is reused, and it says so instead of announcing an install.
    assert steps[0] == f"reusing doccano in {VENV}"


# Pre-annotations from a real (small) pipeline, and retries through a flaky gateway.


def tiny_model(path: Path, gold_records, labels: tuple = ("PERSON", "GPE")) -> Path:
    """A real spaCy pipeline on disk that finds the gold's names of these labels: instant and deterministic."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    names = {(r.text[e.start : e.end], e.label) for r in gold_records for e in r.entities if e.label in labels}
    ruler.add_patterns([{"label": label, "pattern": name} for name, label in sorted(names)])
    nlp.to_disk(path)
    return path


def test_push_with_predictions_from_a_model(doccano_server, tmp_path, gold_records):
    from workbench.predict import load_pipeline, predict_records

    corpus = build_repo_corpus(tmp_path).output
    model = tiny_model(tmp_path / "model", gold_records)
    ids = ["002_f62e6af6bda9c9e2", "004_0fbc241607889f95"]
    config = write_config(tmp_path, "predicted")
    result = cli("push", "--config", config, "--corpus", corpus, "--ids", ",".join(ids), "--with-predictions", model)
    assert result.exit_code == 0, result.output
    assert "created project 'predicted'" in result.output and "uploaded 2 articles" in result.output
    articles = [a for a in articles_from_corpus(corpus) if a[0] in ids]
    predicted = {r.doc_id: r for r in predict_records(load_pipeline(model), articles)}
    assert sum(len(r.entities) for r in predicted.values()) > 0
    admin = login(doccano_server)
    project = admin.find_project("predicted")
    for example in admin.examples(project.id):
        stored = admin.spans(project.id, example.id)
        assert {span_key(e) for e in stored} == {span_key(e) for e in predicted[example.doc_id].entities}


class FlakyGateway:
    """A gateway in front of the real server that answers the first `failures` GETs with 503, then passes all through."""

    def __init__(self, upstream: str, failures: int):
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.failed = 0
        gateway = self
        host, port = urlsplit(upstream).hostname, urlsplit(upstream).port

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def relay(self):
                if self.command == "GET" and gateway.failed < failures:
                    gateway.failed += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = http.client.HTTPConnection(host, port, timeout=30)
                conn.request(self.command, self.path, body=body, headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_transient_gateway_errors_are_retried(doccano_server):
    flaky, broken = FlakyGateway(doccano_server.url, failures=2), FlakyGateway(doccano_server.url, failures=10**6)
    try:
        session = connect(Credentials(flaky.url, ADMIN, doccano_server.password), timeout=30)
        assert session.find_project("no-such-project") is None
        assert flaky.failed == 2
        session = connect(Credentials(broken.url, ADMIN, doccano_server.password), timeout=30)
        with pytest.raises(WorkbenchError, match=r"failed with HTTP 503 \(listing projects\)"):
            session.find_project("no-such-project")
        assert broken.failed == 4  # the first try and three retries, with backoff
    finally:
        flaky.close()
        broken.close()


# What annotators meet: guideline, description, pre-annotations they can trust, their own login.


def test_pushed_guideline_and_descriptions_are_for_annotators(doccano_server, tmp_path, gold_records, scheme):
    from workbench.doccano.review import REVIEW_DESCRIPTION, push_review

    corpus = build_repo_corpus(tmp_path).output
    source = (ROOT / "annotations" / "GUIDELINES.md").read_text(encoding="utf-8")
    # The repository's guideline has a maintainers' note; what Doccano shows must not.
    assert "<!-- maintainers -->" in source and "configs/labels.yml" in source
    config = write_config(tmp_path, "guided", description="First description.")
    assert cli("push", "--config", config, "--corpus", corpus, "--ids", "002_f62e6af6bda9c9e2").exit_code == 0
    admin = login(doccano_server)
    project = admin.find_project("guided")
    assert "## Working in Doccano" in project.guideline and "book icon" in project.guideline
    for developer_text in ("maintainers", "configs/labels.yml", "shared/", "this page should be fixed", "## The gold set"):
        assert developer_text not in project.guideline
    assert project.description == "First description."
    # A changed description reaches an existing project on the next push.
    config = write_config(tmp_path, "guided", description="Mark people and roles; the guideline is behind the book icon.")
    again = cli("push", "--config", config, "--corpus", corpus, "--ids", "002_f62e6af6bda9c9e2")
    assert again.exit_code == 0 and "uploaded 0 articles, 1 already there" in again.output
    assert admin.find_project("guided").description == "Mark people and roles; the guideline is behind the book icon."
    # The review project reads differently in the project list.
    gold = [r for r in gold_records if r.doc_id == "002_f62e6af6bda9c9e2"]
    push_review(admin, "guided-review", project.guideline, scheme, gold, batch_size=2)
    review = admin.find_project("guided-review")
    assert review.description == REVIEW_DESCRIPTION != admin.find_project("guided").description
    assert review.guideline.startswith("# Review: resolve the annotators' conflicts")


def test_refresh_predictions_replaces_only_untouched_pre_annotations(doccano_server, tmp_path, gold_records):
    from workbench.predict import load_pipeline, predict_records

    corpus = build_repo_corpus(tmp_path).output
    first = tiny_model(tmp_path / "people", gold_records, ("PERSON",))
    second = tiny_model(tmp_path / "places", gold_records, ("GPE",))
    touched_doc, untouched_doc = "002_f62e6af6bda9c9e2", "003_140c4e8053404410"
    ids = ",".join((touched_doc, untouched_doc))
    articles = [a for a in articles_from_corpus(corpus) if a[0] in (touched_doc, untouched_doc)]
    predicted = {
        model: {r.doc_id: {span_key(e) for e in r.entities} for r in predict_records(load_pipeline(model), articles)}
        for model in (first, second)
    }
    assert all(predicted[first].values()) and all(predicted[second].values())
    config = write_config(tmp_path, "refresh")
    pushed = cli("push", "--config", config, "--corpus", corpus, "--ids", ids, "--with-predictions", first)
    assert pushed.exit_code == 0, pushed.output
    # The entity ruler predicts no relations.
    assert f"pre-annotations uploaded: {sum(map(len, predicted[first].values()))} spans, 0 relations" in pushed.output
    env = {"DOCCANO_ANNOTATOR_PASSWORD": "dave-Pass-2024"}
    assert "pre-annotations copied for 2 documents" in cli("annotator", "add", "dave", "--config", config, env=env).output
    admin, dave = login(doccano_server), login(doccano_server, "dave", "dave-Pass-2024")
    project = admin.find_project("refresh").id

    def spans(session) -> dict:
        return {e.doc_id: {span_key(s) for s in session.spans(project, e.id)} for e in admin.examples(project)}

    # dave corrects one pre-annotated span of one document: that document is his work now.
    example = {e.doc_id: e.id for e in admin.examples(project)}[touched_doc]
    removed = dave.spans(project, example)[0]
    dave.delete_span(project, example, removed.id)
    daves_work = spans(dave)[touched_doc]

    plain = cli("push", "--config", config, "--corpus", corpus, "--ids", ids, "--with-predictions", second)
    assert plain.exit_code == 0, plain.output
    assert "note: 2 articles were already in the project and did not get these pre-annotations; --refresh-predictions" in plain.output
    assert spans(admin) == predicted[first]

    refreshed = cli("push", "--config", config, "--corpus", corpus, "--ids", ids, "--with-predictions", second, "--refresh-predictions")
    assert refreshed.exit_code == 0, refreshed.output
    # Both articles were there before and are there after: one got new pre-annotations, one kept dave's work.
    assert "uploaded 0 articles, 2 already there" in refreshed.output
    assert "refreshed the pre-annotations of 1 of the 2 articles already there, which nobody had worked on" in refreshed.output
    assert "note: 1 article already in the project kept their pre-annotations" in refreshed.output
    assert spans(admin) == {touched_doc: predicted[first][touched_doc], untouched_doc: predicted[second][untouched_doc]}
    assert sorted(e.doc_id for e in admin.examples(project)) == [touched_doc, untouched_doc]
    assert spans(dave)[touched_doc] == daves_work
    # Adding dave again gives him the new pre-annotations of the refreshed document only.
    again = cli("annotator", "add", "dave", "--config", config, env=env)
    assert "pre-annotations copied for 1 document" in again.output, again.output
    assert spans(dave) == {touched_doc: daves_work, untouched_doc: predicted[second][untouched_doc]}
    assert_clean_failure(cli("push", "--config", config, "--corpus", corpus, "--refresh-predictions"), "--refresh-predictions needs --with-predictions")


def test_annotator_add_checks_the_login_before_changing_anything(doccano_server, tmp_path, gold_records, scheme):
    corpus = build_repo_corpus(tmp_path).output
    config = write_config(tmp_path, "login-first")
    admin = login(doccano_server)
    result = push(admin, "login-first", "d", "g", scheme, articles_from_corpus(corpus, ids=["004_0fbc241607889f95"]), records_predictor(gold_records))
    admin.create_user("frank", "frank-Old-2024")
    wrong = cli("annotator", "add", "frank", "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": "not-his-password"})
    assert_clean_failure(wrong, "refused the login of 'frank'", "--reset-password")
    assert "frank" not in [m.username for m in admin.members(result.project.id)]

    reset = cli("annotator", "add", "frank", "--reset-password", "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": "frank-New-2024"})
    assert reset.exit_code == 0, reset.output
    assert "user (new password set) frank: now annotator in 'login-first'; pre-annotations copied for 1 document" in reset.output
    frank = login(doccano_server, "frank", "frank-New-2024")
    example = admin.examples(result.project.id)[0].id
    gold = next(r for r in gold_records if r.doc_id == "004_0fbc241607889f95")
    assert {span_key(s) for s in frank.spans(result.project.id, example)} == {span_key(e) for e in gold.entities}
    with pytest.raises(WorkbenchError, match="refused the login of 'frank'"):
        login(doccano_server, "frank", "frank-Old-2024")
    rerun = cli("annotator", "add", "frank", "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": "frank-New-2024"})
    assert rerun.exit_code == 0 and "user frank: already annotator in 'login-first'; pre-annotations copied for 0 documents" in rerun.output


# Model in the loop: rank what to annotate next, push it, measure the correction effort.


def test_next_ranks_only_new_articles_records_the_push_and_measures_effort(doccano_server, tmp_path, gold_records, ruler_rel_model):
    from workbench.doccano.next import PRE_ANNOTATIONS, RANKING
    from workbench.predict import load_pipeline, predict_records

    corpus = build_repo_corpus(tmp_path).output
    config = write_config(tmp_path, "loop", pushes=str(tmp_path / "pushes"))
    ids = sorted(a[0] for a in articles_from_corpus(corpus))
    # ids[0] is annotated already (a gold file), ids[1] is in the project already: neither may be ranked.
    done = tmp_path / "done.jsonl"
    done.write_text(json.dumps(next(r for r in gold_records if r.doc_id == ids[0]).to_dict()) + "\n", encoding="utf-8")
    assert cli("push", "--config", config, "--corpus", corpus, "--ids", ids[1]).exit_code == 0
    args = ["next", "2", "--config", config, "--corpus", corpus, "--with-predictions", ruler_rel_model, "--order", "diversity", "--annotated", done]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    record = next((tmp_path / "pushes").iterdir())
    ranking = json.loads((record / RANKING).read_text())
    assert sorted(d["doc_id"] for d in ranking["docs"]) == ids[2:]
    chosen = ranking["chosen"]
    assert chosen == [d["doc_id"] for d in ranking["docs"][:2]] and ranking["uploaded"] == 2 and ranking["order"] == "diversity"
    admin = login(doccano_server)
    project = admin.find_project("loop")
    examples = {e.doc_id: e.id for e in admin.examples(project.id)}
    assert sorted(examples) == sorted([ids[1], *chosen])
    # The recorded pre-annotations are the model's predictions, and what Doccano holds.
    sent = {r.doc_id: r for r in read_records(record / PRE_ANNOTATIONS)}
    articles = [a for a in articles_from_corpus(corpus) if a[0] in chosen]
    predicted = {r.doc_id: r for r in predict_records(load_pipeline(ruler_rel_model), articles)}
    assert sorted(sent) == sorted(chosen)
    for doc_id in chosen:
        assert [span_key(e) for e in sent[doc_id].entities] == [span_key(e) for e in predicted[doc_id].entities]
        assert {span_key(s) for s in admin.spans(project.id, examples[doc_id])} == {span_key(e) for e in sent[doc_id].entities}

    # alice confirms the first untouched and deletes one span of the second before confirming.
    added = cli("annotator", "add", "alice", "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": "alice-Pass-2024"})
    assert added.exit_code == 0, added.output
    alice = login(doccano_server, "alice", "alice-Pass-2024")
    untouched, edited = chosen
    spans = alice.spans(project.id, examples[edited])
    in_relation = {r.head for r in alice.relations(project.id, examples[edited])} | {r.tail for r in alice.relations(project.id, examples[edited])}
    alice.delete_span(project.id, examples[edited], next(s for s in spans if s.id not in in_relation).id)
    for doc_id in chosen:
        alice.toggle_confirmed(project.id, examples[doc_id])
    pushed_entities = sum(len(sent[d].entities) for d in chosen)
    pushed_relations = sum(len(sent[d].relations) for d in chosen)
    # Every pushed entity but the deleted one is kept; relations all kept.
    expected = f"{pushed_entities - 1:>7}{0:>7}{0:>7}{1:>8}{0:>7}"
    progress = cli("progress", "--config", config)
    assert progress.exit_code == 0, progress.output
    assert "alice\t2/3 confirmed" in progress.output and "correction effort" in progress.output
    alice_line = next(line for line in progress.output.splitlines() if line.startswith("alice ") and "entities" in line)
    assert alice_line.endswith(f"{expected}{100 * (pushed_entities - 1) / pushed_entities:>8.1f}")

    assert cli("pull", "--config", config, "--name", "loop-1", "--corpus", corpus).exit_code == 0
    out = tmp_path / "effort.json"
    effort = runner.invoke(app, ["annotations", "effort", str(tmp_path / "snapshots" / "loop-1"), "--doccano-config", str(config), "--json", str(out)])
    assert effort.exit_code == 0, effort.output
    figures = json.loads(out.read_text())["annotators"]["alice"]
    assert figures["documents"] == 2
    assert figures["entities"] == {
        "kept": pushed_entities - 1, "changed_label": 0, "changed_boundary": 0, "deleted": 1, "added": 0, "pushed": pushed_entities,
        "kept_share": round((pushed_entities - 1) / pushed_entities, 4),
    }
    assert figures["relations"]["kept"] == pushed_relations and figures["relations"]["pushed"] == pushed_relations

    # One article is left to rank; after it, nothing.
    last = cli("next", "5", "--config", config, "--corpus", corpus, "--order", "random", "--annotated", done)
    assert last.exit_code == 0 and "pushed the top 1" in last.output, last.output
    assert_clean_failure(cli("next", "1", "--config", config, "--corpus", corpus, "--annotated", done), "nothing to rank")
