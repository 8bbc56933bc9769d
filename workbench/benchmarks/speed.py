"""Trained pipelines side by side in one run: words per second on the same texts, and accuracy on their gold.

`workbench benchmark speed` times each pipeline given (a transformer pipeline, a CNN one),
en_core_web_sm's NER alone, and, with int8, a copy of each transformer pipeline whose
transformer has torch's dynamic int8 quantization (its Linear layers' weights stored as
int8, activations quantized on the fly). Each pipeline is scored on the same gold, so the
quantized copy's accuracy stands beside the original's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.benchmarks.run import SPEED_ROUNDS, compare_speeds
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc

INT8 = " int8"
OFF_THE_SHELF = "en_core_web_sm NER alone"


def quantize_transformer(nlp) -> bool:
    """Swap the pipeline's transformer for its dynamic int8 quantization (CPU inference only); False if it has none."""
    import torch

    if "transformer" not in nlp.pipe_names:
        return False
    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    quantized = torch.quantization.quantize_dynamic(shim._model, {torch.nn.Linear}, dtype=torch.qint8)
    # The shim runs `_model`; the HF objects keep the same module for serialisation.
    shim._model = quantized
    shim._hfmodel.transformer = quantized
    return True


@dataclass(frozen=True)
class SpeedRow:
    name: str
    words_per_second: float
    seconds: float
    words: int
    components: tuple[str, ...]
    # Micro F1 on the gold: NER, relations end to end, relations on gold entities (None: not scored).
    ner_f1: float | None = None
    rel_f1: float | None = None
    rel_gold_f1: float | None = None

    def to_dict(self) -> dict:
        return {**self.__dict__, "components": list(self.components)}


def speed_contenders(pipelines: dict[str, Path], int8: bool) -> dict:
    """{name: loaded pipeline}: each given one, its int8 copy if it has a transformer, and en_core_web_sm's NER alone."""
    from workbench.evaluation.baselines import off_the_shelf_pipeline
    from workbench.predict import load_pipeline

    contenders = {}
    for name, path in pipelines.items():
        contenders[name] = load_pipeline(path)
        if int8:
            copy = load_pipeline(path)
            if quantize_transformer(copy):
                contenders[name + INT8] = copy
    off_the_shelf = off_the_shelf_pipeline()
    if off_the_shelf is not None:
        contenders[OFF_THE_SHELF] = off_the_shelf
    return contenders


def run_speed(pipelines: dict[str, Path], gold: list[AnnotatedDoc], scheme: LabelScheme, int8: bool = True) -> list[SpeedRow]:
    """Time every contender on the gold texts (interleaved passes, fastest kept), then score ours on the gold."""
    from workbench.evaluation.evaluate import evaluate_records
    from workbench.metrics import BootstrapSettings

    contenders = speed_contenders(pipelines, int8)
    speeds = compare_speeds(contenders, [record.text for record in gold])
    rows = []
    for name, nlp in contenders.items():
        scores = {}
        if name != OFF_THE_SHELF:
            metrics = evaluate_records(nlp, gold, name, None, scheme, BootstrapSettings(0)).metrics()
            scores = {"ner_f1": metrics["ner"]["micro"]["f1"]}
            if "rel" in metrics:
                scores.update(rel_f1=metrics["rel"]["micro"]["f1"], rel_gold_f1=metrics["rel"]["gold_entities"]["micro"]["f1"])
        speed = speeds[name]
        rows.append(SpeedRow(name, speed["words_per_second"], speed["seconds"], speed["words"], tuple(speed["components"]), **scores))
    return rows


def format_speed(rows: list[SpeedRow], documents: int, device: str = "CPU") -> str:
    """One line per pipeline: words/s, its share of en_core_web_sm's NER alone, and its F1s."""
    reference = next((row.words_per_second for row in rows if row.name == OFF_THE_SHELF), None)
    width = max(len(row.name) for row in rows)

    def pct(value: float | None) -> str:
        return "    –" if value is None else f"{100 * value:5.1f}"

    lines = [
        f"{documents} documents, {rows[0].words} words; fastest of {SPEED_ROUNDS} interleaved passes each, on the {device}",
        f"{'pipeline':<{width}}  words/s  vs sm NER  NER F1  REL F1  REL F1 gold ents",
    ]
    for row in rows:
        share = f"{row.words_per_second / reference:8.2f}x" if reference else "        –"
        lines.append(
            f"{row.name:<{width}}  {row.words_per_second:7.0f}  {share}  {pct(row.ner_f1)}   {pct(row.rel_f1)}   {pct(row.rel_gold_f1)}"
        )
    return "\n".join(lines)
