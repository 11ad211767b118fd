"""Pre-training in the synthetic world: the roles of VGG-Face, ImageNet and FaceValue (Sect. 4.2).

The paper never trains a network on Aff-Wild from random weights. AffWildNet and the best CNN
start from VGG-Face, trained to recognise 2,622 people; VGG-16 and ResNet-50 from ImageNet
objects; the CNN-M baseline from FaceValue (Sects. 4.1.1, 4.2, Table 9). What Table 9 measures
is which of these starts helps most. None of those weights fit a miniature, and none can be
shipped, so the synthetic world has its own two corpora, made to differ in one thing only, the
domain:

``faces``    identities drawn by the face generator of :mod:`affwild_lib.synth` (new people,
             none of them a SynthAffWild subject: other seeds, other names), each filmed in
             several short clips under Aff-Wild's nuisances (pose, light, expression,
             occluders, backgrounds, noise) and cropped as ``prepare`` crops a face; labelled by
             identity only, never by affect. VGG-Face's corpus, and FaceValue's for CNN-M.
``objects``  procedurally drawn non-face objects: each class a random composition of 3 to 5
             coloured parts, seen under random pose, scale, position, light, the same
             backgrounds and noise; ImageNet's role. As many classes and images as ``faces``,
             the same crop size, and the backbones train on it for as many steps.

:func:`pretrain` trains a backbone's conv part with a softmax over the classes and writes the
conv part in the ``.npz`` layout of :mod:`affwild_lib.models.weights` that the profiles'
``weights:`` entries name, so one loader reads synthetic and converted real weights alike, and
``weights.json`` beside it says what it was trained on (copied into every ``metrics.json``).
The ``paper`` profile reads the real converted weights instead and pre-trains nothing.

A third corpus serves a challenge entry of Table 6 (Sect. 4.1.2), not Sect. 4.2:

``attributes`` FATAUVA-Net's [5] corpora. Its team learned facial attributes and then action
             units on other datasets than Aff-Wild; here, new synthetic people again (a seed key
             of their own: none is a SynthAffWild subject nor a ``faces`` identity), each image
             labelled by the person's attributes (:data:`ATTRIBUTES`) and the face's
             intensities of the generator's nine facial actions at that frame. Never valence or
             arousal. :func:`pretrain_fatauva` trains FATAUVA-Net's attribute stage, then its AU
             stage, on it (``affwild pretrain fatauva_net``).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .atomic import read_npz, write_file, write_json

#: Which corpus stands for which pre-training (Sect. 4.1.1: FaceValue; Sect. 4.2: the rest).
CORPUS_OF = {"vgg_face": "faces", "cnn_m": "faces", "vgg16": "objects", "resnet50": "objects"}
STANDS_FOR = {"vgg_face": "VGG-Face (face identities)", "cnn_m": "FaceValue (faces)",
              "vgg16": "ImageNet (objects)", "resnet50": "ImageNet (objects)",
              "fatauva_net": "FATAUVA-Net's attribute and AU corpora (facial attributes, then AUs)"}
CORPORA = ("faces", "objects")
#: FATAUVA-Net's attribute and AU stages (Table 6): a corpus and a backbone beside Sect. 4.2's.
ENTRY_CORPUS_OF = {"fatauva_net": "attributes"}
ALL_CORPORA = (*CORPORA, "attributes")
#: The attributes of the ``attributes`` corpus: what the generator knows of each person's look.
ATTRIBUTES = ("male", "glasses", "long_hair", "bald", "curly_hair")
#: Frame the faces are filmed in: Aff-Wild's tiny frame, so blur and noise are as there.
FRAME = (320, 180)
#: Frames apart of the images taken from one clip (0.8 s at 30 fps: another pose and
#: expression); each clip has its own scene, light and background.
CLIP_STEP = 24
IMAGES_PER_CLIP = 2
CORPUS_KEYS = ("classes", "images_per_class", "seed")
TRAIN_KEYS = ("epochs", "batch", "learning_rate", "val_per_class")
#: A seed-sequence key of its own: no corpus identity is ever a SynthAffWild subject.
_FACES_KEY, _OBJECTS_KEY, _ATTRIBUTES_KEY = 101, 102, 103


def settings(profile: str | None = None, root: Path | None = None) -> tuple[str, dict | None, dict]:
    """(profile, its ``pretrain`` block or None, its ``train`` block) from ``params.yaml``."""
    from .experiments import profile_settings

    name, train, params = profile_settings(profile, root)
    block = params.get("pretrain")
    if block is not None:
        missing = [k for k in CORPUS_KEYS + TRAIN_KEYS if k not in block]
        if missing:
            raise KeyError(f"params.yaml: profiles.{name}.pretrain lacks {', '.join(missing)}")
    return name, block, train


# --------------------------------------------------------------------------------------------
# The corpora


def face_images(identity_index: int, n: int, size: int, seed: int) -> np.ndarray:
    """``n`` face crops (size x size, uint8) of one new synthetic person."""
    return _filmed(identity_index, n, size, seed, _FACES_KEY)[0]


def attribute_images(identity_index: int, n: int, size: int, seed: int):
    """``n`` face crops of one new person of the ``attributes`` corpus, (n, len(ATTRIBUTES))
    attribute labels (the person's, 0 or 1) and (n, 9) facial-action intensities (the frame's)."""
    images, aus, person = _filmed(identity_index, n, size, seed, _ATTRIBUTES_KEY)
    look = [person.sex == "M", person.glasses, person.hair_style == "long",
            person.hair_style == "bald", person.hair_style == "curly"]
    return images, np.tile(np.asarray(look, np.float32), (n, 1)), aus.astype(np.float32)


def _filmed(identity_index: int, n: int, size: int, seed: int, key: int):
    """(n crops, their frames' facial actions, the person) of a new person filmed in clips."""
    from .faces import crop_square
    from .synth.domains import DOMAINS
    from .synth.face import random_identity
    from .synth.video import simulate

    seq = np.random.SeedSequence(seed, spawn_key=(key, identity_index))
    rng = np.random.default_rng(seq)
    sex = "M" if rng.random() < 0.5 else "F"
    person = random_identity(rng, f"P{identity_index:04d}", sex)
    out, aus = [], []
    while len(out) < n:  # several clips: each has its own scene, light and background
        clip = simulate(rng, person, DOMAINS["affwild"], CLIP_STEP * IMAGES_PER_CLIP, 30.0, FRAME)
        for k in range(0, clip.n, CLIP_STEP)[: n - len(out)]:
            image, _, _ = crop_square(clip.renderer.frame(k, clip.points[k]), clip.landmarks[k], size)
            out.append(image)
            aus.append(clip.aus[k])
    return np.stack(out), np.stack(aus), person


def _object_prototype(rng: np.random.Generator) -> list[dict]:
    parts = []
    for _ in range(int(rng.integers(3, 6))):
        parts.append(dict(shape=str(rng.choice(["ellipse", "box", "triangle", "ring", "stripes"])),
                          centre=rng.uniform(-0.2, 0.2, 2), size=rng.uniform(0.25, 0.5),
                          aspect=rng.uniform(0.4, 1.0), angle=rng.uniform(0, np.pi),
                          colour=rng.uniform(20, 235, 3)))
    return parts


def _draw_object(rng: np.random.Generator, parts: list[dict], size: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    from .synth.render import make_background

    side = 2 * size  # drawn at twice the crop, then resized, as a face crop is
    img = Image.fromarray(make_background(rng, str(rng.choice(["clutter", "plain", "movie"])), side, side))
    draw = ImageDraw.Draw(img)
    # centred and scaled as a face crop is (prepare aligns faces by their landmarks), turned
    # about as much as a head rolls and yaws in Aff-Wild
    turn, scale = rng.uniform(-0.35, 0.35), rng.uniform(0.9, 1.1) * side
    shift = rng.uniform(-0.05, 0.05, 2) * side + side / 2
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    for p in parts:
        centre = rot @ (p["centre"] + rng.normal(0, 0.02, 2)) * scale + shift
        r = p["size"] * scale / 2
        a = p["angle"] + turn
        colour = tuple(int(c) for c in np.clip(p["colour"] + rng.normal(0, 12, 3), 0, 255))
        u, v = np.array([np.cos(a), np.sin(a)]) * r, np.array([-np.sin(a), np.cos(a)]) * r * p["aspect"]
        if p["shape"] == "triangle":
            poly = [centre + u, centre - u / 2 + v, centre - u / 2 - v]
        elif p["shape"] in ("box", "stripes"):
            poly = [centre + u + v, centre - u + v, centre - u - v, centre + u - v]
        else:
            t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            poly = [centre + np.cos(s) * u + np.sin(s) * v for s in t]
        draw.polygon([tuple(q) for q in poly], fill=colour)
        if p["shape"] == "ring":
            inner = [centre + 0.5 * (q - centre) for q in poly]
            draw.polygon([tuple(q) for q in inner], fill=tuple(255 - c for c in colour))
        elif p["shape"] == "stripes":
            for j in (-0.5, 0.0, 0.5):
                a0, a1 = centre + j * u + v, centre + j * u - v
                draw.line([tuple(a0), tuple(a1)], fill=tuple(c // 3 for c in colour), width=3)
    x = np.asarray(img.resize((size, size), Image.BILINEAR), dtype=np.float32)
    # light and sensor as on the faces: exposure, a side light, noise
    g = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    angle = rng.uniform(-np.pi, np.pi)
    gain = 1 + 0.3 * rng.uniform(0.3, 1.0) * (g[None, :] * np.cos(angle) + g[:, None] * np.sin(angle))
    exposure = rng.uniform(0.3, 0.5) if rng.random() < 0.15 else rng.uniform(0.75, 1.15)
    x = x * (gain * exposure)[..., None] + rng.normal(0, rng.uniform(2.0, 5.0), x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def object_images(class_index: int, n: int, size: int, seed: int) -> np.ndarray:
    """``n`` images (size x size, uint8) of one procedurally drawn object class."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_OBJECTS_KEY, class_index)))
    parts = _object_prototype(rng)
    return np.stack([_draw_object(rng, parts, size) for _ in range(n)])


def make_corpus(kind: str, out: str | Path, classes: int, images_per_class: int, size: int,
                seed: int = 0, progress: bool = True) -> dict:
    """Write corpus ``kind`` (``faces``, ``objects`` or ``attributes``) to ``out/corpus.npz``
    (``images`` (N, size, size, 3) uint8, ``labels`` (N,) int; ``attributes``: also
    ``attributes`` (N, 5) and ``aus`` (N, 9)) and ``out/corpus.json``; return the record."""
    if kind not in ALL_CORPORA:
        raise ValueError(f"corpus must be one of {', '.join(ALL_CORPORA)}, not {kind!r}")
    for key, value in (("classes", classes), ("images_per_class", images_per_class), ("size", size)):
        if not isinstance(value, (int, np.integer)) or value < (2 if key != "size" else 16):
            raise ValueError(f"pretrain {key} must be an integer >= {2 if key != 'size' else 16}, "
                             f"not {value!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    draw = {"faces": face_images, "objects": object_images, "attributes": attribute_images}[kind]
    start = time.perf_counter()
    drawn = []
    from tqdm.auto import tqdm

    for c in tqdm(range(classes), desc=f"{kind} corpus", unit="class", disable=not progress):
        got = draw(c, images_per_class, size, seed)
        drawn.append(got if isinstance(got, tuple) else (got,))
    arrays = dict(zip(("images", "attributes", "aus"), (np.concatenate(a) for a in zip(*drawn))))
    arrays["labels"] = np.repeat(np.arange(classes), images_per_class)
    write_file(out / "corpus.npz", lambda p: np.savez_compressed(p, **arrays), keep_suffix=True)
    stands_for = {"faces": "VGG-Face's face identities", "objects": "ImageNet's objects",
                  "attributes": "FATAUVA-Net's attribute and AU corpora"}[kind]
    record = {"corpus": kind, "classes": classes, "images_per_class": images_per_class,
              "images": int(len(arrays["labels"])), "size": size, "seed": seed,
              "seconds": time.perf_counter() - start, "stands_for": stands_for}
    if kind == "attributes":
        record.update(attributes=list(ATTRIBUTES), attribute_rates=[
            float(r) for r in arrays["attributes"].mean(axis=0)], aus=int(arrays["aus"].shape[1]))
    write_json(out / "corpus.json", record)
    return record


def load_corpus(folder: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    arrays, info = _read_corpus(folder, ["images", "labels"])
    return arrays["images"], arrays["labels"], info


def _read_corpus(folder: str | Path, keys: list[str], kind: str | None = None) -> tuple[dict, dict]:
    """(``keys``' arrays, the record) of the corpus in ``folder``; with ``kind``, one of another
    kind is refused by its record before its arrays are read."""
    folder = Path(folder)
    path = folder / "corpus.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: make the corpus first (`affwild pretrain-corpus`)")
    info = json.loads((folder / "corpus.json").read_text())
    if kind and info.get("corpus") != kind:
        raise ValueError(f"{folder}: a {info.get('corpus')!r} corpus, where the {kind} corpus is "
                         f"needed (`affwild pretrain-corpus {kind}`)")
    return read_npz(path, "make it again: `affwild pretrain-corpus KIND`", keys=keys), info


# --------------------------------------------------------------------------------------------
# Pre-training a backbone


def classifier(backbone: str, input_size: int, width: float, classes: int):
    """The conv part of ``backbone`` (layer names as in our models) with a softmax over the
    corpus's classes: what the conv part learns here is what fine-tuning starts from."""
    import keras
    from keras import layers

    from .models import cnn_m, resnet, vgg
    from .models.heads import image_input, pixels

    parts = {"vgg_face": vgg.conv_part, "vgg16": vgg.conv_part, "resnet50": resnet.conv_part,
             "cnn_m": cnn_m.conv_part}
    if backbone not in parts:
        raise ValueError(f"backbone must be one of {', '.join(parts)}, not {backbone!r}")
    image = image_input(input_size)
    x = parts[backbone](pixels(image), width)
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="pretrain_pool")(x)
    out = layers.Dense(classes, activation="softmax", name="pretrain_classes")(x)
    return keras.Model(image, out, name=f"pretrain_{backbone}")


def conv_layers(model) -> list[str]:
    """The layers with weights that the backbone's conv part holds (all but the classifier)."""
    return [layer.name for layer in model.layers if layer.weights and not layer.name.startswith("pretrain_")]


def _split(labels: np.ndarray, val_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    val = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:val_per_class]
                          for c in np.unique(labels)])
    mask = np.zeros(len(labels), bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _epoch_log(rows: list, log, line, **fixed):
    """The pre-trainings' Keras callback: one row per epoch appended to ``rows`` (``fixed``, the
    epoch, Keras' logs with ``binary_accuracy`` named ``accuracy``, the seconds), and
    ``log(line(row))``."""
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {**fixed, "epoch": epoch + 1,
                   **{k.replace("binary_accuracy", "accuracy"): float(v) for k, v in logs.items()},
                   "seconds": time.perf_counter() - self.start}
            rows.append(row)
            log(line(row))

    return EpochLog()


def pretrain(backbone: str, corpus: str | Path, out: str | Path, width: float, input_size: int,
             epochs: int, batch: int, learning_rate: float, val_per_class: int, seed: int = 0,
             bn_momentum: float | None = None, log=print) -> dict:
    """Train ``backbone``'s conv part to name the classes of ``corpus``; write ``out/weights.npz``
    (its conv part), ``out/weights.json`` and ``out/history.csv``; return the record.

    A fifth or so of each class (``val_per_class`` images) is held out: the validation accuracy
    per epoch is the pre-training curve chapter 04 shows.
    """
    if backbone in ENTRY_CORPUS_OF:
        return pretrain_fatauva(corpus, out, width, input_size, epochs, batch, learning_rate,
                                val_per_class, seed, bn_momentum, log)
    import keras
    import pandas as pd

    from . import engine as E
    from .models import save_npz_weights

    images, labels, info = load_corpus(corpus)
    if info["size"] != input_size:
        raise ValueError(f"{corpus}: images of {info['size']} px, the profile trains on "
                         f"{input_size}; make the corpus at train.input_size")
    if not 1 <= val_per_class < info["images_per_class"]:
        raise ValueError(f"pretrain val_per_class must be 1 to {info['images_per_class'] - 1}, "
                         f"not {val_per_class}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    E.seed_everything(seed)
    train_idx, val_idx = _split(labels, val_per_class, seed)
    model = classifier(backbone, input_size, width, int(labels.max()) + 1)
    E.set_bn_momentum(model, bn_momentum)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rows = []

    line = (lambda r: f"epoch {r['epoch']}: loss {r['loss']:.3f}, accuracy {r['accuracy']:.3f}, "
                      f"validation accuracy {r['val_accuracy']:.3f}")
    model.fit(images[train_idx], labels[train_idx], batch_size=batch, epochs=epochs, shuffle=True,
              validation_data=(images[val_idx], labels[val_idx]), verbose=0,
              callbacks=[_epoch_log(rows, log, line)])
    layers = conv_layers(model)
    write_file(out / "weights.npz", lambda p: save_npz_weights(model, p, layers), keep_suffix=True)
    E.write_csv(out / "history.csv", pd.DataFrame(rows))
    steps = -(-len(train_idx) // batch) * epochs
    record = {"backbone": backbone, "corpus": info["corpus"], "stands_for": STANDS_FOR[backbone],
              "classes": info["classes"], "train_images": int(len(train_idx)),
              "val_images": int(len(val_idx)), "epochs": epochs, "steps": int(steps),
              "batch": batch, "learning_rate": learning_rate, "width": width,
              "input_size": input_size, "seed": seed, "layers": layers,
              "chance_accuracy": 1.0 / info["classes"],
              "final_val_accuracy": rows[-1]["val_accuracy"] if rows else None,
              "seconds": float(sum(r["seconds"] for r in rows)), "backend": keras.backend.backend()}
    write_json(out / "weights.json", record)
    return record


def pretrain_fatauva(corpus: str | Path, out: str | Path, width: float, input_size: int,
                     epochs: int, batch: int, learning_rate: float, val_per_class: int,
                     seed: int = 0, bn_momentum: float | None = None, log=print) -> dict:
    """FATAUVA-Net's first two stages, in order (Sect. 4.1.2, [5]): its core and attribute
    layers learn the ``attributes`` corpus's facial attributes (a sigmoid and cross-entropy
    each); then, started from them, the core, attribute and AU layers learn the facial-action
    intensities, each standardised over the training people (mean squared error). Each stage
    runs ``epochs`` epochs, the budget of every pre-training. Writes ``out/weights.npz`` (the AU stage's layers, named as in
    :func:`affwild_lib.models.fatauva_net.build`, which starts the V-A stage from them),
    ``weights.json`` and ``history.csv`` (a row per stage and epoch); returns the record.

    Validation holds out whole people, as many as ``val_per_class`` images are of each class,
    so that an attribute is judged on faces the stage never saw."""
    import keras
    import pandas as pd

    from . import engine as E
    from .models import fatauva_net, save_npz_weights, transfer_weights

    arrays, info = _read_corpus(corpus, ["images", "labels", "attributes", "aus"], kind="attributes")
    if info["size"] != input_size:
        raise ValueError(f"{corpus}: images of {info['size']} px, the profile trains on "
                         f"{input_size}; make the corpus at train.input_size")
    images, labels = arrays["images"], arrays["labels"]
    people = int(labels.max()) + 1
    n_val = max(1, round(people * val_per_class / info["images_per_class"]))
    if not 1 <= n_val < people:
        raise ValueError(f"{corpus}: {people} people leave none to train on after {n_val} held out")
    held = np.random.default_rng(seed).permutation(people)[:n_val]
    val = np.isin(labels, held)
    # Each AU standardised over the training people: their ranges differ five-fold (a smile's sd
    # 0.44, a lip raise's 0.06), and raw, the loss is the smile's; the small run's AU stage
    # learned nothing so (results/README.md). The V-A stage reads these standardised units.
    au_mean, au_sd = arrays["aus"][~val].mean(axis=0), arrays["aus"][~val].std(axis=0) + 1e-6
    aus = ((arrays["aus"] - au_mean) / au_sd).astype(np.float32)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    E.seed_everything(seed)
    rows, previous = [], None
    stages = (("attributes", fatauva_net.attribute_model(input_size, width, arrays["attributes"].shape[1]),
               arrays["attributes"], "binary_crossentropy", ["binary_accuracy"]),
              ("aus", fatauva_net.au_model(input_size, width, aus.shape[1]), aus, "mse", []))
    for stage, model, target, loss, metrics in stages:
        if previous is not None:  # "these layers are applied to supervise the learning of AUs"
            copied, _ = transfer_weights(previous, model)
            log(f"{stage} stage: starts from the {len(copied)} layers of the previous stage")
        E.set_bn_momentum(model, bn_momentum)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
        line = (lambda r: f"{r['stage']} epoch {r['epoch']}: loss {r['loss']:.3f}, validation loss "
                          f"{r['val_loss']:.3f}" + (f", accuracy {r['val_accuracy']:.3f}" if "val_accuracy" in r else ""))
        model.fit(images[~val], target[~val], batch_size=batch, epochs=epochs, shuffle=True,
                  validation_data=(images[val], target[val]), verbose=0,
                  callbacks=[_epoch_log(rows, log, line, stage=stage)])
        previous = model
    layers = [layer.name for layer in previous.layers if layer.weights]
    write_file(out / "weights.npz", lambda p: save_npz_weights(previous, p, layers), keep_suffix=True)
    history = pd.DataFrame(rows)
    E.write_csv(out / "history.csv", history)
    last = {stage: history[history["stage"] == stage].iloc[-1] for stage in ("attributes", "aus")}
    # the stages' baselines: each attribute's majority and each AU's mean, of the training people
    majority = arrays["attributes"][~val].mean(axis=0) >= 0.5
    chance = float(np.mean(arrays["attributes"][val] == majority))
    mean_only = float(np.mean(aus[val] ** 2))  # standardised: the training mean is 0
    record = {"backbone": "fatauva_net", "corpus": info["corpus"], "stands_for": STANDS_FOR["fatauva_net"],
              "classes": people, "train_images": int((~val).sum()), "val_images": int(val.sum()),
              "held_out_people": int(n_val), "epochs": epochs, "steps": int(2 * -(-(~val).sum() // batch) * epochs),
              "batch": batch, "learning_rate": learning_rate, "width": width, "input_size": input_size,
              "seed": seed, "layers": layers, "stages": ["attributes", "aus"],
              "attributes": list(ATTRIBUTES), "chance_accuracy": chance,
              "final_val_accuracy": float(last["attributes"]["val_accuracy"]),
              "final_val_au_mse": float(last["aus"]["val_loss"]), "au_mse_of_the_mean": mean_only,
              "au_units": "standardised over the training people", "au_mean": au_mean.tolist(),
              "au_sd": au_sd.tolist(),
              "seconds": float(history["seconds"].sum()), "backend": keras.backend.backend()}
    write_json(out / "weights.json", record)
    return record


def run(backbone: str, profile: str | None = None, root: Path | None = None,
        out: str | Path | None = None, log=print) -> dict:
    """``affwild pretrain BACKBONE``: pre-train it on its corpus as the profile says, into
    ``pretrained/BACKBONE/``. A profile without a ``pretrain`` block (``paper``: converted real
    weights) writes only ``weights.json`` saying so."""
    from .config import repo_root

    corpus_of = {**CORPUS_OF, **ENTRY_CORPUS_OF}
    if backbone not in corpus_of:
        raise ValueError(f"backbone must be one of {', '.join(corpus_of)}, not {backbone!r}")
    root = Path(root) if root else repo_root()
    name, block, train = settings(profile, root)
    out = Path(out) if out else root / "pretrained" / backbone
    if block is None:
        out.mkdir(parents=True, exist_ok=True)
        for stale in ("weights.npz", "history.csv"):
            (out / stale).unlink(missing_ok=True)
        record = {"backbone": backbone, "profile": name, "pretrained": False,
                  "note": f"profile {name} has no pretrain block: it reads the weights files its "
                          f"train.weights entries name (converted real weights)"}
        write_json(out / "weights.json", record)
        return record
    corpus = root / "data" / "pretrain" / corpus_of[backbone]
    record = pretrain(backbone, corpus, out, width=float(train["width"]),
                      input_size=int(train["input_size"]), epochs=int(block["epochs"]),
                      batch=int(block["batch"]), learning_rate=float(block["learning_rate"]),
                      val_per_class=int(block["val_per_class"]), seed=int(block["seed"]),
                      bn_momentum=train.get("bn_momentum"), log=log)
    record.update(profile=name, pretrained=True)
    write_json(out / "weights.json", record)
    return record


def run_corpus(kind: str, profile: str | None = None, root: Path | None = None,
               out: str | Path | None = None, progress: bool = True) -> dict:
    """``affwild pretrain-corpus KIND``: the profile's corpus into ``data/pretrain/KIND/``."""
    from .config import repo_root

    root = Path(root) if root else repo_root()
    name, block, train = settings(profile, root)
    out = Path(out) if out else root / "data" / "pretrain" / kind
    if block is None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "corpus.npz").unlink(missing_ok=True)
        record = {"corpus": kind, "profile": name, "images": 0,
                  "note": f"profile {name} pre-trains nothing (no pretrain block)"}
        write_json(out / "corpus.json", record)
        return record
    return make_corpus(kind, out, int(block["classes"]), int(block["images_per_class"]),
                       int(train["input_size"]), int(block["seed"]), progress=progress)


__all__ = ["ALL_CORPORA", "ATTRIBUTES", "CORPORA", "CORPUS_OF", "ENTRY_CORPUS_OF", "STANDS_FOR",
           "attribute_images", "classifier", "conv_layers", "face_images", "records", "load_corpus",
           "make_corpus", "object_images", "pretrain", "pretrain_fatauva", "run", "run_corpus", "settings"]


def records(root: Path | None = None) -> dict[str, tuple[dict, "object"]]:
    """backbone -> (its ``weights.json``, its ``history.csv`` as a frame or None), for the
    backbones pre-trained under ``root/pretrained``."""
    import pandas as pd

    from .config import repo_root

    folder = (Path(root) if root else repo_root()) / "pretrained"
    out = {}
    for backbone in CORPUS_OF:
        path = folder / backbone / "weights.json"
        if path.is_file():
            history = folder / backbone / "history.csv"
            out[backbone] = (json.loads(path.read_text()),
                             pd.read_csv(history) if history.is_file() else None)
    return out
