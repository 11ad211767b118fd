"""The paper's claims about Aff-Wild (Sect. 4.2.2), and whether our runs reproduce them.

Each :class:`Claim` names the experiments it compares, better first, as the paper ranks them
(Tables 9-14 and the loss and oversampling choices of Sect. 4.2). :func:`verdict` compares our
test predictions of each pair on the pooled CCC (Eq. 1), the mean of valence and arousal, and
says how sure that comparison is with a paired *block bootstrap*: contiguous blocks of test
frames (never crossing a video) are resampled with replacement, the same blocks for both
models, and the difference of mean CCC recomputed each time. Frames of a video are strongly
correlated, so resampling single frames would make any difference look certain.

Verdicts (the weakest comparison of a claim decides):

``reproduced``         every comparison goes the paper's way and its 95% interval excludes 0;
``direction only``     every comparison goes the paper's way, some within noise;
``inconclusive``       some comparison goes the other way, within noise (its interval
                       includes 0): the data cannot tell the two apart;
``contradicted``       some comparison goes the other way and its interval excludes 0: a
                       reversal of the paper's ranking;
``not testable``       two experiments gave identical predictions: on this data they are the
                       same network (e.g. VGG-Face and VGG-16 both without pre-trained weights);
``not run``            an experiment's predictions are missing.

With 10 or more test videos the bootstrap resamples whole videos (subjects), so the interval
includes the spread between people; with fewer (the tiny profile has 3) it resamples blocks of
:data:`BLOCK` frames, and the interval then covers only the spread within these few people.

With several training seeds per experiment (the profile's ``train.seeds``; further seeds'
predictions in ``seed_predictions/``), a score is the mean over seeds and the bootstrap resamples
the seeds too, so the interval covers the test people and the training noise.

No threshold is tuned to a result: the interval and the rule above are all there is. Each
claim carries ``expectation``: what we expect on the synthetic data, and why, said before
looking, so that a chapter can explain a claim that does not reproduce.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

#: Frames per bootstrap block: 100 frames, ~3 s at 30 fps, about the span of one reaction.
BLOCK = 100
N_BOOT = 2000
#: From the strongest to the weakest: a claim takes the weakest of its comparisons' verdicts.
VERDICTS = ("reproduced", "direction only", "inconclusive", "contradicted", "not testable", "not run")
#: From this many test videos on, the bootstrap resamples whole videos.
MIN_VIDEOS_FOR_VIDEO_BLOCKS = 10


@dataclass(frozen=True)
class Claim:
    """A ranking the paper reports: ``pairs`` of (better, worse) experiment names."""

    key: str
    statement: str
    source: str                       # where the paper says it
    pairs: tuple[tuple[str, str], ...]
    expectation: str                  # what to expect on synthetic data, and why
    otherwise: str = ""               # where we expected it: what could explain a failure
    built_in: str = ""                # what SynthAffWild builds in that the claim rests on (issue 23)
    design: bool = False              # one of Sect. 4.2's design choices, not a ranking of a table

    @property
    def experiments(self) -> list[str]:
        return sorted({name for pair in self.pairs for name in pair})


CLAIMS: tuple[Claim, ...] = (
    Claim("cnn-rnn", "CNN-RNN beats CNN", "Table 13",
          (("affwildnet", "cnn-vggface"),),
          "Expected to reproduce: the synthetic affect is smooth in time and the face reacts "
          "with a lag, which a recurrent layer can follow and a per-frame CNN cannot.",
          "AffWildNet's CNN learns through the RNN in as many steps as the CNN alone gets, "
          "from fewer distinct windows (80-frame windows at stride 40) than the CNN has "
          "frames, so a short run can leave it behind the plain CNN."),
    Claim("landmarks", "landmarks help", "Table 10",
          (("cnn-vggface", "cnn-vggface-nolandmarks"),),
          "Expected to reproduce strongly: in SynthAffWild the expression, hence the landmark "
          "geometry, is driven by the affect itself; from pixels a miniature CNN must learn the "
          "same geometry from a few subjects.",
          "The landmarks are dlib's on synthetic faces; where tracking fails on a held-out "
          "subject, the network learns little from them."),
    Claim("mean-annotators", "the mean of annotators beats one annotator", "Table 11",
          (("cnn-vggface", "cnn-vggface-1annotator"),),
          "Likely within noise: our simulated annotators differ by lag, gain and jitter around "
          "the same latent affect, and the one chosen (most correlated with the landmarks) is "
          "close to the mean; the test labels are the mean, which favours training on it."),
    Claim("gru-lstm", "GRU beats LSTM", "Table 12",
          (("affwildnet", "cnnrnn-lstm-2x128"),),
          "Uncertain: both cells have the paper's 2 x 128 units, but the paper's gap (0.05 CCC) "
          "is smaller than the seed-to-seed spread measured on the small profile (0.08 to 0.12 "
          "CCC over 3 seeds, shared/notes); only the seeds' interval can tell.",
          "A gap of 0.05 needs a seed spread well under it; with 3 seeds the interval is wide."),
    Claim("vggface-backbone", "VGG-Face beats VGG-16 and ResNet-50", "Table 9",
          (("cnn-vggface", "cnn-vgg16"), ("cnn-vggface", "cnn-resnet50")),
          "Expected to reproduce against VGG-16: VGG-Face starts from the synthetic face-identity "
          "corpus, VGG-16 from the object corpus (same classes, images and steps), so the "
          "two networks differ only by the domain of their pre-training, and SynthAffWild is "
          "faces. Against ResNet-50, uncertain: the architectures differ too.",
          "Identity features are not affect features: a face-identity network learns to ignore "
          "expression, so fine-tuning must undo part of what it learned; and the corpora are "
          "small, so either pre-training may teach little more than edges."),
    Claim("pretraining", "pre-training beats random initialisation",
          "Sect. 4.2 (the paper never trains from random weights)",
          (("cnn-vggface", "cnn-vggface-random"),),
          "Expected to reproduce: the miniature sees a few thousand frames of 20-odd people; "
          "filters learned on 40 or more other faces under the same nuisances give it a start "
          "it cannot learn from so few people.",
          "With few steps of pre-training on a small corpus, the start may be little better "
          "than random."),
    Claim("two-layers", "two RNN layers beat one", "Table 14",
          (("cnnrnn-gru-2x100", "cnnrnn-gru-1x100"), ("affwildnet", "cnnrnn-gru-1x128"),
           ("cnnrnn-gru-2x150", "cnnrnn-gru-1x150")),
          "Uncertain: a second layer adds depth that a short run may not exploit."),
    Claim("128-units", "128 hidden units beat 100 and 150", "Table 14",
          (("affwildnet", "cnnrnn-gru-2x100"), ("affwildnet", "cnnrnn-gru-2x150"),
           ("cnnrnn-gru-1x128", "cnnrnn-gru-1x100"), ("cnnrnn-gru-1x128", "cnnrnn-gru-1x150")),
          "Uncertain: the RNNs have the paper's 100, 128 and 150 units, but an optimum at 128 is "
          "a property of the real data, and neighbouring sizes differ little.",
          "Gaps between 100, 128 and 150 units are small next to the seed spread."),
    Claim("ccc-loss", "the CCC loss beats MSE on CCC",
          "Sect. 4.2: a design choice, no result reported",
          (("cnn-vggface", "cnn-vggface-mse"),),
          "Expected to reproduce: the CCC loss optimises the score itself, while MSE pulls "
          "predictions towards the mean and shrinks their variance, which CCC penalises.",
          "MSE can match CCC where the predictions already spread like the labels."),
    Claim("oversampling", "quadrant oversampling helps",
          "Sect. 4.2: a design choice, no result reported",
          (("cnn-vggface", "cnn-vggface-nooversampling"),),
          "The paper reports no figure for this choice. Uncertain here: the synthetic affect "
          "visits the quadrants less unevenly than the real data does."),
    Claim("beats-baseline", "AffWildNet beats the challenge baseline", "Tables 5, 13",
          (("affwildnet", "baseline-cnnm"),),
          "Expected to reproduce: CNN-M takes no landmarks and trains on MSE.",
          "See the CNN-RNN claim: a miniature AffWildNet may train too briefly."),
    Claim("fatauva-best", "FATAUVA-Net beats MM-Net and DRC-Net", "Table 6",
          (("fatauva-net", "mm-net"), ("fatauva-net", "drc-net-deep")),
          "Expected to reproduce: FATAUVA-Net starts from its attribute and AU stages, trained on "
          "another corpus of synthetic faces, and the AUs it learns there are the facial actions "
          "that show the affect; MM-Net and DRC-Net start from random weights (their teams' "
          "pre-training is unknown).",
          "FATAUVA-Net sees one frame at a time, MM-Net a window of frames; and a short AU stage "
          "on a small corpus may teach little: then temporal context can win."),
    Claim("entries-beaten", "AffWildNet beats the challenge entries", "Tables 6, 13",
          (("affwildnet", "fatauva-net"), ("affwildnet", "mm-net"), ("affwildnet", "drc-net-deep")),
          "Expected to reproduce against MM-Net and DRC-Net's deep variant (Table 6's row): "
          "AffWildNet starts from the synthetic face-identity pre-training and takes the "
          "landmarks, they start from random weights, on the images alone. Against FATAUVA-Net "
          "we are less sure: its AU stage learns the facial actions that carry the affect here.",
          "MM-Net is a CNN-RNN too, and its three memories see the same windows as AffWildNet's "
          "GRU: if the landmarks and the pre-training buy little in a short run, it can match it; "
          "FATAUVA-Net's AU stage gives it what the landmarks give AffWildNet."),
    # Sect. 5: the Aff-Wild prior (affwild_lib/transfer.py). Each compares the fine-tuned
    # AffWildNet with the paper's own control and with AffWildNet's architecture trained
    # without the prior, which isolates the prior from the architecture.
    Claim("recola-prior", "the Aff-Wild prior beats training without it on RECOLA", "Table 15",
          (("recola-affwildnet", "recola-resnet-gru"), ("recola-affwildnet", "recola-affwildnet-noprior")),
          "Expected to reproduce: SynthRECOLA's faces express affect through the same synthetic "
          "face model as SynthAffWild, so what AffWildNet learned carries over, and three "
          "training recordings of 15 s are too few to learn it from scratch.",
          "With three test recordings the interval covers only those people; a fine-tuning "
          "learning rate of 1e-4 for a few dozen steps may move the prior too little to fit "
          "RECOLA's calmer, lab-recorded affect."),
    Claim("afewva-prior", "the Aff-Wild prior beats training without it on AFEW-VA", "Table 17",
          (("afewva-affwildnet", "afewva-cnn-vggface"), ("afewva-affwildnet", "afewva-affwildnet-noprior")),
          "Expected to reproduce: a few hundred frames of film clips are far too few to learn "
          "faces from scratch, while the prior has seen thousands.",
          "AFEW-VA's labels are integers (steps of 0.1 after scaling) and its clips last under a "
          "second at the tiny profile: windows of 8 frames give the GRU little to work on."),
    Claim("emotiw-prior", "the Aff-Wild prior beats training without it on EmotiW", "Table 18",
          (("emotiw-affwildnet", "emotiw-vggface-rnn"), ("emotiw-affwildnet", "emotiw-vgg16"),
           ("emotiw-affwildnet", "emotiw-vgg16-rnn"), ("emotiw-affwildnet", "emotiw-resnet"),
           ("emotiw-affwildnet", "emotiw-resnet-rnn")),
          "Uncertain: valence and arousal say something about the seven emotions (happy is "
          "positive, angry and fearful are aroused), but not everything, and the synthetic "
          "clips are few; the comparison is on total accuracy over whole clips.",
          "A handful of validation clips make a total accuracy that moves in steps of 1/n; "
          "most pairs are then within noise, and the weakest of five pairs decides."),
)

#: What the synthetic world builds in that each claim rests on (``affwild_lib.synth``; issue
#: 23): a verdict on synthetic data says the mechanism the paper credits works where it was put,
#: not that it is there in real faces. An empty entry: nothing in the generator favours either side.
BUILT_IN = {
    "cnn-rnn": "the face reacts to the affect after a lag of its own, and the annotators 0.3-0.8 s "
               "later still: the labels lag the pixels, which only a model with memory can follow",
    "landmarks": "the faces are drawn from 68 landmarks that the affect moves (mouth, eyes, brows): "
                 "the landmark geometry is the affect's own signal, by construction",
    "mean-annotators": "the test labels are the fusion (mean of the 2-4 most correlated of the "
                       "simulated annotators), so training on that mean matches the test's target",
    "gru-lstm": "",
    "vggface-backbone": "the face-identity corpus is drawn by the same face generator as "
                        "SynthAffWild's subjects; the object corpus shares only the nuisances",
    "pretraining": "the pre-training corpora are drawn by the same renderer as the test faces",
    "two-layers": "",
    "128-units": "",
    "ccc-loss": "",
    "oversampling": "the trajectories are more often of positive than of negative valence, so some "
                    "quadrants are rare, as in Aff-Wild",
    "beats-baseline": "",
    "fatauva-best": "the generator's facial actions, which FATAUVA-Net's AU stage learns on its own "
                    "corpus, are a near-linear function of valence and arousal "
                    "(affwild_lib.synth.affect.facial_drive): an AU stage teaches the affect's signal",
    "entries-beaten": "the landmarks AffWildNet takes are the affect's own signal here (see the "
                      "landmarks claim), and the entries take none; its pre-training corpus is "
                      "drawn by the same face generator as the test faces",
    "recola-prior": "SynthRECOLA's faces come from the same face generator as SynthAffWild's, so "
                    "what AffWildNet learned of faces carries over by construction",
    "afewva-prior": "SynthAFEW-VA's faces come from the same face generator as SynthAffWild's, "
                    "its labels are round(10 x the same kind of latent affect)",
    "emotiw-prior": "each synthetic AFEW emotion is tied to a region of the valence-arousal plane "
                    "and to a facial signature, so a valence-arousal model has the emotions' axes",
}
#: Sect. 4.2's choices of how to train rather than rankings of a table: counted apart.
DESIGN = {"ccc-loss", "oversampling"}
CLAIMS = tuple(replace(c, built_in=BUILT_IN[c.key], design=c.key in DESIGN) for c in CLAIMS)


def get(key: str) -> Claim:
    for claim in CLAIMS:
        if claim.key == key:
            return claim
    raise KeyError(f"unknown claim {key!r}; known: {', '.join(c.key for c in CLAIMS)}")


# --------------------------------------------------------------------------------------------
# Paired block bootstrap of the CCC difference


def blocks(videos, block: int = BLOCK) -> np.ndarray:
    """Block id of each frame: runs of ``block`` consecutive frames within one video."""
    videos = np.asarray(videos)
    ids = np.empty(len(videos), np.int64)
    next_id, start = 0, 0
    for i in range(1, len(videos) + 1):
        if i == len(videos) or videos[i] != videos[start]:
            n = i - start
            ids[start:i] = next_id + np.arange(n) // block
            next_id += -(-n // block)
            start = i
    return ids


def _moments(ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per block: n, sum x, sum y, sum x^2, sum y^2, sum xy; shape (blocks, 6)."""
    k = ids.max() + 1 if len(ids) else 0
    cols = [np.ones_like(x), x, y, x * x, y * y, x * y]
    return np.stack([np.bincount(ids, weights=c, minlength=k) for c in cols], axis=1)


