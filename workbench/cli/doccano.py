"""`workbench doccano up|down|status|push|pull|progress|bench|annotator add`: the round trip with Doccano."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from tqdm import tqdm

from workbench import words
from workbench.cli._common import clean_errors, prompt_secret
from workbench.errors import WorkbenchError

app = typer.Typer(help="Run Doccano locally, push articles to it and pull annotations back as snapshots.", no_args_is_help=True)
annotator_app = typer.Typer(help="Manage the project's annotators.", no_args_is_help=True)
app.add_typer(annotator_app, name="annotator")

CONFIG = typer.Option(Path("configs/doccano.yml"), "--config", help="Doccano settings")
PROJECT = typer.Option(None, "--project", help="Doccano project (default: the config's; e.g. its review project)")
DATABASE = typer.Option(None, "--database", help="sqlite (embedded) or postgresql (a server of its own from Debian's package) (default: the config's)")
ENV_DATABASE_URL = "DOCCANO_DATABASE_URL"
SERVER_DIR = typer.Option(None, "--dir", help="Local server directory (default: WORKBENCH_DOCCANO_DIR, else the config's)")


def _paths(settings, server_dir: Optional[Path]):
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.session import settings_paths

    return settings_paths(settings, server_dir)


def _session(settings, server_dir: Optional[Path]):
    """Log in with DOCCANO_* (or the local server and its generated password)."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.session import open_session

    return open_session(settings, server_dir, prompt_secret)


def _load_settings(config: Path, project: Optional[str] = None):
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import load_settings

    settings = load_settings(config)
    if project:
        settings.project = project
    return settings


def _project(session, settings):
    project = session.find_project(settings.project)
    if project is None:
        raise WorkbenchError(f"Doccano at {session.url} has no project {settings.project!r}; run `workbench doccano push` first")
    return project


