"""The whole pipeline on the active profile (tiny by default): `dvc repro` executes every
notebook with papermill and builds the book with warnings as errors; a second run does nothing.

This is the test that makes `make test` execute every chapter. It works in the repository
itself, like `make book`: stages already up to date are not rerun, so after `make book` it
only checks.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
       "DVC_NO_ANALYTICS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def dvc(*args, check=True):
    proc = subprocess.run(["dvc", *args], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def reproduced():
    assert (ROOT / "data" / "real").is_dir(), "data/real is missing: run the tests with `make test`"
    return dvc("repro")


def test_repro_succeeds_and_status_is_clean(reproduced):
    status = json.loads(dvc("status", "--json").stdout or "{}")
    assert status == {}, f"dvc status is not clean after repro: {status}"


def test_second_repro_runs_no_stage(reproduced):
    again = dvc("repro")
    assert "Running stage" not in again.stdout, again.stdout


def _stage_notebooks():
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return sorted(out if isinstance(out, str) else next(iter(out))
                  for s in stages.values() for out in s.get("outs", [])
                  if str(out if isinstance(out, str) else next(iter(out))).endswith(".ipynb"))


@pytest.mark.parametrize("executed", _stage_notebooks())
def test_executed_notebook_has_outputs_and_no_errors(reproduced, executed):
    nb = json.loads((ROOT / executed).read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, f"{executed} has no outputs"
    assert not [o for o in outputs if o["output_type"] == "error"], f"{executed} has an error output"
    injected = [c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert injected, f"{executed}: papermill injected no parameters"


def test_book_has_the_overview_chapter_with_its_outputs(reproduced):
    index = ROOT / "_build" / "html" / "index.html"
    assert index.is_file()
    page = (ROOT / "_build" / "html" / "book" / "executed" / "00_overview.html").read_text()
    assert "<img" in page, "the overview chapter shows no figure"
    # The glued worked example: the page shows the same CCC the notebook computed.
    nb = json.loads((ROOT / "book" / "executed" / "00_overview.ipynb").read_text())
    glued = [o for c in nb["cells"] for o in c.get("outputs", [])
             if o.get("metadata", {}).get("scrapbook", {}).get("name") == "hand_ccc"]
    assert glued, "the overview notebook glued no hand_ccc"
    record = glued[0]
    value = float(record["data"][record["metadata"]["scrapbook"]["mime_prefix"] + "text/plain"])
    assert f"{value:.3f}" in page


def test_database_chapter_sets_the_paper_beside_ours(reproduced):
    page = (ROOT / "_build" / "html" / "book" / "executed" / "01_aff_wild_database.html").read_text()
    assert "paper (Aff-Wild)" in page and "252 (train) + 46 (test) = 298" in page
    assert "ours (synthetic" in page, "our numbers are not labelled as synthetic"
    assert page.count("<img") >= 4, "Figs. 3-6 and 10 analogues missing"


def _page(stem):
    return (ROOT / "_build" / "html" / "book" / "executed" / f"{stem}.html").read_text()


@pytest.mark.parametrize("stem,tables", [("03_challenge_baseline", [5]),
                                         ("04_cnn_ablations", [9, 10, 11]),
                                         ("05_affwildnet", [12, 13, 14])])
def test_aff_wild_chapters_set_each_table_beside_ours_with_verdicts(reproduced, stem, tables):
    from affwild_lib import paper

    page = _page(stem)
    assert "ours (synthetic, tiny" in page, f"{stem}: our numbers are not labelled"
    for n in tables:
        assert paper.caption(n).split(":")[0] in page, f"{stem}: no Table {n}"
        first = paper.scores(n).iloc[0]
        assert f"{first['ccc_valence']:.3f}" in page, f"{stem}: Table {n}'s paper figures missing"
    if stem != "03_challenge_baseline":
        assert "This build: <strong>" in page, f"{stem}: no claim verdicts"
        assert page.count("<img") >= 1


@pytest.mark.parametrize("stem,tables,claim", [("06_recola", [15], "recola-prior"),
                                               ("07_afew_va", [16, 17], "afewva-prior"),
                                               ("08_emotiw", [18], "emotiw-prior")])
def test_transfer_chapters_set_each_table_beside_ours_with_verdicts(reproduced, stem, tables, claim):
    from affwild_lib import claims, paper

    page = _page(stem)
    assert "ours (synthetic, tiny" in page, f"{stem}: our numbers are not labelled"
    for n in tables:
        assert paper.caption(n).split(":")[0] in page, f"{stem}: no Table {n}"
        first = paper.accuracies(n).iloc[0, 0] if n == 18 else paper.scores(n).iloc[0, 0]
        assert f"{first:.3f}" in page, f"{stem}: Table {n}'s paper figures missing"
    assert "This build: <strong>" in page and claims.get(claim).statement in page
    assert page.count("<img") >= 2, f"{stem}: figures missing"


def test_chapter_07_folds_and_chapter_08_aggregation(reproduced):
    assert "no subject is in two folds" in _page("07_afew_va")
    page = _page("08_emotiw")
    assert "Total accuracy by aggregation rule" in page and "DenseNet-121" in page  # Table 19


def test_chapter_09_predicts_a_real_video_and_matches_evaluate(reproduced):
    page = _page("09_predict_your_video")
    assert "carphone_pristine.mp4" in page and "no emotion recogniser" in page
    assert page.count("<img") >= 2
    nb = json.loads((ROOT / "book" / "executed" / "09_predict_your_video.ipynb").read_text())
    glued = {o["metadata"]["scrapbook"]["name"]: o for c in nb["cells"] for o in c.get("outputs", [])
             if o.get("metadata", {}).get("scrapbook")}
    record = glued["max_difference"]
    value = float(record["data"][record["metadata"]["scrapbook"]["mime_prefix"] + "text/plain"])
    assert value < 1e-4, f"predict and evaluate differ by {value}"


def test_predict_writes_csv_and_figure_for_a_synthetic_test_video(reproduced, tmp_path):
    """`affwild predict` with the pipeline's own AffWildNet (the default weights)."""
    video = sorted((ROOT / "data" / "synth" / "affwild" / "videos" / "test").iterdir())[0]
    proc = subprocess.run([sys.executable, "-m", "affwild_lib", "predict", str(video), "--out",
                           str(tmp_path), "--no-progress"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["weights"].endswith("experiments/affwildnet/model.keras")
    import pandas as pd

    table = pd.read_csv(tmp_path / f"{video.stem}.csv")
    assert len(table) == summary["frames"] and table["face"].sum() == summary["faces"] > 0
    assert (tmp_path / f"{video.stem}.png").stat().st_size > 10_000


def test_chapter_02_shows_the_tool_and_a_trace_made_with_it(reproduced, tmp_path):
    """The page shows the tool's screenshots; with a trace in the tool's folder (here a temporary
    one, passed as the chapter's ``annotations`` parameter) it shows that trace fused with the
    release's annotators (what a user sees after annotating and `make book`)."""
    import numpy as np
    import papermill as pm

    from affwild_lib.datasets import affwild
    from affwild_lib.notebooks import KERNEL, notebook_parameters

    page = _page("02_annotation_and_preprocessing")
    assert "affwild annotate data/synth/affwild" in page and "Your traces" in page
    assert page.count("<img") >= 4

    release = ROOT / "data" / "synth" / "affwild"
    video = next(r for r in affwild.read(release) if r.split == "train")
    t = np.linspace(0, video.time_s[-1] + 0.02, 60)
    trace = tmp_path / "annotations_raw" / "valence" / video.video_id / "student-test.csv"
    trace.parent.mkdir(parents=True)
    trace.write_text("time_s,value\n" + "".join(f"{a:.3f},{0.5 * np.sin(a):.4f}\n" for a in t))
    notebook = ROOT / "notebooks" / "02_annotation_and_preprocessing.ipynb"
    out = tmp_path / "02.ipynb"
    pm.execute_notebook(str(notebook), str(out), kernel_name=KERNEL, cwd=str(ROOT), progress_bar=False,
                        parameters={**notebook_parameters(notebook), "annotations": str(tmp_path)})
    nb = json.loads(out.read_text())
    cell = next(c for c in nb["cells"] if c.get("id") == "02-tool-4")
    shown = json.dumps(cell["outputs"])
    assert "student-test" in shown and video.video_id in shown and "image/png" in shown
    assert "No trace made" not in shown


def test_chapter_03_scores_with_affwild_score(reproduced):
    page = _page("03_challenge_baseline")
    assert "$ affwild score SUBMISSION GOLD" in page
    assert "FATAUVA-Net" in page  # Table 6


def test_reproduction_page_has_every_claim(reproduced):
    from affwild_lib.claims import CLAIMS

    page = _page("90_reproduction")
    for claim in CLAIMS:
        assert claim.statement in page, claim.statement
    nb = json.loads((ROOT / "book" / "executed" / "90_reproduction.ipynb").read_text())
    verdicts = _verdicts_of(nb)
    assert len(verdicts) == len(CLAIMS) and "not run" not in verdicts, verdicts


def _verdicts_of(nb):
    from affwild_lib.claims import VERDICTS

    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            md = o.get("data", {}).get("text/markdown", "")
            md = "".join(md) if isinstance(md, list) else md
            for v in VERDICTS:
                if f"This build: **{v}**" in md:
                    out.append(v)
    return out


def test_metrics_show_prints_every_experiment(reproduced):
    from affwild_lib.experiments import EXPERIMENTS
    from affwild_lib.transfer import TRANSFERS

    shown = json.loads(dvc("metrics", "show", "--json").stdout)
    text = json.dumps(shown)
    for name in [*EXPERIMENTS, *TRANSFERS]:
        assert f"experiments/{name}/scores.json" in text, name
    assert "ccc_mean" in text


def test_changing_one_experiment_reruns_only_it_and_what_follows(reproduced, tmp_path):
    """Done-when 3 of issue 6: one experiment's parameter -> that experiment, then only the
    chapters that read its outputs, then the book. `dvc repro --dry` on an edited params.yaml
    (restored after) lists the stages whose own inputs changed; what runs after them follows
    from the outputs each later stage reads, checked on the resolved pipeline."""
    import yaml

    params = ROOT / "params.yaml"
    original = params.read_text()
    assert "  cnn-vgg16: {}\n" in original
    try:
        params.write_text(original.replace("  cnn-vgg16: {}\n", "  cnn-vgg16: {learning_rate: 0.0005}\n"))
        dry = dvc("repro", "--dry").stdout
    finally:
        params.write_text(original)
    ran = sorted(line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage"))
    assert ran == ["evaluate@cnn-vgg16", "train-cnn@cnn-vgg16"], ran
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    readers = sorted(name for name, stage in stages.items() if "foreach" not in stage
                     and any(str(d).startswith("experiments/cnn-vgg16/") for d in stage.get("deps", [])))
    assert readers == ["notebook-04-cnn-ablations", "notebook-90-reproduction"], readers
    assert "book/executed/04_cnn_ablations.ipynb" in stages["book"]["deps"]


def test_plots_show_renders_figs_14_and_15(reproduced):
    data = json.loads(dvc("plots", "show", "--json").stdout)["data"]
    for title in ("Fig. 14 valence, AffWildNet", "Fig. 14 arousal, AffWildNet",
                  "Fig. 15 labels and predictions, AffWildNet", "Validation CCC per epoch"):
        values = data[title][0]["content"]["data"]["values"]
        assert len(values) > 10, title
    fig15 = data["Fig. 15 labels and predictions, AffWildNet"][0]["content"]["data"]["values"]
    assert {v["filename"] for v in fig15} == {"fig15_labels.csv", "fig15_predictions.csv"}


@pytest.mark.parametrize("stem,tables,claim_keys", [
    ("03_challenge_baseline", [5], []),
    ("04_cnn_ablations", [9, 10, 11, "loss", "oversampling"],
     ["vggface-backbone", "landmarks", "mean-annotators", "ccc-loss", "oversampling"]),
    ("05_affwildnet", [12, 13, 14], ["gru-lstm", "cnn-rnn", "beats-baseline", "two-layers", "128-units"]),
    ("06_recola", [15, "15x"], ["recola-prior"]),
    ("07_afew_va", [16, 17, "17x"], ["afewva-prior"]),
    ("08_emotiw", [18], ["emotiw-prior"]),
    ("90_reproduction", [5, 9, 10, 11, 12, 13, 14, 15, "15x", 16, 17, "17x", 18],
     [c.key for c in __import__("affwild_lib.claims").claims.CLAIMS]),
])
def test_each_chapter_depends_on_every_experiment_it_shows(stem, tables, claim_keys):
    """The chapters read experiments' outputs: each one they show (tables) or judge (claims)
    must be a DVC dependency, or a retrained experiment would leave the chapter stale."""
    import yaml

    from affwild_lib import claims, results

    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][
        f"notebook-{stem.replace('_', '-')}"]["deps"]
    shown = set()
    for table in tables:
        shown |= set(results.rows_of(table).values())
    for key in claim_keys:
        shown |= set(claims.get(key).experiments)
    for name in shown:
        for output in ("metrics.json", "predictions.csv"):
            assert f"experiments/{name}/{output}" in deps, f"{stem} does not depend on {name}/{output}"
    source = (ROOT / "notebooks" / f"{stem}.ipynb").read_text()
    for key in claim_keys if stem != "90_reproduction" else []:
        assert f'verdict_md(\\"{key}\\")' in source, f"{stem} does not show claim {key}"
