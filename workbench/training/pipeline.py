"""Train, tune and assemble the NER -> REL pipeline from a spec: the one way every command trains.

`workbench train`, the learning curve, cross-validation and the benchmarks all call
`train_pipeline`, so a base model, an override or a tuning rule means the same thing
everywhere. Each trained pipeline records where it came from in its meta.json
(`meta["workbench"]`): base model, config hashes, training data hash and the data manifest.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from spacy.util import load_config

from workbench import __version__, words
from workbench.corpus.ingest import text_sha256
from workbench.docs import count_docbin, docbin_documents
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files, write_json
from workbench.training.base_model import DEFAULT_BASE_MODEL, BaseModel, check_config_fits, is_none, resolve_base_model
from workbench.training.convert import read_data_manifest
from workbench.training.steps import checkpoint_step
from workbench.training.encoders import DEFAULT_ENCODER, DEFAULT_TRANSFORMER, Transformer, check_encoder, check_transformer_extra, resolve_transformer, use_device
from workbench.training.train import assemble_pipeline, install_model, train_from_config
from workbench.training.tune import tune_model_thresholds

CONFIGS = Path("configs")
TRANSFER_CONFIGS = {"ner": CONFIGS / "ner.cfg", "rel": CONFIGS / "rel.cfg"}
SCRATCH_CONFIGS = {"ner": CONFIGS / "ner-scratch.cfg", "rel": CONFIGS / "rel-scratch.cfg"}
PARTS = ("ner", "rel")
# The transformer encoder trains NER and relations in one config, on one shared transformer.
JOINT = "joint"
JOINT_CONFIG = CONFIGS / "trf.cfg"


@dataclass(frozen=True)
class PipelineSpec:
    """What to train: encoder, configs, label scheme, base model, overrides and how to tune relation thresholds.

    With the CNN encoder (the default) NER and REL are two parts, each its own config:
    `ner_config` / `rel_config` left as None pick the transfer configs when there is a base
    model and the -scratch configs when `base_model` is "none". With the transformer encoder
    there is one part, JOINT: `joint_config` (default configs/trf.cfg) trains NER and REL on
    one shared transformer, `transformer` (see workbench.training.encoders), and no base
    model is used.
    """

    labels: Path = CONFIGS / "labels.yml"
    base_model: str = DEFAULT_BASE_MODEL
    ner_config: Path | None = None
    rel_config: Path | None = None
    ner_overrides: dict = field(default_factory=dict)
    rel_overrides: dict = field(default_factory=dict)
    tune: bool = True
    target_precision: float | None = None
    min_dev_support: int = 20
    encoder: str = DEFAULT_ENCODER
    transformer: str | None = None
    joint_config: Path | None = None
    joint_overrides: dict = field(default_factory=dict)
    gpu_id: int = -1

    @property
    def from_scratch(self) -> bool:
        return is_none(self.base_model)

    @property
    def joint(self) -> bool:
        return self.encoder == "transformer"

    def training_parts(self, wanted: tuple[str, ...] = PARTS) -> tuple[str, ...]:
        """The configs that train `wanted` (ner, rel or both): themselves, or JOINT for both on one transformer."""
        if not self.joint:
            return wanted
        if set(wanted) != set(PARTS):
            raise WorkbenchError(
                "--encoder transformer trains NER and relations together on one shared transformer: use `workbench train all`"
            )
        return (JOINT,)

    def config(self, part: str) -> Path:
        if part == JOINT:
            return Path(self.joint_config) if self.joint_config is not None else JOINT_CONFIG
        chosen = self.ner_config if part == "ner" else self.rel_config
        return Path(chosen) if chosen is not None else (SCRATCH_CONFIGS if self.from_scratch else TRANSFER_CONFIGS)[part]

    @property
    def starts_from(self) -> str:
        """What training starts from, in words: the base model, or the transformer."""
        if self.joint:
            return f"transformer {self.transformer or DEFAULT_TRANSFORMER}"
        return f"base model {self.base_model}"

    def describe(self) -> dict:
        """The spec's choices as experiment records keep them: encoder, starting point and the user's overrides."""
        return {
            "encoder": self.encoder,
            "base_model": None if self.joint else self.base_model,
            "transformer": (self.transformer or DEFAULT_TRANSFORMER) if self.joint else None,
            "overrides": {part: self.user_overrides(part) for part in self.training_parts()},
        }

    def user_overrides(self, part: str) -> dict:
        return {"ner": self.ner_overrides, "rel": self.rel_overrides, JOINT: self.joint_overrides}[part]

    def overrides(self, part: str, base: BaseModel | None, transformer: Transformer | None = None) -> dict:
        """spaCy overrides for one part: the base model's (or transformer's) folder and labels first, then the user's."""
        own = {"paths.labels": str(self.labels)}
        if base is not None:
            own["paths.base_model"] = str(base.path)
        if transformer is not None:
            own["paths.transformer"] = transformer.name
        return {**own, **self.user_overrides(part)}