@app.command("up")
@clean_errors
def up(
    port: Optional[int] = typer.Option(None, help="Port on 127.0.0.1 (default: the config's, 8000)"),
    database: Optional[str] = DATABASE,
    database_url: Optional[str] = typer.Option(
        None, "--database-url", envvar=ENV_DATABASE_URL, show_envvar=True,
        help="An existing PostgreSQL server's postgres://USER:PASSWORD@HOST:PORT/DB instead of our own (the environment variable keeps the password off the command line)",
    ),
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Install Doccano 1.8.4 (once), start its database if it is ours, create the admin user and start the server on 127.0.0.1."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import DEFAULT_USERNAME, ENV_PASSWORD, ENV_USERNAME, load_settings
    from workbench.doccano.database import POSTGRESQL, DatabaseChoice
    from workbench.doccano.server import up as start_server

    settings = load_settings(config)
    paths = _paths(settings, server_dir)
    username = os.environ.get(ENV_USERNAME) or DEFAULT_USERNAME
    if database_url and database not in (None, POSTGRESQL):
        # DOCCANO_DATABASE_URL set in the environment must not silently override an explicit choice.
        raise WorkbenchError(f"--database {database} and a database URL (--database-url or ${ENV_DATABASE_URL}) disagree; give one")
    choice = DatabaseChoice(POSTGRESQL, database_url) if database_url else DatabaseChoice(database or settings.server.database)
    with tqdm(total=4, desc="doccano up", bar_format="{desc} (step {n}/{total}, {elapsed})") as bar:
        steps: list[str] = []

        def step(what: str) -> None:
            if steps:
                bar.update(1)
            steps.append(what)
            bar.set_description(what)

        url = start_server(
            paths, Path(settings.server.constraints), port or settings.server.port, username, os.environ.get(ENV_PASSWORD),
            settings.server.workers, settings.server.concurrency, step, choice,
        )
        bar.update(1)
    where = f"from {ENV_PASSWORD}" if os.environ.get(ENV_PASSWORD) else f"in {paths.password_file} (readable only by you)"
    typer.echo(f"Doccano runs at {url} on {choice.label}; user {username}, password {where}")


@app.command("down")
@clean_errors
def down(server_dir: Optional[Path] = SERVER_DIR, config: Path = CONFIG):
    """Stop the local server's processes, and its own PostgreSQL server if it has one (exactly those `up` started)."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import load_settings
    from workbench.doccano.server import down as stop

    stopped = stop(_paths(load_settings(config), server_dir))
    typer.echo(f"stopped Doccano (pids {', '.join(map(str, stopped.doccano))})" if stopped.doccano else "Doccano was not running")
    if stopped.database:
        typer.echo(f"stopped its PostgreSQL server (pid {', '.join(map(str, stopped.database))})")


@app.command("status")
@clean_errors
def status(server_dir: Optional[Path] = SERVER_DIR, config: Path = CONFIG):
    """Say whether the local server runs and where; exit 1 if it does not."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import load_settings
    from workbench.doccano.server import status as server_status

    state = server_status(_paths(load_settings(config), server_dir))
    if not state.running:
        typer.echo("Doccano is not running" + (f" (stale processes: {state.pids})" if state.pids else ""))
        raise typer.Exit(1)
    pids = ", ".join(f"{name} pid {pid}" for name, pid in sorted(state.pids.items()))
    health = "answering" if state.healthy else "NOT answering its health check"
    typer.echo(f"Doccano runs at {state.url} on {state.database} ({pids}); {health}")


@app.command("push")
@clean_errors
def push(
    split: Optional[str] = typer.Option(None, help="Only articles of this corpus split"),
    ids: Optional[List[str]] = typer.Option(None, "--ids", help="Only these doc_ids (repeat, or separate with commas)"),
    with_predictions: Optional[Path] = typer.Option(None, "--with-predictions", help="Trained pipeline whose entities and relations become pre-annotations"),
    refresh_predictions: bool = typer.Option(
        False, "--refresh-predictions", help="With --with-predictions: also replace the pre-annotations of articles already in the project that nobody has worked on"
    ),
    corpus: Path = typer.Option(Path("corpus/build"), help="Built corpus"),
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Create or reuse the project, then upload the articles it lacks (idempotent), with optional pre-annotations."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import load_settings, read_guideline
    from workbench.doccano.push import articles_from_corpus, model_predictor
    from workbench.doccano.push import push as push_project
    from workbench.labels import load_labels

    if refresh_predictions and not with_predictions:
        raise WorkbenchError("--refresh-predictions needs --with-predictions MODEL (the pre-annotations to put in)")
    settings = load_settings(config)
    wanted = [i for item in ids or [] for i in item.split(",") if i]
    articles = articles_from_corpus(corpus, split, wanted)
    predict = model_predictor(with_predictions) if with_predictions else None
    guideline = read_guideline(settings)
    session = _session(settings, server_dir)
    result = push_project(
        session, settings.project, settings.description, guideline, load_labels(settings.labels), articles, predict,
        settings.batch_size, refresh=refresh_predictions,
    )
    counts = result.counts
    verb = "created" if result.created else "reused"
    typer.echo(
        f"{verb} project {result.project.name!r} (id {result.project.id}) at {session.url}: uploaded {words.count(counts.uploaded, 'article')}, "
        f"{counts.already_there} already there"
        + (f", removed {counts.duplicates_removed} duplicate examples" if counts.duplicates_removed else "")
    )
    if predict is None:
        return
    typer.echo(f"pre-annotations uploaded: {counts.spans} spans, {counts.relations} relations")
    if counts.refreshed:
        typer.echo(
            f"refreshed the pre-annotations of {counts.refreshed} of the {words.count(counts.already_there, 'article')} already there, "
            "which nobody had worked on; run `workbench doccano annotator add NAME` again for each annotator to give them the new ones"
        )
    if counts.predictions_skipped and refresh_predictions:
        typer.secho(
            f"note: {words.count(counts.predictions_skipped, 'article')} already in the project kept their pre-annotations: an annotator "
            "has changed, commented on or confirmed them", fg=typer.colors.YELLOW, err=True,
        )
    elif counts.predictions_skipped:
        typer.secho(
            f"note: {words.count(counts.predictions_skipped, 'article')} {'was' if counts.predictions_skipped == 1 else 'were'} "
            "already in the project and did not get these "
            "pre-annotations; --refresh-predictions replaces them where nobody has worked on the article yet",
            fg=typer.colors.YELLOW, err=True,
        )


@app.command("next")
@clean_errors
def next_articles(
    n: int = typer.Argument(..., min=1, help="How many articles to push"),
    with_predictions: Optional[Path] = typer.Option(None, "--with-predictions", help="Trained pipeline: ranks the articles and pre-annotates them"),
    order: str = typer.Option("uncertainty", help="uncertainty (the model's least sure first), diversity (least like what is annotated) or random"),
    seed: int = typer.Option(0, help="Seed of the random order"),
    split: Optional[str] = typer.Option(None, help="Only articles of this corpus split"),
    annotated: Optional[List[Path]] = typer.Option(
        None, help="Annotation files or folders whose documents are done already (repeat; default: annotations/gold and the snapshots)"
    ),
    corpus: Path = typer.Option(Path("corpus/build"), help="Built corpus"),
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Rank the articles not yet in the project nor annotated, push the top N with pre-annotations; record ranking and pre-annotations."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import read_guideline
    from workbench.doccano.next import annotated_doc_ids, push_next
    from workbench.doccano.push import articles_from_corpus
    from workbench.labels import load_labels

    settings = _load_settings(config)
    # The defaults may not exist yet (no gold, no pull); folders the user names must.
    done = annotated or [p for p in (Path("annotations/gold"), Path(settings.snapshots)) if p.exists()]
    articles = articles_from_corpus(corpus, split)
    guideline = read_guideline(settings)
    session = _session(settings, server_dir)
    result = push_next(
        session, settings, load_labels(settings.labels), guideline, articles, n, order, with_predictions, annotated_doc_ids(done), seed
    )
    typer.echo(
        f"ranked {words.count(len(result.ranking.docs), 'article')} by {order}; pushed the top {len(result.chosen)} to {result.push.project.name!r} "
        f"(uploaded {result.push.counts.uploaded}){' with pre-annotations' if with_predictions else ''}"
    )
    for doc in result.ranking.docs[: len(result.chosen)]:
        typer.echo(f"  {doc.rank:>3}. {doc.doc_id}" + ("" if doc.score is None else f"  {doc.score:.3f}"))
    typer.echo(f"record: {result.record}")


@app.command("pull")
@clean_errors
def pull(
    name: Optional[str] = typer.Option(None, help="Snapshot name (default: <project>-<UTC time>)"),
    include_unconfirmed: bool = typer.Option(False, "--include-unconfirmed", help="Also examples an annotator labelled but did not confirm"),
    allow_invalid: bool = typer.Option(False, "--allow-invalid", help="Write the snapshot even if validation finds problems"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus to check texts against (skipped if absent)"),
    max_bytes: int = typer.Option(1 << 30, help="Largest export accepted, packed and unpacked"),
    project: Optional[str] = PROJECT,
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Export the annotations, one validated file per annotator, into a new immutable snapshot."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.corpus.store import Corpus
    from workbench.doccano.pull import pull as pull_snapshot
    from workbench.labels import load_labels

    settings = _load_settings(config, project)
    built = Corpus.open_if_built(corpus)
    session = _session(settings, server_dir)
    result = pull_snapshot(
        session, settings.project, Path(settings.snapshots), load_labels(settings.labels), name, include_unconfirmed, built,
        allow_invalid, max_bytes,
    )
    for problem in result.problems:
        typer.echo(str(problem), err=True)
    if result.unmapped:
        typer.secho(f"warning: {result.unmapped} examples have no doc_id in Doccano and were left out", fg=typer.colors.YELLOW, err=True)
    if result.path is None:
        raise WorkbenchError(f"{len(result.problems)} validation problems; no snapshot written (fix them in Doccano, or pass --allow-invalid)")
    counts = ", ".join(f"{user} {c['documents']}" for user, c in result.manifest["counts"].items()) or "no annotator"
    typer.echo(f"snapshot {result.path}: documents per annotator: {counts}")


@app.command("progress")
@clean_errors
def progress(project: Optional[str] = PROJECT, server_dir: Optional[Path] = SERVER_DIR, config: Path = CONFIG):
    """Per project member, how many documents they confirmed; with pushes recorded by `next`, their correction effort too."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.next import live_effort, project_pre_annotations

    settings = _load_settings(config, project)
    session = _session(settings, server_dir)
    project = _project(session, settings)
    for row in sorted(session.progress(project.id), key=lambda p: p.username):
        typer.echo(f"{row.username}\t{row.confirmed}/{row.total} confirmed")
    recorded = project_pre_annotations(settings.pushes, project.name)
    if recorded:
        from workbench.annotations.effort import format_effort
        from workbench.labels import load_labels

        typer.echo("correction effort on confirmed documents (pre-annotations from `doccano next`):")
        typer.echo(format_effort(live_effort(session, project, recorded, load_labels(settings.labels))))


@app.command("bench")
@clean_errors
def bench(
    n: Optional[int] = typer.Argument(None, min=1, help="Push and pull this many synthetic articles (without --annotators)"),
    annotators: Optional[int] = typer.Option(None, "--annotators", min=1, help="Load test: this many concurrent annotators"),
    seconds: float = typer.Option(40.0, "--seconds", min=1, help="Load test: how long the annotators work"),
    threads: int = typer.Option(1, "--threads", min=1, help="Load test: threads (and sessions) per annotator"),
    documents: int = typer.Option(200, "--documents", min=1, help="Load test: documents every annotator works through (at most)"),
    database: Optional[str] = typer.Option(
        None, "--database", help="Load test on throwaway servers in a temporary folder: sqlite, postgresql or both (default: the running server)"
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the benchmark project in Doccano afterwards"),
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Push and pull N synthetic articles (documents/s), or load-test concurrent annotators (requests/s, errors, lost labels)."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.bench import load_on_new_server, run_bench, run_load
    from workbench.doccano.config import load_settings
    from workbench.doccano.database import DATABASES
    from workbench.labels import load_labels

    settings = load_settings(config)
    scheme = load_labels(settings.labels)
    if annotators is None:
        if n is None:
            raise WorkbenchError("give N (push and pull N articles) or --annotators N (load test)")
        result = run_bench(_session(settings, server_dir), n, scheme, settings.batch_size, keep)
        typer.echo(f"push: {words.count(result.documents, 'document')} in {result.push_seconds:.1f} s = {result.push_rate:.1f} documents/s")
        typer.echo(f"pull: {words.count(result.pulled, 'document')} in {result.pull_seconds:.1f} s = {result.pull_rate:.1f} documents/s")
        return

    def load(session, label: str):
        return run_load(session, scheme, annotators, seconds, threads, documents, label, settings.batch_size, keep)

    if database is None:
        session = _session(settings, server_dir)
        results = [load(session, session.url)]
    else:
        kinds = DATABASES if database == "both" else (database,)
        if any(kind not in DATABASES for kind in kinds):
            raise WorkbenchError(f"--database must be one of {', '.join(DATABASES)} or both, not {database!r}")
        paths = _paths(settings, server_dir)
        results = [
            load_on_new_server(kind, paths.venv, Path(settings.server.constraints), load, settings.server.workers,
                               settings.server.concurrency, settings.timeout)
            for kind in kinds
        ]
    typer.echo(f"{words.count(annotators, 'annotator')} x {words.count(threads, 'thread')}, at most {seconds:g} s and {words.count(documents, 'document')} each")
    header = ("database", "requests", "seconds", "requests/s", "errors", "spans", "relations", "confirmed", "lost", "unexpected")
    rows = [(r.database, r.requests, f"{r.seconds:.1f}", f"{r.requests_per_second:.1f}", r.errors, r.spans, r.relations,
             r.confirmed, r.lost, r.unexpected) for r in results]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    for r in results:
        for sample in r.error_samples:
            typer.echo(f"{r.database}: error: {sample}", err=True)
    if any(r.lost for r in results):
        raise WorkbenchError("labels were lost: the pulled snapshot lacks labels Doccano acknowledged (see 'lost')")


@annotator_app.command("add")
@clean_errors
def annotator_add(
    username: str = typer.Argument(..., help="User name"),
    role: str = typer.Option("annotator", help="annotator, annotation_approver or project_admin"),
    no_seed: bool = typer.Option(False, "--no-seed", help="Do not copy the pre-annotations into the user's own annotations"),
    reset_password: bool = typer.Option(
        False, "--reset-password", help="Give an existing user a new password (DOCCANO_ANNOTATOR_PASSWORD or a prompt); needs a staff admin"
    ),
    project: Optional[str] = PROJECT,
    server_dir: Optional[Path] = SERVER_DIR,
    config: Path = CONFIG,
):
    """Create the user (password from DOCCANO_ANNOTATOR_PASSWORD or a prompt), check their login, add them to the project, give them the pre-annotations."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.annotators import ENV_ANNOTATOR_PASSWORD, add_annotator

    def password() -> str:
        secret = os.environ.get(ENV_ANNOTATOR_PASSWORD)
        if not secret and sys.stdin.isatty():
            secret = typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
        if not secret:
            raise WorkbenchError(f"no password for {username!r}: set {ENV_ANNOTATOR_PASSWORD}")
        return secret

    settings = _load_settings(config, project)
    session = _session(settings, server_dir)
    project = _project(session, settings)
    result = add_annotator(session, project.id, username, password, role, seed=not no_seed, reset_password=reset_password)
    what = "created user" if result.created else "user"
    if result.password_reset:
        what += " (new password set)"
    membership = f"now {role}" if result.role_changed else f"already {role}"
    typer.echo(f"{what} {username}: {membership} in {project.name!r}; pre-annotations copied for {words.count(result.seeded, 'document')}")