def _ccc_from_moments(m: np.ndarray) -> np.ndarray:
    """Pooled, biased CCC (Eq. 1) from summed moments (..., 6)."""
    n, sx, sy, sxx, syy, sxy = np.moveaxis(m, -1, 0)
    mx, my = sx / n, sy / n
    vx, vy, cov = sxx / n - mx ** 2, syy / n - my ** 2, sxy / n - mx * my
    return 2 * cov / (vx + vy + (mx - my) ** 2)


def _runs(value, ndim: int) -> list[np.ndarray]:
    """One run's array of ``ndim`` dimensions, or a list of them (one per seed), as a list."""
    if np.ndim(value) == ndim:
        return [np.asarray(value, np.float64)]
    return [np.asarray(v, np.float64) for v in value]


def paired_difference(labels: np.ndarray, pred_a, pred_b, videos, block: int = BLOCK,
                      n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Mean CCC (valence, arousal) of A minus B, with a 95% paired block-bootstrap interval.

    ``labels``: (n, 2) test frames in video order; ``pred_a``, ``pred_b``: (n, 2) predictions
    of one run each, or lists of them, one per training seed. With several seeds a score is the
    mean over seeds, and each bootstrap replicate also resamples each side's seeds with
    replacement, so the interval covers the test people *and* the seed-to-seed spread of
    training (a hierarchical bootstrap: blocks are shared by A and B, seeds are not).
    """
    labels = np.asarray(labels, np.float64)
    runs_a, runs_b = _runs(pred_a, 2), _runs(pred_b, 2)
    ok = ~np.isnan(labels).any(1)
    for p in runs_a + runs_b:
        ok &= ~np.isnan(p).any(1)
    videos = np.asarray(videos)[ok]
    n_videos = len(pd.unique(videos))
    if block is None:  # whole videos
        block = int(pd.Series(videos).value_counts().max())
    ids = blocks(videos, block)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(ids.max() + 1, np.full(ids.max() + 1, 1 / (ids.max() + 1)), size=n_boot)

    def mean_ccc(pred):
        per_dim = [_moments(ids, labels[ok, d], pred[ok, d]) for d in range(2)]
        point = np.mean([_ccc_from_moments(m.sum(0)) for m in per_dim])
        boot = np.mean([_ccc_from_moments(counts @ m) for m in per_dim], axis=0)
        return point, boot

    def over_seeds(runs):
        points, boots = zip(*(mean_ccc(p) for p in runs))
        boots = np.stack(boots)  # (seeds, n_boot)
        if len(runs) > 1:
            pick = rng.integers(len(runs), size=(n_boot, len(runs)))
            boot = boots[pick, np.arange(n_boot)[:, None]].mean(1)
        else:
            boot = boots[0]
        return float(np.mean(points)), boot, [float(p) for p in points]

    a, boot_a, seeds_a = over_seeds(runs_a)
    b, boot_b, seeds_b = over_seeds(runs_b)
    lo, hi = np.percentile(boot_a - boot_b, [2.5, 97.5])
    return {"a": a, "b": b, "difference": a - b, "low": float(lo), "high": float(hi),
            "n_frames": int(ok.sum()), "n_blocks": int(ids.max() + 1), "n_videos": int(n_videos),
            "seeds_a": seeds_a, "seeds_b": seeds_b,
            "seed_sd_a": float(np.std(seeds_a, ddof=1)) if len(seeds_a) > 1 else None,
            "seed_sd_b": float(np.std(seeds_b, ddof=1)) if len(seeds_b) > 1 else None,
            "identical": len(runs_a) == len(runs_b) and all(
                np.array_equal(p[ok], q[ok]) for p, q in zip(runs_a, runs_b))}


def paired_accuracy_difference(correct_a, correct_b, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Accuracy of A minus B over the same clips, with a 95% paired bootstrap over clips
    (Table 18's total accuracy: one answer per clip, clips independent people and scenes).
    ``correct_a``, ``correct_b``: one boolean per clip, or lists of them, one per training seed
    (then resampled too, as in :func:`paired_difference`)."""
    runs_a, runs_b = _runs(correct_a, 1), _runs(correct_b, 1)
    n = len(runs_a[0])
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot)

    def over_seeds(runs):
        boots = np.stack([counts @ c / n for c in runs])  # (seeds, n_boot)
        if len(runs) > 1:
            pick = rng.integers(len(runs), size=(n_boot, len(runs)))
            boots = boots[pick, np.arange(n_boot)[:, None]].mean(1)
        else:
            boots = boots[0]
        points = [float(c.mean()) for c in runs]
        return float(np.mean(points)), boots, points

    a, boot_a, seeds_a = over_seeds(runs_a)
    b, boot_b, seeds_b = over_seeds(runs_b)
    lo, hi = np.percentile(boot_a - boot_b, [2.5, 97.5])
    return {"a": a, "b": b, "difference": a - b, "low": float(lo), "high": float(hi),
            "n_frames": n, "n_blocks": n, "n_videos": n, "metric": "accuracy",
            "seeds_a": seeds_a, "seeds_b": seeds_b,
            "seed_sd_a": float(np.std(seeds_a, ddof=1)) if len(seeds_a) > 1 else None,
            "seed_sd_b": float(np.std(seeds_b, ddof=1)) if len(seeds_b) > 1 else None,
            "identical": len(runs_a) == len(runs_b) and all(
                np.array_equal(p, q) for p, q in zip(runs_a, runs_b))}


