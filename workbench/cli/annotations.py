"""`workbench annotations ...`: validate annotation files, measure agreement, adjudicate into gold, statistics, reach."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from workbench import words
from workbench.annotation_files import ANNOTATOR_DIR, INPUTS_HELP, annotation_paths
from workbench.cli._common import clean_errors, prompt_secret
from workbench.corpus.split import load_assignments
from workbench.errors import WorkbenchError
from workbench.fileio import write_json
from workbench.records import read_records, write_records

app = typer.Typer(help="Validate, compare, adjudicate and count annotations.", no_args_is_help=True)

LABELS_HELP = "Label config (labels to list, symmetric relation types)"


class Policy(str, Enum):
    majority = "majority"
    unanimous = "unanimous"


@app.command("validate")
@clean_errors
def validate(
    paths: List[Path] = typer.Argument(..., help=INPUTS_HELP + "; each annotator's file is checked on its own"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus to check texts against (skipped if absent)"),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Do not compare texts with the corpus"),
    lint: bool = typer.Option(False, "--lint", help="Also warn about plausible mistakes (lowercase names, one text with two labels, ...)"),
    name_label: Optional[List[str]] = typer.Option(
        None, "--name-label", help="With --lint: a proper-name label (repeat; default: those of PERSON, ORG, GPE, LOC, NORP, FAC the scheme has)"
    ),
):
    """Report every problem with file, line, document and offsets; exit 1 if there is any. Warnings (--lint) never fail."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.annotations.lint import lint_file, name_labels_for
    from workbench.annotations.validate import source_groups, validate_groups
    from workbench.corpus.store import Corpus
    from workbench.labels import load_labels

    scheme = load_labels(labels)
    built = None if no_corpus else Corpus.open_if_built(corpus)
    # Expanded once: a snapshot's files are hashed against its manifest once, for both checks.
    groups = source_groups(paths)
    problems, count = validate_groups(groups, scheme, built)
    if lint:
        names = name_labels_for(scheme, name_label)
        warnings = {str(path): lint_file(path, names) for group in groups for path in group}
        for found in warnings.values():
            for warning in found:
                typer.secho(str(warning), fg=typer.colors.YELLOW, err=True)
        # A snapshot's files are its annotators: name them, so a reviewer knows whose work to look at.
        per_file = ", ".join(
            f"{Path(path).stem if Path(path).parent.name == ANNOTATOR_DIR else path} {len(found)}" for path, found in warnings.items() if found
        )
        typer.echo(f"warnings: {per_file}" if per_file else "warnings: none")
    for problem in problems:
        typer.echo(str(problem), err=True)
    checked = "checked against the corpus" if built is not None else "corpus not checked"
    if problems:
        typer.secho(f"{words.count(len(problems), 'problem')} in {words.count(count, 'document')} ({checked})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {words.count(count, 'document')}, no problems ({checked})")


@app.command("agreement")
@clean_errors
def agreement(
    sources: List[Path] = typer.Argument(..., help=INPUTS_HELP),
    json_out: Path = typer.Option(..., "--json", help="Agreement JSON; the Markdown report (.md) and plot (.png) go beside it"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help=LABELS_HELP),
):
    """Pairwise agreement between annotators, on the documents both of them confirmed."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.annotations.agreement import measure_agreement
    from workbench.annotations.report import fmt, write_agreement
    from workbench.annotations.snapshot import load_sources
    from workbench.labels import load_labels

    figures = measure_agreement(load_sources(sources), load_labels(labels))
    paths = write_agreement(figures, json_out)
    ents, rels = figures["entities"]["micro"], figures["relations"]["micro"]
    skipped = sum(len(pair["skipped"]) for pair in figures["pairs"])
    typer.echo(
        f"{words.count(figures['documents'], 'document')} compared ({', '.join(figures['annotators'])}; "
        f"{skipped} document-pairs not confirmed by both, left out)"
    )
    typer.echo(f"entities: F1 exact {fmt(ents['f1_exact'])}, overlap {fmt(ents['f1_overlap'])}, token kappa {fmt(ents['kappa'])}")
    typer.echo(f"relations: F1 {fmt(rels['f1'])}")
    typer.echo(f"report: {paths['report']}")


@app.command("adjudicate")
@clean_errors
def adjudicate(
    sources: List[Path] = typer.Argument(..., help=INPUTS_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Gold JSONL; the conflicts go beside it (STEM.conflicts.json, .md)"),
    policy: Policy = typer.Option(Policy.majority, help="Votes an item needs: more than half of the voters, or all"),
    min_annotators: int = typer.Option(2, min=1, help="Confirmations a document needs to be adjudicated"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help=LABELS_HELP),
    review_file: Optional[Path] = typer.Option(
        None, help="Also write the conflicting documents for review: every version, each item naming its annotators"
    ),
    resolved: Optional[List[Path]] = typer.Option(
        None, help="Pulled review snapshot (or files): its confirmed records replace those documents' gold annotations"
    ),
    review: bool = typer.Option(
        False, "--review", help="Push the conflicting documents to the Doccano review project, every version pre-annotated"
    ),
    review_project: Optional[str] = typer.Option(None, help="Doccano review project (default: review_project in the Doccano config)"),
    doccano_config: Path = typer.Option(Path("configs/doccano.yml"), help="Doccano settings, for --review"),
):
    """Merge the annotators' versions into gold by vote; list the conflicts per document."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.annotations.adjudicate import adjudicate as run_adjudication
    from workbench.annotations.adjudicate import apply_review, resolved_reviews, review_records
    from workbench.annotations.report import write_adjudication
    from workbench.annotations.snapshot import load_sources
    from workbench.labels import load_labels

    scheme = load_labels(labels)
    result = run_adjudication(load_sources(sources), scheme, policy.value, min_annotators)
    if review_file:
        count = write_records(review_file, review_records(result))
        typer.echo(f"review: {words.count(count, 'document')} with conflicts -> {review_file}")
    if resolved:
        apply_review(result, resolved_reviews(load_sources(resolved)), scheme)
        typer.echo(f"resolved in review: {words.count(len(result.reviewed), 'document')}")
    if review:
        _push_review(result, review_records, labels, doccano_config, review_project)
    paths = write_adjudication(result, output)
    open_conflicts = result.open_conflicts()
    typer.echo(
        f"gold: {words.count(len(result.gold), 'document')} ({policy.value}), "
        f"{words.count(sum(map(len, open_conflicts.values())), 'open conflict')} in {words.count(len(open_conflicts), 'document')}, "
        f"{words.count(len(result.skipped), 'document')} with too few confirmations left out"
    )
    typer.echo(f"gold: {paths['gold']}\nconflicts: {paths['report']}")


