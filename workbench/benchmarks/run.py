"""Train NER + REL on a benchmark's train split, tune thresholds on dev, score end to end on test (one trial), time it."""

from __future__ import annotations

import time
from pathlib import Path

import spacy

from workbench import metrics
from workbench.benchmarks.config import BenchmarkConfig
from workbench.docs import gold_docs, write_docbin
from workbench.evaluation.baselines import ner_alone, off_the_shelf_pipeline
from workbench.evaluation.report import write_report
from workbench.experiments.trial import Scoring, TrialDocuments, TrialFolders, run_trial
from workbench.fileio import write_json
from workbench.predict import load_pipeline
from workbench.records import AnnotatedDoc
from workbench.relations.reach import pipeline_reach

SPEED_ROUNDS = 3
# How the summary names what each training run trained.
TRAINED_PARTS = {"ner": "NER", "rel": "REL", "joint": "NER + REL on one transformer"}


def compare_speeds(pipelines: dict, texts: list[str], rounds: int = SPEED_ROUNDS) -> dict[str, dict]:
    """Words per second of each pipeline on the same texts: `rounds` passes each, interleaved, the fastest kept.

    Interleaving puts a change in machine load on every pipeline alike, and the fastest
    pass is the one other work on the machine disturbed least.
    """
    for nlp in pipelines.values():
        list(nlp.pipe(texts[:10]))  # warm-up: first calls allocate
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for name, nlp in pipelines.items():
            start = time.perf_counter()
            words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=64))
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name]["seconds"]:
                best[name] = {"documents": len(texts), "words": words, "seconds": round(seconds, 3), "words_per_second": round(words / seconds, 1)}
    return {name: {**best[name], "components": nlp.pipe_names} for name, nlp in pipelines.items()}


def speed_contenders(nlp, pipeline_path: Path, base_model=None) -> dict:
    """Our NER -> REL pipeline (`nlp`, loaded from pipeline_path), the same without its relation model,
    the base model's NER alone as it came (if there is one), and en_core_web_sm's NER alone (if installed)."""
    ner_only = load_pipeline(pipeline_path)
    ner_only.remove_pipe("relation_extractor")
    contenders = {"pipeline": nlp, "pipeline_ner": ner_only}
    if base_model is not None and base_model.ner_labels:
        contenders["base_model_ner"] = ner_alone(spacy.load(base_model.path))
    off_the_shelf = off_the_shelf_pipeline()
    if off_the_shelf is not None:
        contenders["en_core_web_sm_ner"] = off_the_shelf
    return contenders


def run_benchmark(config: BenchmarkConfig, by_split: dict[str, list[AnnotatedDoc]]) -> dict:
    """Everything under config.output: corpus/, runs/, models/pipeline{,-ner,-rel}, report/, benchmark.json."""
    out = config.output
    documents = TrialDocuments(by_split["train"], by_split["dev"], by_split["test"])
    folders = TrialFolders(out / "corpus", out / "runs", out / "models" / "pipeline")
    # The test DocBin too, beside the two the trial trains on: the corpus folder holds the whole benchmark.
    write_docbin(out / "corpus" / "test.spacy", gold_docs(documents.test))
    trial = run_trial(config.spec, documents, folders, Scoring(split="test"))
    trained, nlp, evaluation = trial.pipeline, trial.nlp, trial.evaluation
    speeds = compare_speeds(speed_contenders(nlp, trained.path, trained.base_model), [r.text for r in documents.test])
    report_paths = write_report(evaluation, out / "report")
    # The recall ceiling of the trained model's candidates (its window), on every split's gold.
    reach = {split: pipeline_reach(nlp, records) for split, records in by_split.items() if split != "test"}
    reach["test"] = evaluation.reach
    headlines = evaluation.headlines()
    result = {
        "benchmark": config.name,
        "documents": {split: len(records) for split, records in by_split.items()},
        **{task: _headline(headlines[task]) for task in ("ner", "rel", "rel_gold_entities")},
        "base_model": trained.base_model.to_dict() if trained.base_model else None,
        "encoder": config.spec.encoder,
        "transformer": trained.resolved.transformer.to_dict() if trained.resolved.transformer else None,
        "device": trained.resolved.device,
        "train_seconds": trained.train_seconds,
        "inference": speeds["pipeline"],
        "inference_ner_only": speeds["pipeline_ner"],
        "inference_base_model_ner": speeds.get("base_model_ner"),
        "inference_en_core_web_sm_ner": speeds.get("en_core_web_sm_ner"),
        "thresholds": trained.thresholds,
        "reach": {split: reach[split].to_dict() for split in by_split},
        "published": config.published,
        "report": str(report_paths["report"]),
    }
    write_json(out / "benchmark.json", result)
    return result