# --------------------------------------------------------------------------------------------
# Verdicts


def _predictions(experiments_dir: Path, name: str) -> pd.DataFrame | None:
    path = Path(experiments_dir) / name / "predictions.csv"
    return _read_predictions(str(path), path.stat().st_mtime_ns) if path.is_file() else None


def _seed_predictions(experiments_dir: Path, name: str) -> list[pd.DataFrame]:
    """The further seeds' test predictions (``seed_predictions/seed-<s>.csv``), seed order."""
    folder = Path(experiments_dir) / name / "seed_predictions"
    paths = sorted(folder.glob("seed-*.csv"), key=lambda p: int(p.stem.split("-")[1]))
    return [_read_predictions(str(p), p.stat().st_mtime_ns) for p in paths]


@functools.lru_cache(maxsize=32)
def _read_predictions(path: str, mtime_ns: int) -> pd.DataFrame:
    """One read per file version: the claims compare the same few experiments many times
    (AffWildNet's predictions enter five claims). Callers must not modify the frame."""
    return pd.read_csv(path, dtype={"video": str})


def compare(experiments_dir, better: str, worse: str, **kw) -> dict | None:
    """:func:`paired_difference` of two experiments' test predictions; None if one is missing."""
    a, b = _predictions(experiments_dir, better), _predictions(experiments_dir, worse)
    if a is None or b is None:
        return None
    runs_a = [a] + _seed_predictions(experiments_dir, better)
    runs_b = [b] + _seed_predictions(experiments_dir, worse)
    if "predicted" in a:  # one emotion per clip (Table 18)
        for name, frame in [(better, f) for f in runs_a] + [(worse, f) for f in runs_b]:
            if not a["video"].equals(frame["video"]):
                raise ValueError(f"{better} and {name} were evaluated on different clips")
        kw = {k: v for k, v in kw.items() if k != "block"}
        return {"better": better, "worse": worse, "n_seeds_a": len(runs_a), "n_seeds_b": len(runs_b),
                **paired_accuracy_difference([f["predicted"] == f["emotion"] for f in runs_a],
                                             [f["predicted"] == f["emotion"] for f in runs_b], **kw)}
    keys = ["video", "frame_index"]
    for name, frame in [(better, f) for f in runs_a] + [(worse, f) for f in runs_b]:
        if not a[keys].equals(frame[keys]):
            raise ValueError(f"{better} and {name} were evaluated on different test frames")
    cols = ["valence", "arousal"]
    pred = ["valence_pred", "arousal_pred"]
    if "block" not in kw and a["video"].nunique() >= MIN_VIDEOS_FOR_VIDEO_BLOCKS:
        kw["block"] = None  # enough people: resample whole videos
    return {"better": better, "worse": worse, "metric": "mean CCC",
            "n_seeds_a": len(runs_a), "n_seeds_b": len(runs_b),
            **paired_difference(a[cols].to_numpy(), [f[pred].to_numpy() for f in runs_a],
                                [f[pred].to_numpy() for f in runs_b], a["video"].to_numpy(), **kw)}


