"""The chapters' shared set-up (affwild_lib.book), the runner's shaping of an executed notebook
for the book (affwild_lib.notebooks.present) and the page "How this book was run" (issue 19)."""
import json

import numpy as np
import pandas as pd
import pytest

from affwild_lib import book
from affwild_lib.notebooks import present, provenance


def _side():
    metrics = ["ccc_valence", "ccc_arousal", "mse_valence", "mse_arousal", "ccc_mean_sd"]
    index = pd.Index(["100 units, 1 Hidden Layer", "a row we do not run"], name="row")
    blocks = {"paper": pd.DataFrame([[0.51, 0.33, 0.1, 0.2, np.nan], [0.4, 0.3, 0.2, 0.3, np.nan]],
                                    index=index, columns=metrics),
              "ours (synthetic, tiny)": pd.DataFrame([[0.123, 0.456, 0.789, 0.321, 0.05], [np.nan] * 5],
                                                     index=index, columns=metrics)}
    side = pd.concat(blocks, axis=1)
    side.insert(0, ("", "experiment"), ["cnnrnn-gru-1x100 (changed: rnn_units=64)", ""])
    return side


def test_a_fitted_table_has_ccc_first_and_mse_folded_under_it():
    html = book.fitted(_side(), "Table 14: CCC and MSE")
    main, _, folded = html.partition("<details>")
    assert "0.123" in main and "0.456" in main and "0.789" not in main     # CCC only in the main table
    assert "0.789" in folded and "0.321" in folded and "MSE" in folded      # MSE folded under it
    assert "seed sd" in main and "ccc_valence" not in html                  # short headings
    # short row labels: our experiment's name; the paper's wording (and what changed) in the caption
    assert ">cnnrnn-gru-1x100<" in main
    assert "cnnrnn-gru-1x100 = 100 units, 1 Hidden Layer (changed: rnn_units=64)" in main
    assert ">a row we do not run<" in main                                 # no experiment: the paper's label


def test_a_table_without_mse_has_nothing_folded():
    side = _side().drop(columns=["mse_valence", "mse_arousal"], level=1)
    assert "<details>" not in book.fitted(side)


def test_the_chapter_note_names_both_sources(tmp_path):
    (tmp_path / "experiments").mkdir()
    ch = book.chapter("tiny", "none-such", root=tmp_path, announce=False)
    assert ch.ours.empty and not ch.has_recorded and ch.recorded == {}
    assert "ours (not run)" in ch.note() and "no recorded run `none-such`" in ch.note()


def _executed(tmp_path, stem="03_challenge_baseline", seconds=12.3, exception=False):
    folder = tmp_path / "book" / "executed"
    folder.mkdir(parents=True, exist_ok=True)
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# The challenge\n\ntext"}],
          "metadata": {"papermill": {"duration": seconds, "exception": exception},
                       "affwild": {"provenance": {"profile": "ci", "data_source": "synthetic",
                                                  "data_root": "data/synth", "commit": "abcdef123",
                                                  "clean": True, "ended": "2026-12-01 22:00 UTC",
                                                  "python": "3.11.7", "keras": "3.15.1",
                                                  "backend": "tensorflow", "tensorflow": "2.21.0",
                                                  "affwild_lib": "0.1.0"}}},
          "nbformat": 4, "nbformat_minor": 5}
    (folder / f"{stem}.ipynb").write_text(json.dumps(nb))


def test_how_this_book_was_run_lists_chapters_and_recorded_runs(tmp_path):
    _executed(tmp_path)
    _executed(tmp_path, "05_affwildnet", seconds=None, exception=True)
    run = tmp_path / "results" / "small"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"profile": ["small"], "data_source": ["synthetic"],
                                              "training_seconds": 3600, "commit": "1234567abc",
                                              "machine": "x86_64, 2 CPUs, Linux", "note": "a note"}))
    page = book.how_run(tmp_path)
    assert "| [The challenge](03_challenge_baseline.ipynb) | 12 s | ran |" in page
    assert "| 05_affwildnet |" not in page and "| – | failed |" in page
    assert "commit `abcdef1`" in page and "Keras 3.15.1 on tensorflow 2.21.0" in page
    assert "recorded run `small`" in page.lower() and "60 min" in page


