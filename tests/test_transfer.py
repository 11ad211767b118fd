"""Sect. 5 (affwild_lib.transfer): folds, label scaling, frame-to-clip aggregation, the 7-class
head built from a valence-arousal AffWildNet, the two fine-tuning modes, and whole runs on toy
stores (a cross-validated one, AFEW-VA's protocol; a 7-emotion fine-tuning, EmotiW's)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affwild_lib import claims, results, transfer
from conftest import TOY_SIZE as SIZE, write_toy_store

pytestmark = pytest.mark.train

FAST = dict(width=1 / 16, input_size=SIZE, epochs=2, max_steps_per_epoch=6, seq_len=4,
            seq_stride=2, seed=0, bn_momentum=0.9, weights=None)  # random: no pretrained/ file read


# --------------------------------------------------------------------------------------------
# Folds


def test_person_folds_never_put_a_subject_in_two_folds():
    rng = np.random.default_rng(1)
    subject_of = {f"{i:03d}": f"s{rng.integers(0, 12)}" for i in range(60)}
    frames = {v: int(rng.integers(10, 120)) for v in subject_of}
    folds = transfer.person_folds(subject_of, frames, 5)
    assert set(folds) == set(subject_of)
    by_subject = pd.DataFrame({"subject": subject_of, "fold": folds}).groupby("subject")["fold"].nunique()
    assert by_subject.max() == 1
    assert set(folds.values()) == set(range(5))
    load = pd.Series(frames).groupby(pd.Series(folds)).sum()
    assert load.max() - load.min() <= max(pd.Series(frames).groupby(pd.Series(subject_of)).sum())


def test_person_folds_depend_on_the_data_not_the_order():
    subject_of = {"a": "s1", "b": "s2", "c": "s2", "d": "s3", "e": "s4", "f": "s5", "g": "s6"}
    frames = dict(zip(subject_of, [10, 5, 5, 30, 8, 8, 2]))
    forward = transfer.person_folds(subject_of, frames, 5)
    backward = transfer.person_folds(dict(reversed(list(subject_of.items()))), frames, 5)
    assert forward == backward
    assert forward["b"] == forward["c"]


def test_person_folds_need_as_many_subjects_as_folds():
    with pytest.raises(ValueError, match="3 subjects cannot make 5"):
        transfer.person_folds({"a": "x", "b": "y", "c": "z"}, {}, 5)


# --------------------------------------------------------------------------------------------
# Labels and aggregation


def test_afew_va_labels_reach_the_store_divided_by_ten(tmp_path):
    """Label scaling end to end: JSON integers -> reader -> [-1, 1] (Sect. 5.1.2)."""
    from PIL import Image

    from affwild_lib.datasets import read

    clip = tmp_path / "001"
    clip.mkdir()
    frames = {}
    for i, (v, a) in enumerate([(-10, 10), (3, -7), (0, 1)]):
        Image.new("RGB", (64, 48)).save(clip / f"{i:05d}.png")
        frames[f"{i:05d}"] = {"valence": v, "arousal": a, "landmarks": [[1.0, 2.0]] * 68}
    (clip / "001.json").write_text(json.dumps({"video_id": "001", "frames": frames}))
    record = read("afew-va", tmp_path)[0]
    np.testing.assert_allclose(record.valence, [-1.0, 0.3, 0.0], atol=1e-7)
    np.testing.assert_allclose(record.arousal, [1.0, -0.7, 0.1], atol=1e-7)


def test_emotion_index_names_an_unknown_emotion():
    assert transfer.emotion_index(["Angry", "Surprise"]).tolist() == [0, 6]
    with pytest.raises(ValueError, match="Contempt"):
        transfer.emotion_index(["Happy", "Contempt"])


def test_mean_and_vote_aggregation_differ_where_confidence_matters():
    # clip "a": two frames lean weakly to Neutral (4), one is sure of Happy (3)
    p = np.full((4, 7), 0.0)
    p[0, [3, 4]] = [0.45, 0.55]
    p[1, [3, 4]] = [0.45, 0.55]
    p[2, 3] = 1.0
    p[3, 5] = 1.0          # clip "b": one frame, Sad
    videos = ["a", "a", "a", "b"]
    mean = transfer.aggregate(p, videos, "mean")
    vote = transfer.aggregate(p, videos, "vote")
    assert mean["video"].tolist() == ["a", "b"] and mean["n_frames"].tolist() == [3, 1]
    assert mean["predicted"].tolist() == [3, 5]   # Happy: mean 0.63 against 0.37
    assert vote["predicted"].tolist() == [4, 5]   # Neutral: two votes to one
    np.testing.assert_allclose(mean.filter(like="p_").sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="rule"):
        transfer.aggregate(p, videos, "max")


def test_vote_ties_go_to_the_higher_mean_probability():
    p = np.zeros((2, 7))
    p[0, 1] = 0.9
    p[0, 2] = 0.1
    p[1, 2] = 0.6
    p[1, 1] = 0.4
    assert transfer.aggregate(p, ["c", "c"], "vote")["predicted"].tolist() == [1]


# --------------------------------------------------------------------------------------------
# The 7-class head and the fine-tuning modes


def _va_affwildnet(path: Path):
    from affwild_lib.models import build

    model = build("cnn_rnn", input_size=SIZE, width=1 / 16, seq_len=None)
    model.save(path)
    return model


def test_seven_class_head_takes_every_prior_layer_but_the_output(tmp_path):
    import keras

    prior = _va_affwildnet(tmp_path / "prior.keras")
    t = transfer.resolve("emotiw-affwildnet", "tiny", prior_path=str(tmp_path / "prior.keras"),
                         **{k: v for k, v in FAST.items() if k != "bn_momentum"})
    model, info = transfer.build_model(t, np.zeros((4, 68, 2), np.float32))
    frames = np.random.default_rng(0).integers(0, 256, (2, 5, SIZE, SIZE, 3)).astype(np.uint8)
    points = np.full((2, 5, 68, 2), 0.5, np.float32)
    out = keras.ops.convert_to_numpy(model.predict_on_batch((frames, points)))
    assert out.shape == (2, 5, 7)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    assert info["initialisation"] == "affwildnet"
    weighted = [layer.name for layer in model.layers if layer.weights]
    assert info["copied_layers"] == len(weighted) - 1
    for name in ("block1_conv1", "fc1", "gru2"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0],
                                      prior.get_layer(name).get_weights()[0])
    assert model.get_layer("fc2").get_weights()[0].shape[-1] == 7


def test_a_prior_of_another_width_is_refused(tmp_path):
    _va_affwildnet(tmp_path / "prior.keras")
    t = transfer.resolve("emotiw-affwildnet", "tiny", prior_path=str(tmp_path / "prior.keras"),
                         input_size=SIZE, width=1 / 8)
    with pytest.raises(ValueError, match="do not fit"):
        transfer.build_model(t, np.zeros((4, 68, 2), np.float32))


def test_missing_prior_says_how_to_make_it(tmp_path):
    t = transfer.resolve("recola-affwildnet", "tiny", prior_path=str(tmp_path / "none.keras"))
    with pytest.raises(FileNotFoundError, match="affwild train affwildnet"):
        transfer.build_model(t, np.zeros((4, 68, 2), np.float32))


def test_frozen_mode_trains_only_the_fc_and_rnn_layers(tmp_path):
    _va_affwildnet(tmp_path / "prior.keras")
    t = transfer.resolve("recola-affwildnet-frozen", "tiny", prior_path=str(tmp_path / "prior.keras"),
                         input_size=SIZE, width=1 / 16)
    model, info = transfer.build_model(t, np.zeros((4, 68, 2), np.float32))
    assert sorted(info["trainable_layers"]) == ["fc1", "fc2", "gru1", "gru2"]
    assert not model.get_layer("block1_conv1").trainable
    trainable = {id(v) for v in model.trainable_variables}
    assert all(id(v) not in trainable for v in model.get_layer("block5_conv3").weights)
    assert any(id(v) in trainable for v in model.get_layer("gru1").weights)
    whole = transfer.resolve("recola-affwildnet", "tiny")
    assert whole.learning_rate < transfer.resolve("recola-affwildnet-frozen", "tiny").learning_rate


# --------------------------------------------------------------------------------------------
# Whole runs on toy stores


def test_cross_validation_predicts_every_frame_once_from_the_fold_that_held_it_out(tmp_path):
    store = write_toy_store(tmp_path / "store", {"all": 10}, frames=24, fps=25.0)
    truth = tmp_path / "release" / "synth_truth"
    truth.mkdir(parents=True)
    # 8 subjects for 10 clips: s0 and s1 have two clips each
    owner = {f"{k:03d}": f"s{k // 2 if k < 4 else k - 2}" for k in range(10)}
    subjects = pd.Series(owner).groupby(pd.Series(owner)).apply(lambda s: " ".join(s.index))
    pd.DataFrame({"subject": subjects.index, "videos": subjects.to_numpy()}).to_csv(truth / "subjects.csv", index=False)
    out = tmp_path / "exp"
    metrics = transfer.run("afewva-cnn-vggface", "tiny", out=out, log=lambda _: None,
                           store=str(store), data_root=str(tmp_path / "release"), batch_size=8, **FAST)
    pred = pd.read_csv(out / "predictions.csv", dtype={"video": str})
    assert len(pred) == 10 * 24 and not pred.duplicated(["video", "frame_index"]).any()
    assert pred[["valence_pred", "arousal_pred"]].notna().all().all()
    assert sorted(pred["run"].unique()) == [f"fold{k}" for k in range(1, 6)]
    fold_subjects = pred.assign(subject=pred["video"].map(owner)).groupby("subject")["run"].nunique()
    assert fold_subjects.max() == 1, "a subject's clips were tested in two folds"
    for run, info in metrics["runs"].items():
        tested = set(pred.loc[pred["run"] == run, "video"].map(owner))
        assert not tested & set(info["held_out_subjects"]), "a test subject chose the epoch"
    assert set(metrics["per_run"]) == set(metrics["runs"])
    assert -1 <= metrics["pcc_valence"] <= 1 and json.loads((out / "scores.json").read_text())


def test_emotion_fine_tuning_runs_resumes_and_is_judged_per_clip(tmp_path, monkeypatch):
    store = write_toy_store(tmp_path / "store", {"train": 10, "val": 4}, frames=24, emotions=True, fps=25.0)
    release = tmp_path / "release"
    _va_affwildnet(tmp_path / "prior.keras")
    kw = dict(store=str(store), data_root=str(release), prior_path=str(tmp_path / "prior.keras"),
              batch_size=4, **FAST)
    out = tmp_path / "exp"
    metrics = transfer.run("emotiw-affwildnet", "tiny", out=out, log=lambda _: None, **kw)
    clips = pd.read_csv(out / "predictions.csv", dtype={"video": str})
    assert clips["video"].tolist() == ["010", "011", "012", "013"]
    assert set(clips["predicted"]) <= set(transfer.EMOTIONS)
    assert metrics["accuracy_total"] == pytest.approx(np.mean(clips["predicted"] == clips["emotion"]))
    assert np.array(metrics["confusion"]).sum() == 4
    frames = pd.read_csv(out / "frames.csv", dtype={"video": str})
    assert len(frames) == 4 * 24
    np.testing.assert_allclose(frames.filter(like="p_").sum(axis=1), 1.0, rtol=1e-4)
    # a second run finds the finished run and does not train again
    monkeypatch.setattr(transfer, "fit_run", lambda *a, **k: pytest.fail("trained again"))
    again = transfer.run("emotiw-affwildnet", "tiny", out=out, log=lambda _: None, **kw)
    assert again["accuracy_total"] == metrics["accuracy_total"]
    # ... unless the prior changed
    _va_affwildnet(tmp_path / "prior.keras")
    with pytest.raises(pytest.fail.Exception, match="trained again"):
        transfer.run("emotiw-affwildnet", "tiny", out=out, log=lambda _: None, **kw)


def test_seeds_rerun_the_protocol_and_enter_the_claims(tmp_path):
    """Issue 17: train.seeds runs Sect. 5's protocol once per seed; the further seeds' clip
    answers land in seed_predictions/, metrics.json has their spread, the claim reads them."""
    store = write_toy_store(tmp_path / "store", {"train": 10, "val": 4}, frames=24, emotions=True, fps=25.0)
    _va_affwildnet(tmp_path / "prior.keras")
    kw = dict(store=str(store), data_root=str(tmp_path / "release"),
              prior_path=str(tmp_path / "prior.keras"), batch_size=4, **{**FAST, "epochs": 1}, seeds=2)
    out = tmp_path / "experiments"
    metrics = transfer.run("emotiw-affwildnet", "tiny", out=out / "emotiw-affwildnet", log=lambda _: None, **kw)
    assert [s["seed"] for s in metrics["seeds"]] == [0, 1] and metrics["seed_summary"]["n_seeds"] == 2
    assert (out / "emotiw-affwildnet" / "seeds" / "seed-1" / "predictions.csv").is_file()
    seed1 = pd.read_csv(out / "emotiw-affwildnet" / "seed_predictions" / "seed-1.csv", dtype={"video": str})
    assert seed1["video"].tolist() == ["010", "011", "012", "013"]
    assert json.loads((out / "emotiw-affwildnet" / "metrics.json").read_text())["seeds"] == metrics["seeds"]
    transfer.run("emotiw-vggface-rnn", "tiny", out=out / "emotiw-vggface-rnn", log=lambda _: None,
                 **{k: v for k, v in kw.items() if k != "prior_path"})
    c = claims.compare(out, "emotiw-affwildnet", "emotiw-vggface-rnn")
    assert c["n_seeds_a"] == 2 and c["n_seeds_b"] == 2 and c["metric"] == "accuracy"
    assert c["a"] == pytest.approx(np.mean(c["seeds_a"]))


# --------------------------------------------------------------------------------------------
# Claims and tables


def test_accuracy_claims_bootstrap_over_clips(tmp_path):
    truth = ["Happy"] * 10 + ["Sad"] * 10
    for name, right in (("emotiw-affwildnet", 16), ("emotiw-vggface-rnn", 6)):
        predicted = truth[:right] + ["Angry"] * (20 - right)
        (tmp_path / name).mkdir()
        pd.DataFrame({"video": [f"{i:03d}" for i in range(20)], "emotion": truth,
                      "predicted": predicted, "n_frames": 5}).to_csv(tmp_path / name / "predictions.csv", index=False)
    c = claims.compare(tmp_path, "emotiw-affwildnet", "emotiw-vggface-rnn")
    assert c["metric"] == "accuracy" and c["a"] == 0.8 and c["b"] == 0.3
    assert c["low"] > 0 and c["n_videos"] == 20
    same = claims.paired_accuracy_difference([1, 0, 1], [1, 0, 1])
    assert same["identical"] and same["difference"] == 0


def test_table_15_has_the_paper_rows_and_our_controls():
    ours = pd.DataFrame({"ccc_valence": [0.5, 0.4], "ccc_arousal": [0.3, 0.2], "mse_valence": np.nan,
                         "mse_arousal": np.nan, "data_source": "synthetic", "profile": "tiny", "changed": ""},
                        index=["recola-affwildnet", "recola-affwildnet-noprior"])
    side = results.side_by_side(15, ours, metrics=["ccc_valence", "ccc_arousal"])
    assert list(side.index[:2]) == ["Fine-tuned AffWildNet", "ResNet-GRU"]
    assert "AffWildNet, no Aff-Wild prior" in side.index and "AffWildNet, CNN frozen" in side.index
    assert side.loc["Fine-tuned AffWildNet", ("paper", "ccc_valence")] == 0.526
    assert side.loc["AffWildNet, no Aff-Wild prior", ("ours (synthetic, tiny)", "ccc_valence")] == 0.4
    assert np.isnan(side.loc["AffWildNet, no Aff-Wild prior", ("paper", "ccc_valence")])