def _pair_verdict(c: dict) -> str:
    if c.get("identical"):
        return "not testable"
    if c["difference"] <= 0:
        return "contradicted" if c["high"] < 0 else "inconclusive"
    return "reproduced" if c["low"] > 0 else "direction only"


def _weakest(comparisons: list[dict]) -> str:
    return max((c["verdict"] for c in comparisons), key=VERDICTS.index)


def rejudge(v: dict) -> dict:
    """A stored verdict (a recorded run's ``verdicts.json``) judged again by today's rule from
    its own comparisons, so that a run recorded before a rule's wording changed (before
    "not reproduced" was split into *inconclusive* and *contradicted*) reads like a new one."""
    if v.get("verdict") == "not run" or not v.get("comparisons"):
        return v
    comparisons = [{**c, "verdict": _pair_verdict(c)} for c in v["comparisons"]]
    return {**v, "comparisons": comparisons, "verdict": _weakest(comparisons)}


def verdict(claim: Claim | str, experiments_dir, **kw) -> dict:
    """The verdict on one claim, with every comparison behind it."""
    claim = get(claim) if isinstance(claim, str) else claim
    comparisons = [compare(experiments_dir, better, worse, **kw) for better, worse in claim.pairs]
    if any(c is None for c in comparisons):
        result = "not run"
    else:
        for c in comparisons:
            c["verdict"] = _pair_verdict(c)
        result = _weakest(comparisons)
    return {"claim": claim.key, "statement": claim.statement, "source": claim.source,
            "verdict": result, "comparisons": [c for c in comparisons if c is not None],
            "expectation": claim.expectation, "otherwise": claim.otherwise,
            "built_in": claim.built_in, "design": claim.design}