def test_present_hides_the_parameters_and_adds_a_box_and_a_footer(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Title"},
                    {"cell_type": "code", "id": "b", "metadata": {"tags": ["parameters"]},
                     "source": 'profile = "tiny"', "outputs": [], "execution_count": 1},
                    {"cell_type": "code", "id": "c", "metadata": {"tags": ["injected-parameters"]},
                     "source": 'profile = "ci"', "outputs": [], "execution_count": 2},
                    {"cell_type": "code", "id": "d", "metadata": {}, "source": "1", "outputs": [],
                     "execution_count": 3}],
          "metadata": {"papermill": {"duration": 4.2}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    present(path, {"profile": "ci", "data_root": "data/synth", "recorded_run": "small"})
    out = json.loads(path.read_text())
    tags = [c["metadata"].get("tags", []) for c in out["cells"]]
    assert "remove-cell" in tags[1] and "remove-cell" in tags[2] and "remove-cell" not in tags[4]
    box, footer = out["cells"][3]["source"], out["cells"][-1]["source"]
    assert out["cells"][4]["id"] == "d"                       # the box right after the parameters
    assert "**ci**" in box and "{term}`profile`" in box and "`recorded_run = 'small'`" in box and box.startswith(":::{note}")
    assert "ran in 4 s" in footer and "How this book was run" in footer
    assert out["metadata"]["affwild"]["provenance"]["seconds"] == pytest.approx(4.2)
    import nbformat
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


def test_provenance_names_versions_and_the_data():
    p = provenance({"profile": "tiny", "data_root": "data/synth"}, 1.0)
    assert p["profile"] == "tiny" and p["python"].count(".") == 2 and p["keras"]
    assert p["backend"] in ("tensorflow", "jax", "torch", "numpy")


def test_the_constant_predictor_is_a_reference_row_and_worse_rows_are_flagged():
    """Issue 23: every valence-arousal table shows what predicting the test labels' mean scores,
    and a run of this build worse than it on MSE is flagged on the page."""
    reference = {"ccc_valence": 0.0, "ccc_arousal": 0.0, "mse_valence": 0.5, "mse_arousal": 0.9}
    html = book.fitted(_side(), "Table 14", reference, "ours (synthetic, tiny)")
    assert "constant: the test labels&#x27;" in html or "constant: the test labels'" in html
    assert "⚠ cnnrnn-gru-1x100" in html          # its MSE 0.789 > 0.5 (valence)
    assert "⚠ 1 row(s)" in html
    good = {**reference, "mse_valence": 0.9}
    assert "⚠" not in book.fitted(_side(), "", good, "ours (synthetic, tiny)")


def test_constant_reference_reads_the_test_labels(tmp_path):
    from affwild_lib import results

    folder = tmp_path / "cnn-vggface"
    folder.mkdir()
    pd.DataFrame({"video": ["1"] * 4, "frame_index": range(4), "valence": [0, 1, 0, 1.0],
                  "arousal": [0.5] * 4, "valence_pred": 0.0, "arousal_pred": 0.0}).to_csv(folder / "predictions.csv")
    ref = results.constant_reference(tmp_path, ["affwildnet", "cnn-vggface"])
    assert ref["mse_valence"] == pytest.approx(0.25) and ref["mse_arousal"] == 0 and ref["from"] == "cnn-vggface"
    assert results.constant_reference(tmp_path, ["affwildnet"]) is None


def test_a_wide_folded_table_is_split_by_source():
    """Table 18: 8 accuracies a source; the folded part is one table per source so that each
    fits the column."""
    emotions = ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise", "Total"]
    index = pd.Index(["VGG-16", "AffWildNet"], name="row")
    side = pd.concat({s: pd.DataFrame(np.full((2, 8), 0.25 + i / 10), index=index, columns=emotions)
                      for i, s in enumerate(["paper", "ours (synthetic, tiny)"])}, axis=1)
    side.insert(0, ("", "experiment"), ["emotiw-vgg16", "emotiw-affwildnet"])
    html = book.fitted(side, "Table 18", main=["Total"])
    main, _, folded = html.partition("<details>")
    assert "Total" in main and "Angry" not in main
    assert folded.count("<table") == 2 and "Angry" in folded


def test_the_comparisons_table_in_the_columns_a_page_has_room_for():
    from affwild_lib import claims

    v = {"statement": "A beats B", "source": "Table 9", "verdict": "contradicted",
         "comparisons": [{"better": "cnn-vggface", "worse": "cnn-vgg16", "a": 0.4, "b": 0.5, "difference": -0.1,
                          "low": -0.2, "high": -0.05, "n_seeds_a": 3, "n_seeds_b": 3, "seed_sd_a": 0.01,
                          "seed_sd_b": None}]}
    out = claims.compact(claims.table([v]))
    assert list(out.iloc[0]) == ["A beats B", "contradicted", "cnn-vggface vs cnn-vgg16",
                                 "-0.100 (-0.200, -0.050)", "mean CCC",
                                 format(claims.paper_gap("cnn-vggface", "cnn-vgg16"), "+.3f"), "0.010 / –"]
    assert out.shape[1] == 7


# --------------------------------------------------------------------------------------------
# Issue 23, item 12: the model as trained


@pytest.mark.train
def test_blocks_are_the_same_at_the_papers_size_and_the_miniatures():
    import keras

    from affwild_lib.experiments import resolve

    exp = resolve("affwildnet", "tiny")
    paper, ours = book.architecture(exp)
    assert list(paper["block"]) == list(ours["block"]) == [
        "input", "landmarks", "block1", "block2", "block3", "block4", "block5", "fc1", "gru1", "gru2", "fc2"]
    assert list(paper["layers"]) == [0, 0, 2, 2, 3, 3, 3, 1, 1, 1, 1]  # VGG's 13 conv layers (Table 8)
    sizes = dict(zip(paper["block"], paper["size"]))
    assert (sizes["input"], sizes["block5"], sizes["fc1"], sizes["gru1"], sizes["fc2"]) == (96, 512, 4096, 128, 2)
    small = dict(zip(ours["block"], ours["size"]))
    assert small["block5"] == 512 * exp.width and small["gru1"] == 128  # only the CNN is thinned
    with keras.StatelessScope(initialize_variables=False):
        from affwild_lib.models import build

        full = build("cnn_rnn", **{**exp.model_config(), "width": 1.0, "input_size": 96})
    assert paper["params"].sum() == full.count_params()


def test_the_architecture_figure_draws_each_block_twice():
    from affwild_lib import plots

    frame = pd.DataFrame({"block": ["input", "conv1", "fc1"], "kind": ["input", "conv", "fc"],
                          "size": [96, 64, 4096], "params": [0, 100, 1000]})
    small = frame.assign(size=[48, 4, 256], params=[0, 10, 50])
    fig = plots.architecture(frame, small, "t")
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    texts = {t.get_text() for t in ax.texts}
    assert {"96x96", "4,096", "48x48", "256"} <= texts and any("1,100 params" in t for t in texts)


def test_seen_counts_steps_and_frames_from_the_run(tmp_path):
    from affwild_lib.experiments import resolve

    exp = resolve("affwildnet", "tiny")
    assert book.seen(tmp_path, exp) == "not trained in this build"
    (tmp_path / "train.json").write_text(json.dumps({"n_train_items": 100}))
    pd.DataFrame({"epoch": [1, 2, 3]}).to_csv(tmp_path / "history.csv", index=False)
    per_epoch = min(-(-100 // exp.batch_size), exp.max_steps_per_epoch)
    text = book.seen(tmp_path, exp)
    assert f"3 epochs of {per_epoch} steps" in text
    assert f"{3 * per_epoch * exp.batch_size * exp.seq_len:,} frames" in text
