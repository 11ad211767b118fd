"""Claim verdicts (affwild_lib.claims) and the side-by-side tables (affwild_lib.results)."""
import json

import numpy as np
import pandas as pd
import pytest

from affwild_lib import claims as C
from affwild_lib import results as R
from affwild_lib.experiments import EXPERIMENTS, by_table
from affwild_lib.metrics import ccc
from affwild_lib.transfer import TRANSFERS


def test_every_claim_names_known_experiments():
    known = {**EXPERIMENTS, **TRANSFERS}
    for claim in C.CLAIMS:
        assert claim.pairs and claim.expectation
        for better, worse in claim.pairs:
            assert better in known and worse in known and better != worse
            # a claim compares on one dataset: Aff-Wild's, or one of Sect. 5's
            assert getattr(known[better], "dataset", "affwild") == getattr(known[worse], "dataset", "affwild")


def test_blocks_never_cross_a_video():
    videos = np.array(["a"] * 250 + ["b"] * 30 + ["c"] * 100)
    ids = C.blocks(videos, block=100)
    assert list(np.bincount(ids)) == [100, 100, 50, 30, 100]
    for b in np.unique(ids):
        assert len(set(videos[ids == b])) == 1


def _fake(n=3000, seed=0, noise_a=0.3, noise_b=0.9):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    labels = np.stack([np.sin(t / 50), np.cos(t / 70)], 1)
    a = labels + noise_a * rng.standard_normal(labels.shape)
    b = labels + noise_b * rng.standard_normal(labels.shape)
    videos = np.repeat(["v1", "v2", "v3"], n // 3)
    return labels, a, b, videos


def test_paired_difference_point_estimate_is_the_pooled_ccc_difference():
    labels, a, b, videos = _fake()
    d = C.paired_difference(labels, a, b, videos, n_boot=200)
    expect_a = np.mean([ccc(labels[:, i], a[:, i]) for i in range(2)])
    expect_b = np.mean([ccc(labels[:, i], b[:, i]) for i in range(2)])
    assert d["a"] == pytest.approx(expect_a, abs=1e-9)
    assert d["b"] == pytest.approx(expect_b, abs=1e-9)
    assert d["low"] <= d["difference"] <= d["high"]
    assert d["low"] > 0  # a is clearly better
    assert d["n_blocks"] == 30


def test_identical_models_give_an_interval_around_zero():
    labels, a, _, videos = _fake()
    d = C.paired_difference(labels, a, a.copy(), videos, n_boot=200)
    assert d["difference"] == 0 and d["low"] == 0 and d["high"] == 0 and d["identical"]


def test_moment_bootstrap_equals_an_explicit_resample():
    """The bootstrap sums per-block moments; that must equal the CCC of the resampled frames."""
    labels, a, _, videos = _fake(n=900)
    ids = C.blocks(videos, 100)
    counts = np.random.default_rng(1).multinomial(ids.max() + 1, np.full(ids.max() + 1, 1 / (ids.max() + 1)))
    frames = np.concatenate([np.flatnonzero(ids == b) for b, k in enumerate(counts) for _ in range(k)])
    moments = C._moments(ids, labels[:, 0], a[:, 0])
    assert C._ccc_from_moments(counts @ moments) == pytest.approx(ccc(labels[frames, 0], a[frames, 0]), abs=1e-10)


def test_whole_videos_are_resampled_when_there_are_enough(tmp_path):
    rng = np.random.default_rng(0)
    videos = np.repeat([f"v{i:02d}" for i in range(12)], 50)
    labels = rng.standard_normal((600, 2))
    _write(tmp_path, "cnn-vggface", labels, labels + 0.3 * rng.standard_normal((600, 2)), videos)
    _write(tmp_path, "cnn-vggface-mse", labels, labels + 0.9 * rng.standard_normal((600, 2)), videos)
    c = C.compare(tmp_path, "cnn-vggface", "cnn-vggface-mse", n_boot=200)
    assert c["n_blocks"] == c["n_videos"] == 12


def test_close_models_are_within_noise():
    # two models as good as each other, with errors of their own
    labels, a, _, videos = _fake()
    _, b, _, _ = _fake(seed=9)
    d = C.paired_difference(labels, a, b, videos, n_boot=500)
    assert d["low"] < 0 < d["high"]


def _write(folder, name, labels, pred, videos):
    out = folder / name
    out.mkdir(parents=True)
    frame = pd.DataFrame({"video": videos, "frame_index": np.arange(len(videos)),
                          "valence": labels[:, 0], "arousal": labels[:, 1],
                          "valence_pred": pred[:, 0], "arousal_pred": pred[:, 1]})
    frame.to_csv(out / "predictions.csv", index=False)
    scores = {"ccc_valence": ccc(labels[:, 0], pred[:, 0]), "ccc_arousal": ccc(labels[:, 1], pred[:, 1]),
              "mse_valence": 0.1, "mse_arousal": 0.2, "profile": "tiny", "data_source": "synthetic",
              "epoch_chosen": 1, "n_test_frames": len(videos), "wall_seconds": 1.0, "n_params": 10,
              "initialisation": {"used": "random"}}
    scores["ccc_mean"] = (scores["ccc_valence"] + scores["ccc_arousal"]) / 2
    (out / "metrics.json").write_text(json.dumps(scores))


def test_verdicts_follow_the_rule(tmp_path):
    labels, good, bad, videos = _fake()
    _write(tmp_path, "cnn-vggface", labels, good, videos)
    _write(tmp_path, "cnn-vggface-nolandmarks", labels, bad, videos)      # landmarks help: yes
    _write(tmp_path, "cnn-vggface-mse", labels, good * 1.0, videos)         # identical: not testable
    _write(tmp_path, "affwildnet", labels, bad, videos)                     # CNN-RNN clearly worse: contradicted
    v = C.verdict("landmarks", tmp_path, n_boot=300)
    assert v["verdict"] == "reproduced" and len(v["comparisons"]) == 1
    assert C.verdict("ccc-loss", tmp_path, n_boot=300)["verdict"] == "not testable"
    assert C.verdict("cnn-rnn", tmp_path, n_boot=300)["verdict"] == "contradicted"
    assert C.verdict("gru-lstm", tmp_path, n_boot=300)["verdict"] == "not run"
    text = C.markdown(C.verdict("cnn-rnn", tmp_path, n_boot=300))
    assert "contradicted" in text and "What we expected" in text and "Why it may not show" in text
    assert "What we expected" not in C.markdown(v)


def test_a_claim_is_only_as_strong_as_its_weakest_comparison(tmp_path):
    labels, good, bad, videos = _fake()
    _write(tmp_path, "cnn-vggface", labels, good, videos)
    _write(tmp_path, "cnn-vgg16", labels, bad, videos)
    _write(tmp_path, "cnn-resnet50", labels, good + 1e-4, videos)  # a tie: within noise
    v = C.verdict("vggface-backbone", tmp_path, n_boot=300)
    assert [c["verdict"] for c in v["comparisons"]][0] == "reproduced"
    assert v["verdict"] in ("direction only", "inconclusive")


def test_the_wrong_way_splits_into_inconclusive_and_contradicted():
    """Issue 23: a gap the wrong way within noise is not a reversal. The rule on the interval
    alone: the wrong way and excluding 0 is contradicted, including 0 inconclusive."""
    assert C._pair_verdict({"difference": -0.012, "low": -0.111, "high": 0.142}) == "inconclusive"
    assert C._pair_verdict({"difference": -0.070, "low": -0.103, "high": -0.031}) == "contradicted"
    assert C._pair_verdict({"difference": 0.02, "low": -0.01, "high": 0.05}) == "direction only"
    assert C.VERDICTS.index("inconclusive") < C.VERDICTS.index("contradicted")


def test_a_verdict_recorded_under_the_old_rule_reads_under_the_new(tmp_path):
    """results/small was recorded when both were 'not reproduced': reading it rejudges each
    comparison from its stored interval, so a chapter never shows the retired word."""
    old = [{"claim": "two-layers", "verdict": "not reproduced",
            "comparisons": [{"better": "affwildnet", "worse": "cnnrnn-gru-1x128", "difference": -0.07,
                             "low": -0.103, "high": -0.031, "verdict": "not reproduced"}]},
           {"claim": "gru-lstm", "verdict": "not reproduced",
            "comparisons": [{"better": "affwildnet", "worse": "cnnrnn-lstm-2x128", "difference": -0.012,
                             "low": -0.111, "high": 0.142, "verdict": "not reproduced"}]},
           {"claim": "emotiw-prior", "verdict": "not run", "comparisons": []}]
    out = tmp_path / "results" / "old"
    out.mkdir(parents=True)
    (out / "verdicts.json").write_text(json.dumps(old))
    (out / "run.json").write_text(json.dumps({"profile": ["small"], "data_source": ["synthetic"]}))
    pd.DataFrame({"experiment": ["affwildnet"], "ccc_mean": [0.5]}).to_csv(out / "scores.csv", index=False)
    _, verdicts, _ = R.recorded("old", tmp_path)
    assert [v["verdict"] for v in verdicts] == ["contradicted", "inconclusive", "not run"]
    assert verdicts[0]["comparisons"][0]["verdict"] == "contradicted"


def test_side_by_side_joins_paper_rows_to_experiments(tmp_path):
    labels, good, bad, videos = _fake()
    _write(tmp_path, "cnn-vggface", labels, good, videos)
    _write(tmp_path, "cnn-vggface-nolandmarks", labels, bad, videos)
    ours = R.scores(tmp_path)
    side = R.side_by_side(10, ours)
    assert ("paper", "ccc_valence") in side.columns
    ours_label = R.label(ours)
    assert ours_label == "ours (synthetic, tiny)"
    assert side.loc["With Landmarks", (ours_label, "ccc_valence")] == pytest.approx(
        ours.loc["cnn-vggface", "ccc_valence"])
    assert side.loc["Without Landmarks", ("", "experiment")] == "cnn-vggface-nolandmarks"
    # a run with overrides of its paper settings is marked
    config = json.loads((tmp_path / "cnn-vggface" / "metrics.json").read_text())
    config["config"] = {**EXPERIMENTS["cnn-vggface"].as_dict(), "learning_rate": 0.0005}
    (tmp_path / "cnn-vggface" / "metrics.json").write_text(json.dumps(config))
    marked = R.side_by_side(10, R.scores(tmp_path))
    assert marked.loc["With Landmarks", ("", "experiment")] == "cnn-vggface (changed: learning_rate=0.0005)"
    # a table without paper figures: ours only
    loss = R.side_by_side("loss", ours)
    assert "paper" not in loss.columns.get_level_values(0)
    assert set(loss.index) == {"CCC", "MSE"}


def test_rows_of_every_table_are_experiments():
    for table in (5, 9, 10, 11, 12, 13, 14):
        rows = R.rows_of(table)
        assert rows and set(rows.values()) <= {e.name for e in by_table(table)}


def test_record_and_read_back(tmp_path, monkeypatch):
    labels, good, bad, videos = _fake()
    folder = tmp_path / "experiments"
    _write(folder, "cnn-vggface", labels, good, videos)
    _write(folder, "cnn-vggface-nolandmarks", labels, bad, videos)
    (tmp_path / "params.yaml").write_text("profile: tiny\nprofiles: {tiny: {}}\n")
    monkeypatch.setenv("AFFWILD_ROOT", str(tmp_path))
    R.record(tmp_path / "results" / "run1", folder, note="test")
    table, verdicts, run = R.recorded("run1")
    assert list(table.index) == ["cnn-vggface", "cnn-vggface-nolandmarks"]
    assert {v["claim"]: v["verdict"] for v in verdicts}["landmarks"] == "reproduced"
    assert run["note"] == "test" and run["profile"] == ["tiny"]
    assert R.recorded("absent") is None
    with pytest.raises(FileNotFoundError):
        R.record(tmp_path / "results" / "empty", tmp_path / "nothing")


def test_a_later_part_adds_to_a_recorded_run_and_replaces_nothing(tmp_path, monkeypatch):
    """Sect. 5 recorded in a later session than Sect. 4: ``record --merge`` adds the part's new
    experiments and the claims it judges, keeps what was recorded, and says what the rerun of a
    shared experiment gave."""
    labels, good, bad, videos = _fake()
    (tmp_path / "params.yaml").write_text("profile: tiny\nprofiles: {tiny: {}}\n")
    monkeypatch.setenv("AFFWILD_ROOT", str(tmp_path))
    first, second = tmp_path / "first", tmp_path / "second"
    _write(first, "cnn-vggface", labels, good, videos)
    _write(first, "cnn-vggface-nolandmarks", labels, bad, videos)
    _write(second, "cnn-vggface", labels, bad, videos)          # a rerun that disagrees
    _write(second, "cnn-vggface-mse", labels, good, videos)      # MSE beats that rerun: ccc-loss
    out = tmp_path / "results" / "run"
    R.record(out, first, note="part 1")
    R.record(out, second, note="part 2", merge=True)
    table, verdicts, run = R.recorded("run")
    assert list(table.index) == ["cnn-vggface", "cnn-vggface-nolandmarks", "cnn-vggface-mse"]
    assert table.at["cnn-vggface", "ccc_mean"] == pytest.approx(
        (ccc(labels[:, 0], good[:, 0]) + ccc(labels[:, 1], good[:, 1])) / 2)  # the earlier row
    by_claim = {v["claim"]: v["verdict"] for v in verdicts}
    assert by_claim["landmarks"] == "reproduced"          # part 1's, although part 2 cannot judge it
    assert by_claim["ccc-loss"] == "contradicted"         # part 2's, from part 2's own runs
    assert [p["note"] for p in run["parts"]] == ["part 1", "part 2"]
    assert run["parts"][1]["experiments"] == ["cnn-vggface-mse"]
    assert run["parts"][1]["claims"] == ["ccc-loss"]
    assert set(run["parts"][1]["reran"]) == {"cnn-vggface"}
    assert run["training_seconds"] == pytest.approx(4.0)
    words = R.run_summary("run", run)
    assert "in 2 parts" in words and "Part 2: 1 experiment," in words and "part 2" in words
    with pytest.raises(ValueError, match="nothing to merge"):  # the same part again
        R.record(out, second, note="part 2 again", merge=True)
    assert len(R.recorded("run")[2]["parts"]) == 2
    with pytest.raises(FileNotFoundError, match="no recorded run"):
        R.record(tmp_path / "results" / "none", second, merge=True)
    assert not (tmp_path / "results" / "none").exists()


def test_seeds_enter_the_score_and_widen_the_interval():
    """Issue 17: with several training seeds a score is their mean, and the interval covers
    the seeds' spread as well as the test people's."""
    from affwild_lib.claims import paired_difference

    rng = np.random.default_rng(0)
    n = 1200
    videos = np.repeat(np.arange(12), n // 12)
    labels = rng.normal(0, 0.4, (n, 2))
    good = labels + rng.normal(0, 0.2, (n, 2))
    one = paired_difference(labels, good, labels * 0.5 + rng.normal(0, 0.3, (n, 2)), videos, block=None)
    same = paired_difference(labels, [good], [labels * 0.5 + rng.normal(0, 0.3, (n, 2))], videos,
                             block=None)
    assert same["seed_sd_a"] is None and one["n_videos"] == 12
    # three seeds of A that disagree a lot: the mean moves and the interval widens
    seeds_a = [good, labels + rng.normal(0, 0.6, (n, 2)), labels * 0.2 + rng.normal(0, 0.4, (n, 2))]
    worse = labels * 0.5 + rng.normal(0, 0.3, (n, 2))
    single = paired_difference(labels, seeds_a[0], worse, videos, block=None)
    spread = paired_difference(labels, seeds_a, [worse] * 3, videos, block=None)
    assert spread["a"] == pytest.approx(np.mean(spread["seeds_a"])) and len(spread["seeds_a"]) == 3
    assert spread["seed_sd_a"] > 0.1 and spread["seed_sd_b"] == 0
    assert spread["high"] - spread["low"] > 1.5 * (single["high"] - single["low"])
    assert not spread["identical"]


def test_the_papers_gap_is_read_from_its_tables():
    from affwild_lib.claims import paper_gap

    # Table 12: GRU 0.57/0.43 vs LSTM 0.52/0.38 (mean 0.50 vs 0.45)
    assert paper_gap("affwildnet", "cnnrnn-lstm-2x128") == pytest.approx(0.05)
    assert paper_gap("cnn-vggface", "cnn-vgg16") == pytest.approx(0.07)
    assert paper_gap("cnn-vggface", "cnn-vggface-random") is None  # our control: no paper row


def test_each_claim_says_what_synthaffwild_builds_in_and_design_choices_are_apart():
    """Issue 23: the landmark gain and the annotators' lag are put there by the generator; a
    reader sees it next to each verdict. The two design choices are counted apart."""
    assert set(C.BUILT_IN) == {c.key for c in C.CLAIMS}
    assert "landmarks" in C.get("landmarks").built_in and "lag" in C.get("cnn-rnn").built_in
    assert {c.key for c in C.CLAIMS if c.design} == {"ccc-loss", "oversampling"}
    v = {"claim": "landmarks", "statement": "landmarks help", "source": "Table 10", "verdict": "reproduced",
         "comparisons": [], "expectation": "", "otherwise": "", "built_in": C.get("landmarks").built_in}
    assert "*Built into SynthAffWild:* the faces are drawn from 68 landmarks" in C.markdown(v)
    assert "nothing that favours either side" in C.markdown({**v, "built_in": ""})