def verdicts(experiments_dir, claims=CLAIMS, **kw) -> list[dict]:
    return [verdict(c, experiments_dir, **kw) for c in claims]


def describe(v: dict) -> str:
    """One sentence: the claim, our verdict, and the figures behind it."""
    parts = [f"{c['better']} {c['a']:.3f} vs {c['worse']} {c['b']:.3f} "
             f"(difference {c['difference']:+.3f}, 95% CI {c['low']:+.3f} to {c['high']:+.3f})"
             for c in v["comparisons"]]
    figures = "; ".join(parts) if parts else "experiments missing"
    metric = _metric(v)
    return f"{v['statement']} ({v['source']}): {v['verdict']}. {metric[0].upper() + metric[1:]} {figures}."


def _metric(v: dict) -> str:
    """What a claim's comparisons measure: 'mean CCC' or 'accuracy'."""
    return next((c.get("metric", "mean CCC") for c in v["comparisons"]), "mean CCC")


def paper_gap(better: str, worse: str) -> float | None:
    """The paper's own gap of mean CCC (valence, arousal) between the rows two experiments
    reproduce, from a table that has both (e.g. 0.085 for AffWildNet over the CNN-LSTM of
    Table 12); None where the paper reports no such pair (our controls, Sect. 4.2's choices)."""
    from . import paper
    from .experiments import EXPERIMENTS

    def rows(name):
        return {t.partition(":")[0]: t.partition(":")[2] for t in EXPERIMENTS[name].tables}

    a, b = rows(better), rows(worse)
    for table in a:
        if table in b and table.isdigit():
            try:
                scores = paper.scores(int(table))
            except (KeyError, ValueError):
                continue
            if a[table] in scores.index and b[table] in scores.index:
                mean = scores[["ccc_valence", "ccc_arousal"]].mean(axis=1)
                return float(mean[a[table]] - mean[b[table]])
    return None


