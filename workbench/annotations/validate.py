"""Check canonical annotation files against the label scheme, the corpus and spaCy's tokenizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from workbench.annotation_files import annotation_files, annotation_paths, read_gold
from workbench.corpus.store import Corpus
from workbench.docs import make_gold_nlp
from workbench.errors import WorkbenchError
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, iter_json_lines, record_from_dict


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    doc_id: str | None
    message: str
    start: int | None = None
    end: int | None = None

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line is not None else "")
        if self.doc_id:
            where += f" [{self.doc_id}]"
        if self.start is not None:
            where += f" {self.start}-{self.end}"
        return f"{where}: {self.message}"


def check_record(
    record: AnnotatedDoc,
    scheme: LabelScheme,
    make_doc: Callable[[str], object] | None = None,
    corpus: Corpus | None = None,
) -> list[tuple[str, int | None, int | None]]:
    """Problems of one record as (message, start, end)."""
    problems: list[tuple[str, int | None, int | None]] = []
    text = record.text
    corpus_problem = corpus.text_problem(record) if corpus is not None else None
    if corpus_problem:
        problems.append((corpus_problem, None, None))

    doc = make_doc(text) if make_doc else None
    valid: list = []
    seen_ids: set = set()
    for ent in record.entities:
        span = (ent.start, ent.end)
        if ent.id in seen_ids:
            problems.append((f"entity id {ent.id!r} is used twice", *span))
        seen_ids.add(ent.id)
        if ent.label not in scheme.entities:
            problems.append((f"unknown entity label {ent.label!r}", *span))
        if not (0 <= ent.start <= ent.end <= len(text)):
            problems.append((f"offsets outside the text (length {len(text)})", *span))
            continue
        surface = text[ent.start : ent.end]
        if ent.start == ent.end:
            problems.append(("empty span", *span))
            continue
        if surface != surface.strip():
            problems.append((f"span {surface!r} has leading or trailing whitespace", *span))
        if doc is not None and doc.char_span(ent.start, ent.end) is None:
            problems.append((f"span {surface!r} does not start and end on spaCy token boundaries", *span))
        valid.append(ent)

    valid.sort(key=lambda e: (e.start, e.end))
    for prev, ent in zip(valid, valid[1:]):
        if (prev.start, prev.end) == (ent.start, ent.end):
            what = "duplicate span" if prev.label == ent.label else f"same span labelled {prev.label} and {ent.label}"
            problems.append((f"{what} {text[ent.start:ent.end]!r}", ent.start, ent.end))
        elif ent.start < prev.end:
            problems.append(
                (
                    f"span {text[ent.start:ent.end]!r} overlaps {text[prev.start:prev.end]!r} ({prev.start}-{prev.end})",
                    ent.start,
                    ent.end,
                )
            )
    problems.extend(check_relations(record, scheme))
    return problems


def check_relations(record: AnnotatedDoc, scheme: LabelScheme) -> list[tuple[str, int | None, int | None]]:
    problems: list[tuple[str, int | None, int | None]] = []
    by_id = record.entity_by_id()
    seen_ids: set = set()
    seen: set = set()
    for rel in record.relations:
        if rel.id in seen_ids:
            problems.append((f"relation id {rel.id!r} is used twice", None, None))
        seen_ids.add(rel.id)
        rel_type = scheme.relations.get(rel.type)
        if rel_type is None:
            problems.append((f"relation {rel.id!r}: unknown relation type {rel.type!r}", None, None))
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        missing = [f"{name} {ref!r}" for name, ref, ent in (("from_id", rel.head, head), ("to_id", rel.tail, tail)) if ent is None]
        if missing:
            problems.append((f"relation {rel.id!r}: no entity with {' and '.join(missing)}", None, None))
            continue
        if rel.head == rel.tail:
            problems.append((f"relation {rel.id!r}: an entity cannot relate to itself", head.start, head.end))
        if rel_type is not None and not rel_type.allows(head.label, tail.label):
            problems.append(
                (
                    f"relation {rel.id!r}: {rel.type} does not allow {head.label} -> {tail.label} "
                    f"(allowed: {'/'.join(rel_type.head)} -> {'/'.join(rel_type.tail)})",
                    head.start,
                    tail.end,
                )
            )
        ends = ((head.start, head.end), (tail.start, tail.end))
        key = (rel.type, *scheme.ordered(rel.type, *ends))
        if key in seen:
            problems.append((f"relation {rel.id!r}: duplicate {rel.type} between the same spans", head.start, tail.end))
        seen.add(key)
    return problems


def validate_files(
    paths: Iterable[str | Path],
    scheme: LabelScheme,
    corpus: Corpus | None = None,
    check_tokens: bool = True,
) -> tuple[list[Problem], int]:
    """Validate canonical JSONL files; return (problems, number of records read)."""
    make_doc = make_gold_nlp().make_doc if check_tokens else None
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    count = 0
    for path in paths:
        path_s = str(path)
        try:
            lines = list(iter_json_lines(path))
        except WorkbenchError as exc:
            problems.append(Problem(path_s, None, None, exc.message))
            continue
        for number, obj, problem in lines:
            if problem:
                problems.append(Problem(path_s, number, None, problem))
                continue
            try:
                record = record_from_dict(obj)
            except WorkbenchError as exc:
                problems.append(Problem(path_s, number, exc.doc_id, exc.message))
                continue
            count += 1
            where = f"{path_s}:{number}"
            if record.doc_id in first_seen:
                problems.append(Problem(path_s, number, record.doc_id, f"document also at {first_seen[record.doc_id]}"))
            first_seen.setdefault(record.doc_id, where)
            for message, start, end in check_record(record, scheme, make_doc, corpus):
                problems.append(Problem(path_s, number, record.doc_id, message, start, end))
    return problems, count


def check_gold(paths: list[str | Path], scheme: LabelScheme, corpus: Corpus | None = None) -> list[AnnotatedDoc]:
    """The gold records (annotation_files.read_gold) of files and snapshot folders that `annotations validate`
    finds no problem with; the first problem is an error.

    For the stages that must not go on with bad gold (`workbench data`, cross-validation): the
    error names the first problem and how many more there are, and says nothing was written.
    """
    problems, _ = validate_files(annotation_paths(paths), scheme, corpus)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; `workbench annotations validate` lists them all)" if len(problems) > 1 else ""
        where = f" {first.start}-{first.end}" if first.start is not None else ""
        raise WorkbenchError(f"{first.message}{where}{more}; nothing written", path=first.path, line=first.line, doc_id=first.doc_id)
    return read_gold(paths)


def source_groups(paths: Iterable[str | Path]) -> list[list[Path]]:
    """The files behind the paths (annotation_files), in the groups they are validated in.

    Each annotator file of a snapshot is a group of its own: every annotator of a snapshot
    has the same documents, which is no duplicate. The plain files given form one group,
    so a document twice across them is a duplicate.
    """
    files = annotation_files(paths)
    groups = [[f.path] for f in files if f.snapshot is not None] + [[f.path for f in files if f.snapshot is None]]
    return [group for group in groups if group]


def validate_groups(
    groups: list[list[Path]],
    scheme: LabelScheme,
    corpus: Corpus | None = None,
    check_tokens: bool = True,
) -> tuple[list[Problem], int]:
    """Validate each group of `source_groups` on its own: (problems, documents read)."""
    problems: list[Problem] = []
    count = 0
    for group in groups:
        found, read = validate_files(group, scheme, corpus, check_tokens)
        problems += found
        count += read
    return problems, count
