"""Train NER + REL on a benchmark's train split, tune thresholds on dev, score end to end on test, time it."""

from __future__ import annotations

import time
from pathlib import Path

from workbench.benchmarks.config import BenchmarkConfig
from workbench.fileio import write_json
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc


def write_docbins(by_split: dict[str, list[AnnotatedDoc]], out_dir: Path) -> dict[str, Path]:
    from workbench.training.convert import make_gold_nlp, write_docbin

    nlp = make_gold_nlp()
    return {split: write_docbin(out_dir / f"{split}.spacy", nlp, records) for split, records in by_split.items()}


def measure_speed(nlp, texts: list[str]) -> dict:
    """Words per second of the whole pipeline over the texts, after a short warm-up."""
    list(nlp.pipe(texts[:10]))
    start = time.perf_counter()
    words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=64))
    seconds = time.perf_counter() - start
    return {"documents": len(texts), "words": words, "seconds": round(seconds, 3), "words_per_second": round(words / seconds, 1)}


def _timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, round(time.perf_counter() - start, 1)


def run_benchmark(config: BenchmarkConfig, by_split: dict[str, list[AnnotatedDoc]], scheme: LabelScheme) -> dict:
    """Everything under config.output: corpus/, runs/, models/{ner,rel,pipeline}, report/, benchmark.json."""
    from workbench.evaluation.evaluate import evaluate_records
    from workbench.evaluation.report import write_report
    from workbench.predict import load_pipeline
    from workbench.training.train import assemble_pipeline, install_model, train_from_config
    from workbench.training.tune import tune_model_thresholds

    out = config.output
    docbins = write_docbins(by_split, out / "corpus")
    rel_overrides = {"paths.labels": str(config.labels), **config.rel_overrides}
    models, seconds = {}, {}
    for part, cfg, overrides in (("ner", config.ner_config, config.ner_overrides), ("rel", config.rel_config, rel_overrides)):
        best, seconds[part] = _timed(train_from_config, cfg, out / "runs" / part, docbins["train"], docbins["dev"], overrides)
        models[part] = install_model(best, out / "models" / part)
    thresholds = tune_model_thresholds(models["rel"], docbins["dev"], config.target_precision, config.min_dev_support)
    pipeline = assemble_pipeline(models["ner"], models["rel"], out / "models" / "pipeline")

    nlp = load_pipeline(pipeline)
    test = by_split["test"]
    speed = measure_speed(nlp, [r.text for r in test])
    evaluation = evaluate_records(nlp, test, str(pipeline), "test", scheme)
    report_paths = write_report(evaluation, out / "report")
    metrics = evaluation.metrics()
    result = {
        "benchmark": config.name,
        "documents": {split: len(records) for split, records in by_split.items()},
        "ner": _headline(metrics["ner"]),
        "rel": _headline(metrics["rel"]),
        "rel_gold_entities": _headline(metrics["rel"]["gold_entities"]),
        "train_seconds": {**seconds, "total": round(sum(seconds.values()), 1)},
        "inference": speed,
        "thresholds": thresholds,
        "published": config.published,
        "report": str(report_paths["report"]),
    }
    write_json(out / "benchmark.json", result)
    return result


def _headline(scores: dict) -> dict:
    micro, macro = scores["micro"], scores["macro"]
    return {
        "micro": {k: round(micro[k], 4) for k in ("precision", "recall", "f1")},
        "macro": {k: round(macro[k], 4) for k in ("precision", "recall", "f1")},
    }


def format_summary(result: dict) -> str:
    """A plain table of our figures next to the published ones (F1 in %)."""

    def pct(value: float) -> str:
        return f"{100 * value:5.1f}"

    ner, rel, gold = result["ner"], result["rel"], result["rel_gold_entities"]
    lines = [
        f"{result['benchmark']} test ({result['documents']['test']} documents)",
        "                       precision  recall     F1",
        f"  NER micro             {pct(ner['micro']['precision'])}   {pct(ner['micro']['recall'])}  {pct(ner['micro']['f1'])}",
        f"  NER macro             {pct(ner['macro']['precision'])}   {pct(ner['macro']['recall'])}  {pct(ner['macro']['f1'])}",
        f"  REL strict micro      {pct(rel['micro']['precision'])}   {pct(rel['micro']['recall'])}  {pct(rel['micro']['f1'])}   (end to end)",
        f"  REL strict macro      {pct(rel['macro']['precision'])}   {pct(rel['macro']['recall'])}  {pct(rel['macro']['f1'])}   (end to end)",
        f"  REL on gold entities  {pct(gold['micro']['precision'])}   {pct(gold['micro']['recall'])}  {pct(gold['micro']['f1'])}",
        f"training: NER {result['train_seconds']['ner']} s, REL {result['train_seconds']['rel']} s (wall, CPU)",
        f"inference: {result['inference']['words_per_second']:.0f} words/s "
        f"({result['inference']['words']} words in {result['inference']['seconds']} s, NER -> REL)",
    ]
    if result["published"]:
        lines.append("published (micro F1, %): " + "; ".join(
            f"{name} NER {figures['ner_f1']} / REL {figures['rel_f1']}" for name, figures in result["published"].items()
        ))
    return "\n".join(lines)