def _headline(headline) -> dict:
    """Micro and macro P/R/F1 to four places; None where a figure is undefined (nothing predicted, nothing to find)."""
    def four(figures: dict) -> dict:
        return {k: None if figures[k] is None else round(figures[k], 4) for k in metrics.METRICS}

    return {"micro": four(headline.micro), "macro": four(headline.macro)}


def format_summary(result: dict) -> str:
    """A plain table of our figures next to the published ones (F1 in %)."""

    def pct(value: float | None) -> str:
        return f"{metrics.pct(value):>5}"

    ner, rel, gold = result["ner"], result["rel"], result["rel_gold_entities"]
    lines = [
        f"{result['benchmark']} test ({result['documents']['test']} documents)",
        "                       precision  recall     F1",
        f"  NER micro             {pct(ner['micro']['precision'])}   {pct(ner['micro']['recall'])}  {pct(ner['micro']['f1'])}",
        f"  NER macro             {pct(ner['macro']['precision'])}   {pct(ner['macro']['recall'])}  {pct(ner['macro']['f1'])}",
        f"  REL strict micro      {pct(rel['micro']['precision'])}   {pct(rel['micro']['recall'])}  {pct(rel['micro']['f1'])}   (end to end)",
        f"  REL strict macro      {pct(rel['macro']['precision'])}   {pct(rel['macro']['recall'])}  {pct(rel['macro']['f1'])}   (end to end)",
        f"  REL on gold entities  {pct(gold['micro']['precision'])}   {pct(gold['micro']['recall'])}  {pct(gold['micro']['f1'])}",
        "training: " + ", ".join(f"{TRAINED_PARTS.get(part, part)} {seconds} s" for part, seconds in result["train_seconds"].items() if part != "total")
        + f" (wall, {result['device']})",
        f"inference: {result['inference']['words_per_second']:.0f} words/s "
        f"({result['inference']['words']} words in {result['inference']['seconds']} s, NER -> REL; fastest of {SPEED_ROUNDS} interleaved passes)",
        f"           {result['inference_ner_only']['words_per_second']:.0f} words/s for our NER alone, same texts",
    ]
    if result.get("inference_base_model_ner"):
        lines.append(
            f"           {result['inference_base_model_ner']['words_per_second']:.0f} words/s for the base model's NER alone, "
            f"as it came ({result['base_model']['name']}), same texts"
        )
    if result.get("inference_en_core_web_sm_ner"):
        lines.append(f"           {result['inference_en_core_web_sm_ner']['words_per_second']:.0f} words/s for en_core_web_sm NER alone, same texts")
    lines += reach_summary(result["reach"])
    if result.get("base_model"):
        lines.append(f"base model: {result['base_model']['name']} {result['base_model']['version']}")
    if result.get("transformer"):
        lines.append(f"transformer: {result['transformer']['description']}")
    if result["published"]:
        lines.append("published (micro F1, %): " + "; ".join(
            f"{name} NER {figures['ner_f1']} / REL {figures['rel_f1']}" for name, figures in result["published"].items()
        ))
    return "\n".join(lines)


def reach_summary(reach: dict) -> list[str]:
    """Lines of the printed summary: the share of gold relations the candidates reach, per split, and per type on test."""
    first = next(iter(reach.values()))
    lines = [f"reach (gold relations the candidates can reach, max_distance {first['max_distance']}): " + ", ".join(
        f"{split} {_share(r['micro'])}" for split, r in reach.items()
    )]
    if "test" in reach:
        lines.append("  test per type: " + ", ".join(f"{name} {_share(row)}" for name, row in reach["test"]["per_type"].items()))
    return lines


def _share(row: dict) -> str:
    return f"{metrics.percent(row['share'])} ({row['reachable']}/{row['gold']})"
