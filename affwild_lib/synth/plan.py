"""Who is filmed, in which split, in how many videos: the job list of one generation run.

Every random choice is drawn from a ``SeedSequence`` keyed by (seed, dataset, purpose,
index), so a video's content depends on the seed and its place in the plan only, never on
the order in which worker processes happen to run.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .affect import EMOTIONS
from .annotators import Annotator, annotator_pool
from .domains import DOMAINS
from .face import Identity, random_identity
from .profiles import Profile

DATASET_KEYS = {"affwild": 1, "recola": 2, "afew-va": 3, "afew": 4}
PLAN, SUBJECT, VIDEO, POOL = range(4)

#: AFEW 5.0 class counts (train, val) of EmotiW 2017: the imbalance we reproduce.
AFEW_COUNTS = {"Angry": (133, 64), "Disgust": (74, 40), "Fear": (81, 46), "Happy": (150, 63),
               "Neutral": (144, 63), "Sad": (117, 61), "Surprise": (74, 46)}


@dataclass(frozen=True)
class Job:
    """One video to generate."""

    dataset: str
    video: str
    split: str
    identity: Identity
    n_frames: int
    fps: float
    size: tuple[int, int]
    ext: str                              # '.mp4' | '.avi' | '.png' (frame folder)
    seed: np.random.SeedSequence
    annotators: tuple[Annotator, ...] = ()
    emotion: str | None = None


def _seq(seed: int, dataset: str, purpose: int, index: int = 0) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(DATASET_KEYS[dataset], purpose, index))


def _rng(seed: int, dataset: str, purpose: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng(_seq(seed, dataset, purpose, index))


def _subjects(seed: int, dataset: str, counts: dict[str, int], prefix: str):
    """Identities per split; both sexes in every split of two or more (Table 3)."""
    rng = _rng(seed, dataset, PLAN, 1)
    out, k = {}, 0
    for split, n in counts.items():
        sexes = np.where(rng.random(n) < DOMAINS[dataset].male_p, "M", "F")
        if n >= 2 and len(set(sexes)) == 1:
            sexes[-1] = "F" if sexes[0] == "M" else "M"
        people = []
        for sex in sexes:
            k += 1
            people.append(random_identity(_rng(seed, dataset, SUBJECT, k),
                                          f"{prefix}{k:03d}", str(sex)))
        out[split] = people
    return out


def _spread(rng: np.random.Generator, people: list[Identity], n_videos: int) -> list[Identity]:
    """Assign videos to people: each at least one, the rest at random."""
    extra = rng.choice(len(people), max(n_videos - len(people), 0))
    order = list(range(len(people))) + list(extra)
    return [people[i] for i in sorted(order[:n_videos])]


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(int)
    counts[np.argsort(-(share - counts), kind="stable")[:total - counts.sum()]] += 1
    return counts


def affwild_jobs(seed: int, p: Profile) -> list[Job]:
    size, dom = p.affwild, DOMAINS["affwild"]
    rng = _rng(seed, "affwild", PLAN)
    pool = annotator_pool(_rng(seed, "affwild", POOL), n=8, n_poor=2)
    people = _subjects(seed, "affwild", {"train": size.train_subjects,
                                         "test": size.test_subjects}, "aw")
    jobs, k = [], 0
    for split, n_videos in (("train", size.train_videos), ("test", size.test_videos)):
        for person in _spread(rng, people[split], n_videos):
            fps = float(rng.choice(dom.fps_choices))
            n_ann = int(rng.integers(size.annotators[0], size.annotators[1] + 1))
            chosen = sorted(rng.choice(len(pool), n_ann, replace=False))
            jobs.append(Job("affwild", str(101 + k), split, person,
                            int(rng.uniform(*size.seconds) * fps), fps, size.size,
                            ".avi" if rng.random() < dom.avi_p else ".mp4",
                            _seq(seed, "affwild", VIDEO, k), tuple(pool[i] for i in chosen)))
            k += 1
    return jobs


def recola_jobs(seed: int, p: Profile) -> list[Job]:
    size = p.recola
    pool = tuple(annotator_pool(_rng(seed, "recola", POOL), n=6, n_poor=1))
    splits = ("train", "dev", "test")
    people = _subjects(seed, "recola", {s: size.per_split for s in splits}, "rc")
    jobs = []
    for split in splits:
        for j, person in enumerate(people[split], start=1):
            jobs.append(Job("recola", f"{split}_{j}", split, person, int(size.seconds * 25),
                            25.0, size.size, ".mp4", _seq(seed, "recola", VIDEO, len(jobs)),
                            pool))
    return jobs


def afew_va_jobs(seed: int, p: Profile) -> list[Job]:
    """AFEW-VA has no official split; subjects get one of 5 folds for the paper's
    person-independent 5-fold cross-validation (Sect. 5.1.2)."""
    size = p.afew_va
    rng = _rng(seed, "afew-va", PLAN)
    folds = {f"fold{f}": len(range(f - 1, size.subjects, 5)) for f in range(1, 6)}
    people = _subjects(seed, "afew-va", {k: v for k, v in folds.items() if v}, "va")
    everyone = [(split, q) for split, qs in people.items() for q in qs]
    owners = _spread(rng, [q for _, q in everyone], size.clips)
    split_of = {q.subject: s for s, q in everyone}
    order = rng.permutation(len(owners))  # clip numbers do not follow subjects
    return [Job("afew-va", f"{k + 1:03d}", split_of[owners[i].subject], owners[i],
                int(rng.integers(size.frames[0], size.frames[1] + 1)), 25.0, size.size, ".png",
                _seq(seed, "afew-va", VIDEO, k)) for k, i in enumerate(order)]


def afew_jobs(seed: int, p: Profile) -> list[Job]:
    size = p.afew
    rng = _rng(seed, "afew", PLAN)
    people = _subjects(seed, "afew", {"Train_AFEW": size.train_subjects,
                                      "Val_AFEW": size.val_subjects}, "af")
    names = list(EMOTIONS)
    jobs = []
    for col, (split, n) in enumerate((("Train_AFEW", size.train_clips),
                                      ("Val_AFEW", size.val_clips))):
        counts = _largest_remainder(np.array([AFEW_COUNTS[e][col] for e in names], float), n)
        emotions = rng.permutation(np.repeat(names, counts))
        for person, emotion in zip(_spread(rng, people[split], n), emotions):
            jobs.append(Job("afew", f"{len(jobs) + 1:09d}", split, person,
                            int(rng.integers(size.frames[0], size.frames[1] + 1)), 25.0,
                            size.size, ".avi", _seq(seed, "afew", VIDEO, len(jobs)),
                            emotion=str(emotion)))
    return jobs


def plan(seed: int, profile: Profile) -> dict[str, list[Job]]:
    return {"affwild": affwild_jobs(seed, profile), "recola": recola_jobs(seed, profile),
            "afew-va": afew_va_jobs(seed, profile), "afew": afew_jobs(seed, profile)}