def table(verdicts_: list[dict]) -> pd.DataFrame:
    """The verdicts as a table: one row per comparison, with the paper's own gap where it has
    one, and each side's seed spread (sd of the mean CCC over seeds) where there were seeds."""
    rows = []
    for v in verdicts_:
        for c in v["comparisons"] or [{}]:
            rows.append({"claim": v["statement"], "source": v["source"], "verdict": v["verdict"],
                         "better (paper)": c.get("better"), "worse (paper)": c.get("worse"),
                         "metric": c.get("metric", "mean CCC"),
                         "better score": c.get("a"), "worse score": c.get("b"),
                         "difference": c.get("difference"), "95% CI low": c.get("low"),
                         "95% CI high": c.get("high"),
                         "paper's gap": (paper_gap(c["better"], c["worse"])
                                         if c.get("better") and c.get("metric") != "accuracy" else None),
                         "seeds": (f"{c.get('n_seeds_a', 1)} / {c.get('n_seeds_b', 1)}"
                                   if c.get("better") else None),
                         "seed sd (better)": c.get("seed_sd_a"), "seed sd (worse)": c.get("seed_sd_b"),
                         "bootstrap blocks": c.get("n_blocks"), "test videos": c.get("n_videos")})
    return pd.DataFrame(rows)


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`table` in the columns a page has room for (issue 19): the claim, the verdict, the
    two experiments, the difference with its interval as one figure, the paper's gap and the
    seeds' spread of each side."""
    def fmt(value, spec):
        return "–" if value is None or pd.isna(value) else format(value, spec)

    rows = []
    for _, r in frame.iterrows():
        rows.append({"claim": r["claim"], "verdict": r["verdict"],
                     "better vs worse (the paper's order)": (f"{r['better (paper)']} vs {r['worse (paper)']}"
                                                            if r["better (paper)"] else "–"),
                     f"difference (95% CI)": (f"{fmt(r['difference'], '+.3f')} ({fmt(r['95% CI low'], '+.3f')}, "
                                              f"{fmt(r['95% CI high'], '+.3f')})" if pd.notna(r["difference"]) else "–"),
                     "metric": r["metric"], "paper's gap": fmt(r["paper's gap"], "+.3f"),
                     "seed sd": f"{fmt(r['seed sd (better)'], '.3f')} / {fmt(r['seed sd (worse)'], '.3f')}"})
    return pd.DataFrame(rows)


