"""The benchmark YAML (configs/benchmarks/*.yml): its schema, and the settings `workbench benchmark` runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from pydantic import BaseModel, StrictInt, StrictStr, confloat

from workbench.training.base_model import DEFAULT_BASE_MODEL
from workbench.training.encoders import DEFAULT_ENCODER
from workbench.training.pipeline import PipelineSpec
from workbench.yamlconfig import load_yaml_model


class _Part(BaseModel):
    """ner: or rel: a spaCy config (default: the one `workbench train` picks) and the overrides that adapt it."""

    config: Optional[StrictStr] = None
    overrides: Dict[StrictStr, Any] = {}

    class Config:
        extra = "forbid"


class _Thresholds(BaseModel):
    target_precision: Optional[confloat(gt=0, le=1)] = None
    min_dev_support: StrictInt = 20

    class Config:
        extra = "forbid"


class _Scores(BaseModel):
    ner_f1: Optional[float] = None
    rel_f1: Optional[float] = None

    class Config:
        extra = "forbid"


class BenchmarkFile(BaseModel):
    data: StrictStr
    labels: StrictStr
    output: StrictStr
    # The pipeline training starts from; "none" trains the -scratch configs.
    base_model: StrictStr = DEFAULT_BASE_MODEL
    # cnn: ner and rel below, each its own config; transformer: joint below, NER and REL on one
    # shared transformer (`transformer`: an alias, a folder or a hub name; default minilm).
    encoder: StrictStr = DEFAULT_ENCODER
    transformer: Optional[StrictStr] = None
    ner: _Part
    rel: _Part
    joint: _Part = _Part()
    thresholds: _Thresholds = _Thresholds()
    # Published figures to print beside ours: {system: {ner_f1, rel_f1}}.
    published: Dict[StrictStr, _Scores] = {}

    class Config:
        extra = "forbid"


@dataclass
class BenchmarkConfig:
    """A benchmark's data and output folders, the published figures to print, and what to train (`spec`)."""

    name: str
    data: Path
    output: Path
    spec: PipelineSpec
    published: dict = field(default_factory=dict)

    @property
    def labels(self) -> Path:
        return self.spec.labels


def load_benchmark_config(path: str | Path, name: str) -> BenchmarkConfig:
    """Read a benchmark YAML; unknown keys and wrong types are errors naming the file, key and line."""
    data = load_yaml_model(path, BenchmarkFile, "benchmark config")
    spec = PipelineSpec(
        labels=Path(data.labels),
        base_model=data.base_model,
        ner_config=Path(data.ner.config) if data.ner.config else None,
        rel_config=Path(data.rel.config) if data.rel.config else None,
        ner_overrides=dict(data.ner.overrides),
        rel_overrides=dict(data.rel.overrides),
        encoder=data.encoder,
        transformer=data.transformer,
        joint_config=Path(data.joint.config) if data.joint.config else None,
        joint_overrides=dict(data.joint.overrides),
        target_precision=data.thresholds.target_precision,
        min_dev_support=data.thresholds.min_dev_support,
    )
    return BenchmarkConfig(
        name=name,
        data=Path(data.data),
        output=Path(data.output),
        spec=spec,
        published={system: scores.dict(exclude_none=True) for system, scores in data.published.items()},
    )