@dataclass(frozen=True)
class TrainedPart:
    name: str
    best: Path  # the installed checkpoint: model-best, or model-last for a fixed number of steps
    seconds: float
    step: int | None  # the step it was taken at (workbench.record_step.v1); None if the config does not record it


@dataclass(frozen=True)
class TrainedPipeline:
    """What `train_pipeline` made: the assembled pipeline, its parts and the tuning report."""

    path: Path
    parts: dict  # part name -> TrainedPart
    resolved: ResolvedSpec
    thresholds: dict | None

    @property
    def base_model(self) -> BaseModel | None:
        return self.resolved.base

    @property
    def train_seconds(self) -> dict:
        seconds = {name: round(part.seconds, 1) for name, part in self.parts.items()}
        return {**seconds, "total": round(sum(seconds.values()), 1)}

    @property
    def steps(self) -> dict:
        """{part: the step its installed checkpoint was taken at}."""
        return {name: part.step for name, part in self.parts.items()}


@dataclass(frozen=True)
class ResolvedSpec:
    """What a spec's names came to: the base model (CNN encoder) or the transformer, and the device."""

    base: BaseModel | None
    transformer: Transformer | None
    device: str

    def describe(self) -> str:
        if self.transformer is not None:
            return f"transformer: {self.transformer.description}"
        return f"base model: {self.base.describe() if self.base else 'none (from scratch)'}"


def resolve_spec(spec: PipelineSpec) -> ResolvedSpec:
    """Resolve and check the spec's encoder, base model or transformer and device, before anything trains."""
    check_encoder(spec.encoder)
    if not spec.joint and spec.transformer is not None:
        raise WorkbenchError(f"--transformer {spec.transformer} needs --encoder transformer (the encoder is {spec.encoder})")
    transformer = None
    if spec.joint:
        check_transformer_extra()
        transformer = resolve_transformer(spec.transformer)
        if not spec.config(JOINT).exists():
            raise WorkbenchError("config file not found", path=spec.config(JOINT))
    device = use_device(spec.gpu_id)
    return ResolvedSpec(resolve_spec_base(spec), transformer, device)


def resolve_spec_base(spec: PipelineSpec) -> BaseModel | None:
    """The spec's base model (None from scratch, and with the transformer encoder), checked against the configs that will use it."""
    if spec.joint:
        return None
    base = None if spec.from_scratch else resolve_base_model(spec.base_model)
    for part in PARTS:
        path = spec.config(part)
        if path.exists():
            check_config_fits(base, path, load_config(path, interpolate=False))
    return base


@dataclass(frozen=True)
class TrainingData:
    """The DocBins a run trains and selects on, and what the user should know about them."""

    train: Path
    dev: Path
    train_documents: int
    dev_documents: int
    selects_on_train: bool
    notes: tuple[str, ...]


def training_data(data_dir: str | Path, select_on_train: bool = False) -> TrainingData:
    """Check DATA/train.spacy and DATA/dev.spacy before anything is trained.

    With no dev documents spaCy would pick a "best" checkpoint and the tuner thresholds from
    all-zero scores, so that is an error unless the user asks to select on the training
    documents instead.
    """
    data_dir = Path(data_dir)
    train, dev = data_dir / "train.spacy", data_dir / "dev.spacy"
    for path in (train, dev):
        if not path.exists():
            raise WorkbenchError("DocBin not found (run `workbench data` first)", path=path)
    n_train, n_dev = count_docbin(train), count_docbin(dev)
    if n_train == 0:
        raise WorkbenchError("no training documents", path=train)
    notes = []
    if n_dev == 0:
        if not select_on_train:
            raise WorkbenchError(
                "no dev documents: the best checkpoint and the relation thresholds would be chosen on nothing. "
                "Give the dev split documents, or pass --select-on-train to choose the checkpoint on the training "
                "documents (optimistic) and keep the config's thresholds",
                path=dev,
            )
        notes.append(f"no dev documents ({dev}): checkpoints chosen on the training documents; thresholds not tuned")
        dev = train
    conflicts = ((read_data_manifest(data_dir) or {}).get("unresolved_conflicts") or {}).get("count", 0)
    if conflicts:
        notes.append(f"{words.count(conflicts, 'document')} in the gold still had unresolved adjudication conflicts")
    return TrainingData(train, dev, n_train, n_dev, n_dev == 0, tuple(notes))