__all__ = ["BLOCK", "BUILT_IN", "CLAIMS", "DESIGN", "Claim", "MIN_VIDEOS_FOR_VIDEO_BLOCKS", "N_BOOT", "VERDICTS", "blocks", "compare", "describe",
           "compact", "get", "paired_accuracy_difference", "paired_difference", "paper_gap", "rejudge", "table", "verdict",
           "verdicts"]


def _sd(c: dict) -> str:
    return " and ".join("–" if c.get(k) is None else f"{c[k]:.3f}" for k in ("seed_sd_a", "seed_sd_b"))


def markdown(v: dict, recorded: dict | None = None, recorded_name: str = "") -> str:
    """A bullet for a chapter: the claim, this build's verdict with its figures, a recorded
    run's verdict if given, and, where a verdict is not *reproduced*, why we think so."""
    def figures(w):
        parts = []
        for c in w["comparisons"]:
            unit = (f"{c.get('n_videos')} clips" if c.get("metric") == "accuracy"
                    else "whole videos" if c.get("n_blocks") == c.get("n_videos")
                    else f"{c.get('n_blocks')} blocks of {c.get('n_videos')} videos")
            seeds = ""
            if (c.get("n_seeds_a") or 1) > 1 or (c.get("n_seeds_b") or 1) > 1:
                unit += " and seeds"
                seeds = f" (mean of {c['n_seeds_a']} and {c['n_seeds_b']} seeds, sd {_sd(c)})"
            parts.append(f"`{c['better']}` {c['a']:.3f} vs `{c['worse']}` {c['b']:.3f}{seeds}, "
                         + ("identical predictions" if c.get("identical") else
                            f"difference {c['difference']:+.3f} (95% CI {c['low']:+.3f} to "
                            f"{c['high']:+.3f}, resampling {unit})"))
        return "; ".join(parts) or "experiments missing"

    text = (f"- **{v['statement']}** ({v['source']}). This build: **{v['verdict']}**; {_metric(v)} "
            f"{figures(v)}.")
    if recorded is not None:
        text += (f" Recorded run {recorded_name}: **{recorded['verdict']}**; {_metric(recorded)} "
                 f"{figures(recorded)}.")
    built_in = v.get("built_in", BUILT_IN.get(v["claim"], ""))
    text += (f" *Built into SynthAffWild:* {built_in}." if built_in
             else " *Built into SynthAffWild:* nothing that favours either side.")
    if v["verdict"] != "reproduced" or (recorded is not None and recorded["verdict"] != "reproduced"):
        text += f" *What we expected, and why:* {v['expectation']}"
        if v.get("otherwise"):
            text += f" *Why it may not show:* {v['otherwise']}"
    return text
