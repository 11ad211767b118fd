"""Write one generated video in its dataset's real on-disk layout (book page *Data formats*).

Layouts (``<ds>`` is ``out/<dataset>``):

- Aff-Wild: ``videos/{train,test}/<id>.mp4|.avi``, ``annotations/{split}/{valence,arousal}/
  <id>.txt`` (one float per line; line k = frame k, both counted from 1) and
  ``annotations_raw/<dim>/<id>/<A>.csv``.
  The per-frame labels are made from the raw traces by :func:`affwild_lib.annotation.fuse`,
  the procedure of Sects. 3.3-3.4, never from the latent affect.
- RECOLA: ``recordings_video/<split>_<k>.mp4`` and ``ratings_gold_standard/{arousal,valence}/
  <split>_<k>.arff`` (AVEC 2016 ARFF, rows every 0.04 s from 0 to the end inclusive, gold
  standard = mean of 6 raters).
- AFEW-VA: ``<NNN>/<NNN>.json`` + ``<NNN>/00000.png...``; integer labels round(10 * latent);
  landmark coordinates are in the PNG's own pixel frame.
- AFEW: ``{Train_AFEW,Val_AFEW}/<Emotion>/<clip>.avi``.

Whatever the real releases lack goes to ``<ds>/synth_truth/<id>.npz``. The book page *Data
formats* (``book/data_formats.md``) lists these layouts and what the synthetic data adds.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..annotation import fuse
from .affect import emotion_affect
from .annotators import annotate, rate_uniform
from .domains import DOMAINS
from .face import AU, AUS
from .plan import Job
from .video import Clip, encode, simulate, write_pngs

DIMENSIONS = ("valence", "arousal")


def _text(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _media(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_npz(path: Path, arrays: dict):
    """Like ``np.savez_compressed`` but byte-for-byte reproducible (fixed zip timestamps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def write_affwild(job: Job, clip: Clip, ds: Path, rng: np.random.Generator) -> dict:
    encode(_media(ds / "videos" / job.split / f"{job.video}{job.ext}"), clip.frames(),
           clip.fps, job.size)
    truth = {}
    for dim, name in enumerate(DIMENSIONS):
        traces = {}
        for ann, (t, v) in annotate(rng, list(job.annotators), clip.latent, clip.fps,
                                    dim).items():
            text = "time_s,value\n" + "".join(f"{a:.3f},{b:.4f}\n" for a, b in zip(t, v))
            _text(ds / "annotations_raw" / name / job.video / f"{ann}.csv", text)
            # Fuse what the file says, so a reader redoing Sect. 3.4 gets the same labels.
            parsed = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, ndmin=2)
            traces[ann] = (parsed[:, 0], parsed[:, 1])
        labels, chosen = fuse(traces, clip.times)
        _text(ds / "annotations" / job.split / name / f"{job.video}.txt",
              "".join(f"{x:.6f}\n" for x in labels))
        truth[f"chosen_{name}"] = np.array(chosen)
    return truth


def write_recola(job: Job, clip: Clip, ds: Path, rng: np.random.Generator) -> dict:
    encode(_media(ds / "recordings_video" / f"{job.video}.mp4"), clip.frames(), clip.fps,
           job.size)
    times = np.round(np.arange(clip.n + 1) * 0.04, 2)  # 0 .. end inclusive, as AVEC 2016
    truth = {}
    for dim, name in enumerate(DIMENSIONS):
        ratings = rate_uniform(rng, list(job.annotators), clip.latent, clip.fps, dim, times)
        gold = ratings.mean(axis=0)
        rows = "".join(f"{job.video},{t:.2f},{g:.6f}\n" for t, g in zip(times, gold))
        _text(ds / "ratings_gold_standard" / name / f"{job.video}.arff",
              f"@relation GoldStandard_{name}\n\n@attribute Instance_name string\n"
              "@attribute frameTime numeric\n@attribute GoldStandard numeric\n\n"
              f"@data\n\n{rows}")
        truth[f"raters_{name}"] = ratings.astype(np.float32)
    return truth


def write_afew_va(job: Job, clip: Clip, ds: Path, rng: np.random.Generator) -> dict:
    folder = ds / job.video
    folder.mkdir(parents=True, exist_ok=True)
    write_pngs(folder, clip.frames())
    labels = np.clip(np.rint(10 * clip.latent), -10, 10).astype(int)
    marks = np.round(clip.landmarks.astype(np.float64), 2)
    frames = {f"{i:05d}": {"valence": int(labels[i, 0]), "arousal": int(labels[i, 1]),
                           "landmarks": marks[i].tolist()} for i in range(clip.n)}
    _text(folder / f"{job.video}.json", json.dumps({"video_id": job.video, "frames": frames}))
    return {}


def write_afew(job: Job, clip: Clip, ds: Path, rng: np.random.Generator) -> dict:
    encode(_media(ds / job.split / job.emotion / f"{job.video}.avi"), clip.frames(), clip.fps,
           job.size)
    return {"emotion": np.array(job.emotion)}


WRITERS = {"affwild": write_affwild, "recola": write_recola, "afew-va": write_afew_va,
           "afew": write_afew}


def run_job(job: Job, root: Path) -> dict:
    """Simulate, render and write one video under ``root``; return its index row."""
    rng = np.random.default_rng(job.seed)
    latent = extra = None
    if job.emotion is not None:
        latent, extra = emotion_affect(rng, job.n_frames, job.fps, job.emotion)
    clip = simulate(rng, job.identity, DOMAINS[job.dataset], job.n_frames, job.fps, job.size,
                    latent, extra)
    ds = root / job.dataset
    specific = WRITERS[job.dataset](job, clip, ds, rng)
    sc = clip.scene
    occluded = np.zeros(clip.n, bool)
    for occ in sc.occluders:
        occluded[occ.start:occ.stop + 1] = True
    save_npz(ds / "synth_truth" / f"{job.video}.npz", {
        "valence": clip.latent[:, 0].astype(np.float32),
        "arousal": clip.latent[:, 1].astype(np.float32),
        "landmarks": clip.landmarks,
        "frame_times": clip.times,
        "subject": np.array(job.identity.subject),
        "split": np.array(job.split),
        "fps": np.array(clip.fps),
        "yaw_deg": np.degrees(sc.yaw).astype(np.float32),
        "pitch_deg": np.degrees(sc.pitch).astype(np.float32),
        "roll_deg": np.degrees(sc.roll).astype(np.float32),
        "occluded": occluded,
        "blink": clip.aus[:, AU["blink"]].astype(np.float32),
        "aus": clip.aus.astype(np.float32),
        "au_names": np.array(AUS),
        **specific,
    })
    return {"dataset": job.dataset, "video": job.video, "subject": job.identity.subject,
            "sex": job.identity.sex, "split": job.split, "frames": clip.n,
            "fps": round(clip.fps, 5), "seconds": round(clip.n / clip.fps, 3),
            "width": job.size[0], "height": job.size[1], "emotion": job.emotion or "",
            "dark": int(sc.dark), "lowres": sc.lowres, "occlusions": len(sc.occluders)}