def _push_review(result, review_records, labels: Path, doccano_config: Path, project: Optional[str]) -> None:
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.doccano.config import load_settings, read_guideline
    from workbench.doccano.review import push_review
    from workbench.doccano.session import open_session
    from workbench.labels import load_labels

    # Documents already resolved in review are not sent again.
    records = [r for r in review_records(result) if r.doc_id not in result.reviewed]
    if not records:
        typer.echo("review: no open conflicts, nothing to push")
        return
    settings = load_settings(doccano_config)
    session = open_session(settings, prompt=prompt_secret)
    pushed = push_review(session, project or settings.review_project, read_guideline(settings), load_labels(labels), records, settings.batch_size)
    typer.echo(
        f"review: {words.count(len(records), 'document')} with conflicts -> Doccano project {pushed.project.name!r} at {session.url} "
        f"({pushed.counts.uploaded} uploaded, {pushed.counts.already_there} already there); "
        f"pull it with `workbench doccano pull --project {pushed.project.name}` once resolved"
    )


@app.command("effort")
@clean_errors
def effort(
    sources: List[Path] = typer.Argument(..., help=INPUTS_HELP),
    pushed: Optional[List[Path]] = typer.Option(
        None, help="Push records (folders) or their pre-annotations.jsonl (repeat; default: every record under the Doccano config's pushes)"
    ),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Effort JSON (default: annotations/effort/<snapshot>.json)"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help=LABELS_HELP),
    doccano_config: Path = typer.Option(Path("configs/doccano.yml"), help="Doccano settings, for where pushes are recorded"),
):
    """Per annotator: pre-annotated entities and relations kept, relabelled, re-bounded, deleted, and those added."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.annotations.effort import format_effort, measure_effort, read_pushed
    from workbench.annotations.snapshot import load_sources
    from workbench.doccano.config import load_settings
    from workbench.doccano.next import pre_annotation_files
    from workbench.labels import load_labels

    files = pre_annotation_files(pushed or [Path(load_settings(doccano_config).pushes)])
    if not files:
        raise WorkbenchError("no recorded pre-annotations (push with `workbench doccano next`, or pass --pushed)")
    snapshot = load_sources(sources)
    report = measure_effort(snapshot, read_pushed(files), load_labels(labels))
    name = snapshot.source if isinstance(snapshot.source, str) else "effort"
    json_out = json_out or Path("annotations/effort") / f"{name}.json"
    write_json(json_out, {**snapshot.provenance(), "pre_annotations": [str(f) for f in files], **report.to_dict()})
    typer.echo(format_effort(report))
    typer.echo(f"json: {json_out}")


@app.command("stats")
@clean_errors
def stats(
    paths: List[Path] = typer.Argument(..., help=INPUTS_HELP + "; every annotator's records count"),
    splits: Path = typer.Option(Path("corpus/splits.json"), help="Split lock file, for records without a 'split' key"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help=LABELS_HELP),
    plot: Optional[Path] = typer.Option(None, help="Write the plot (PNG) here"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the statistics as JSON here"),
):
    """Counts per label and relation type per split, span lengths and relation distances, as a table."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.annotations.report import plot_stats, stats_markdown
    from workbench.annotations.stats import collect_stats
    from workbench.labels import load_labels

    scheme = load_labels(labels)
    data = collect_stats(annotation_paths(paths), load_assignments(splits)).to_dict(scheme.entity_labels, scheme.relation_types)
    typer.echo(stats_markdown(data), nl=False)
    if plot:
        plot_stats(data, plot)
        typer.echo(f"plot: {plot}")
    if json_out:
        write_json(json_out, data)
        typer.echo(f"json: {json_out}")


@app.command("reach")
@clean_errors
def reach(
    paths: List[Path] = typer.Argument(..., help=INPUTS_HELP + " (gold, usually)"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config (the relation signatures)"),
    max_distance: int = typer.Option(10, help="The relation model's window: pairs in different sentences at most this many tokens apart (configs/rel.cfg: 10)"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the figures and every unreachable relation as JSON here"),
):
    """The recall ceiling of relation extraction: the share of gold relations the candidate generator reaches, per type."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.labels import load_labels
    from workbench.relations.reach import format_reach, records_reach

    if max_distance < 0:
        raise WorkbenchError(f"--max-distance must be 0 or more, got {max_distance}")
    result = records_reach([r for path in annotation_paths(paths) for r in read_records(path)], load_labels(labels), max_distance)
    typer.echo(format_reach(result))
    if json_out:
        write_json(json_out, result.to_dict())
        typer.echo(f"json: {json_out}")