def train_part(
    spec: PipelineSpec, part: str, resolved: ResolvedSpec, train_path: Path, dev_path: Path, run_dir: Path, checkpoint: str = "model-best"
) -> TrainedPart:
    """Run `spacy train` for one part into run_dir; return its model-best (or the checkpoint asked for)."""
    start = time.perf_counter()
    overrides = spec.overrides(part, resolved.base, resolved.transformer)
    chosen = train_from_config(spec.config(part), run_dir, train_path, dev_path, overrides, gpu_id=spec.gpu_id, checkpoint=checkpoint)
    return TrainedPart(part, chosen, time.perf_counter() - start, checkpoint_step(chosen))


def training_record(train_path: Path, dev_path: Path) -> dict:
    """The DocBins a pipeline was trained and selected on, as its provenance records them."""
    return {
        "train": _docbin_record(train_path),
        # The documents the checkpoint and the relation thresholds were chosen on: evaluate warns when it scores them.
        "dev": _docbin_record(dev_path),
        "manifest": read_data_manifest(Path(train_path).parent),
    }


def provenance(spec: PipelineSpec, resolved: ResolvedSpec, training: dict, parts: list[str]) -> dict:
    """What a trained pipeline records about its making (meta.json, under "workbench"); `training` from training_record."""
    base, transformer = resolved.base, resolved.transformer
    if transformer is not None:
        described = f"none (transformer encoder: {transformer.description})"
    else:
        described = f"{base.name} {base.version}" if base is not None else "none (from scratch)"
    return {
        "workbench_version": __version__,
        # A plain description for reports, and the details apart.
        "base_model": described,
        "base_model_source": base.to_dict() if base is not None else None,
        "encoder": spec.encoder,
        "transformer": transformer.to_dict() if transformer is not None else None,
        "config_sha256": {part: sha256_of_files([spec.config(part)]) for part in parts},
        "configs": {part: str(spec.config(part)) for part in parts},
        "labels": {"path": str(spec.labels), "sha256": sha256_of_files([spec.labels])},
        "training": training,
    }


def _docbin_record(path: Path) -> dict:
    """Path, sha256 and documents of a DocBin: each by doc_id and by its text's sha256, which evaluate checks documents against."""
    documents = docbin_documents(path)
    return {"path": str(path), "sha256": sha256_of_files([path]), "documents": len(documents),
            "doc_ids": [doc_id for doc_id, _ in documents], "text_sha256": [text_sha256(text) for _, text in documents]}


def stamp_provenance(model_dir: Path, record: dict) -> None:
    """Write the provenance into the pipeline's meta.json (atomically), where spacy.load keeps it."""
    meta_path = Path(model_dir) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["workbench"] = record
    write_json(meta_path, meta)


def train_pipeline(
    spec: PipelineSpec,
    train_path: str | Path,
    dev_path: str | Path,
    run_dir: str | Path,
    output: str | Path,
    parts: tuple[str, ...] = PARTS,
    checkpoint: str = "model-best",
) -> TrainedPipeline:
    """Train the parts, tune the relation thresholds on dev, and install the result at `output`.

    With both parts, NER and REL are installed beside `output` as OUTPUT-ner and OUTPUT-rel
    and assembled NER -> REL at `output`; with one part, that part is installed at
    `output`. With the transformer encoder both are one part, JOINT, installed at `output`.
    Runs go to run_dir/PART. Tuning and the provenance stamp happen in the run folder, so an
    installed model is replaced only by a finished one.
    """
    train_path, dev_path, run_dir, output = Path(train_path), Path(dev_path), Path(run_dir), Path(output)
    parts = spec.training_parts(parts)
    resolved = resolve_spec(spec)
    trained = {part: train_part(spec, part, resolved, train_path, dev_path, run_dir / part, checkpoint) for part in parts}
    relations = next((trained[name] for name in ("rel", JOINT) if name in trained), None)
    thresholds = None
    if spec.tune and relations is not None:
        thresholds = tune_model_thresholds(relations.best, dev_path, spec.target_precision, spec.min_dev_support)
    training = training_record(train_path, dev_path)
    for name, part in trained.items():
        stamp_provenance(part.best, provenance(spec, resolved, training, [name]))
    if len(parts) == 1:
        install_model(trained[parts[0]].best, output)
    else:
        for name, part in trained.items():
            install_model(part.best, output.with_name(f"{output.name}-{name}"))
        assemble_pipeline(trained["ner"].best, trained["rel"].best, output, provenance(spec, resolved, training, list(parts)))
    return TrainedPipeline(output, trained, resolved, thresholds)
