"""The ``affwild`` command line.

Each subcommand is a thin wrapper over a library function, so that what the command does is
also what a notebook can call. Subcommands are added by the issues that build them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__, _quiet

# A command prints its own errors; TensorFlow's start-up lines are noise unless asked for
# (TF_CPP_MIN_LOG_LEVEL=0 shows them): affwild_lib._quiet
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_quiet.install()


def whole(low: int, high: int | None = None):
    """An argparse type: a whole number from ``low`` (to ``high``), refused when the command line
    is read, before anything is written (issue 20: ``--window 0``, ``--size -5``, ``--port 99999``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"{value} is out of range ({low} to {high})" if high is not None else f"must be {low} or more, not {value}")
        return value
    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


#: Crop sides: faces.crops refuses below 8 px.
CROP = whole(8, 4096)


def folder(text: str) -> str:
    """An argparse type for ``--out`` folders: refused when it, or a folder above it, is a file,
    before anything runs (issue 20: a bare ``[Errno 17] File exists``, after minutes of work)."""
    path = Path(text)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise argparse.ArgumentTypeError(
                    f"{part} is a file, not a folder" if part == path else
                    f"{path}: {part} is a file, so no folder can be made under it")
            break
    return text


folder.__name__ = "folder"


def setting(text: str) -> tuple[str, object]:
    """An argparse type for ``--set FIELD=VALUE``: one field of an experiment
    (:class:`affwild_lib.experiments.Experiment`), the value read as YAML (``8``, ``0.5``,
    ``true``, ``gru``), checked against the field's kind when the command line is read."""
    from dataclasses import fields

    from .experiments import Experiment

    key, sep, raw = text.partition("=")
    kinds = {f.name: f.type for f in fields(Experiment)}
    fixed = {"name", "model", "dataset", "tables", "description", "profile"}  # what makes it this row
    if not sep or key not in kinds or key in fixed:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give FIELD=VALUE, FIELD one of {', '.join(sorted(set(kinds) - fixed))}")
    import yaml

    try:
        value = yaml.safe_load(raw) if raw else None
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not valid YAML") from None
    kind = str(kinds[key])
    wanted = (bool if kind.startswith("bool") else int if kind.startswith("int") else
              float if kind.startswith("float") else str if kind.startswith("str") else None)
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = (value is None and "None" in kind) or wanted is None or (
        isinstance(value, wanted) and not (wanted is int and isinstance(value, bool)))
    if not ok:
        said = {bool: "true or false", int: "a whole number", float: "a number", str: "a word"}[wanted]
        raise argparse.ArgumentTypeError(f"{text!r}: {key} takes {said}, not {raw!r}")
    return key, value


setting.__name__ = "FIELD=VALUE"

#: The commands that keep finished work when interrupted, so that a rerun resumes.
RESUMES = {"prepare", "train", "transfer"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affwild",
        description="Tools of the Aff-Wild companion (Kollias et al., IJCV 2019): synthetic data, "
        "dataset checks, preprocessing, training and evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"affwild {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_synth(commands)
    _add_data(commands)
    _add_prepare(commands)
    _add_experiments(commands)
    _add_transfer(commands)
    _add_pretrain(commands)
    _add_predict(commands)
    _add_annotate(commands)
    _add_score(commands)
    _add_weights(commands)
    return parser


def _add_weights(commands) -> None:
    from .models.weights import import_kinds

    kinds = import_kinds()
    weights = commands.add_parser(
        "weights", help="convert weights you hold into this project's files",
        description="Convert pre-trained or released weights that you hold (nothing is downloaded).")
    sub = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="convert a weights file: a conv part (.npz) or the authors' networks (.keras)",
        description="Convert SOURCE into OUT, written atomically (nothing half-written is left). "
        "Conv parts (VGG-Face, VGG-16, ResNet-50) become the .npz layout that params.yaml's "
        "train.weights entries read (affwild_lib/models/weights.py). The authors' released "
        "networks (repository dkollias/Aff-Wild-models, TensorFlow 1 checkpoints: give the "
        "model.ckpt-0 prefix or its folder) become a .keras model that `affwild predict "
        "--weights OUT` runs on TensorFlow or JAX, with OUT's .json saying the preprocessing it "
        "expects. Every variable is checked against the kind before anything is written. Kinds: "
        + "; ".join(f"{k}: {v}" for k, v in kinds.items()) + ". Prints a JSON summary.")
    imp.add_argument("source", metavar="SOURCE", help="the file (or checkpoint prefix) to read")
    imp.add_argument("--kind", required=True, choices=list(kinds), metavar="KIND",
                     help="what SOURCE is: " + ", ".join(kinds))
    imp.add_argument("--out", required=True, help="the file to write: .npz (conv parts) or .keras")
    imp.set_defaults(func=_weights_import)


def _weights_import(args) -> int:
    from .models.weights import import_weights

    print_json(import_weights(args.source, args.kind, args.out))
    return 0


def _add_experiments(commands) -> None:
    """model-info (any named experiment), train, evaluate (a row of Tables 5, 6, 9-14) each."""
    from .experiments import EXPERIMENTS

    sect4 = [n for n, e in EXPERIMENTS.items() if e.dataset == "affwild"]

    def experiment_parser(name, help_, description, names=sect4):
        sub = commands.add_parser(name, help=help_, description=description)
        sub.add_argument("experiment", metavar="EXP", choices=names,
                         help="a named experiment (one row of a paper table): " + ", ".join(names))
        sub.add_argument("--profile", help="params.yaml profile (default: the active one)")
        sub.add_argument("--set", type=setting, action="append", default=[], metavar="FIELD=VALUE",
                         help="change one setting of EXP for this run only (repeatable), e.g. "
                              "--set seq_len=8: a variant trained beside the pipeline's, so train and "
                              "evaluate then need --out (affwild_lib/experiments.py lists the fields)")
        return sub

    info = experiment_parser(
        "model-info", "print an experiment's model, layer by layer",
        "Print the Keras summary of EXP's model as the profile builds it, then one line of JSON "
        "with 'params' (total) and 'layers' (name, output shape, params). Weights are not allocated.",
        names=list(EXPERIMENTS))
    info.set_defaults(func=_model_info)
    train = experiment_parser(
        "train", "train an experiment (resumes after an interruption)",
        "Train EXP on the profile's frame store, keep the epoch with the best validation CCC "
        "(subject-disjoint hold-out of the training set), checkpoint every epoch, then evaluate it "
        "on the test split. Writes experiments/EXP/{model.keras, metrics.json, predictions.csv, "
        "history.csv}; with the profile's train.seeds > 1, the further seeds train in "
        "experiments/EXP/seeds/seed-<s>/. Prints the metrics as one line of JSON last.")
    train.add_argument("--no-resume", action="store_true", help="discard an earlier checkpoint")
    train.add_argument("--no-evaluate", action="store_true",
                       help="stop after training (writes model.keras, history.csv, train.json); "
                            "`affwild evaluate EXP` does the rest")
    train.add_argument("--no-progress", action="store_true",
                       help="one line per epoch instead of Keras' progress bar (logs, CI)")
    train.add_argument("--out", type=folder, help="experiment folder (default experiments/EXP)")
    train.set_defaults(func=_train)
    ev = experiment_parser(
        "evaluate", "evaluate a trained experiment on the test split",
        "Evaluate EXP's saved model on the test split: CCC pooled over all frames (as the official "
        "evaluation), MSE, per-video CCC; rewrites metrics.json and predictions.csv.")
    ev.add_argument("--out", type=folder, help="experiment folder (default experiments/EXP)")
    ev.add_argument("--weights", help="evaluate this model file instead of EXP's own (e.g. one "
                    "`affwild weights import` made from the authors' release), with the tables' "
                    "protocol for its kind; needs --out, and the store prepared at the model's crop size")
    ev.set_defaults(func=_evaluate)


def _model_info(args) -> int:
    import keras

    from .experiments import resolve
    from .models import build

    exp = resolve(args.experiment, args.profile, **dict(args.set))
    with keras.StatelessScope(initialize_variables=False):  # a full VGG has ~10^8 weights
        model = build(exp.model, **exp.model_config())
        model.summary(print_fn=lambda line, **_: print(line))
        layers = [{"name": layer.name, "output_shape": list(layer.output.shape), "params": layer.count_params()}
                  for layer in model.layers]
        print_json({"experiment": exp.name, "profile": exp.profile, "params": model.count_params(),
                    "layers": layers})
    return 0


def _headline(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in ("per_video", "config")}


def _train(args) -> int:
    from .train import evaluate, train_seeds

    def epoch_line(epoch, row):
        print(f"epoch {epoch}: loss {row['loss']:.4f}, validation CCC {row['val_ccc_mean']:.3f}, "
              f"{row['seconds']:.0f} s", flush=True)

    overrides, trained = _variant(args), {}  # the models trained here, evaluated without reloading
    records = train_seeds(args.experiment, args.profile, out=args.out, resume=not args.no_resume,
                          verbose=0 if args.no_progress else "auto", on_epoch_end=epoch_line,
                          log=lambda line: print(line, flush=True), trained=trained, **overrides)
    result = (records[-1] if args.no_evaluate else
              evaluate(args.experiment, args.profile, out=args.out, trained=trained, **overrides))
    print_json(_headline(result))
    return 0


def _evaluate(args) -> int:
    from .train import evaluate, evaluate_weights

    if args.weights:
        if not args.out:
            raise ValueError("--weights needs --out: the experiment's own results stay as they are")
        print_json(_headline(evaluate_weights(args.experiment, args.weights, args.out, args.profile)))
        return 0
    print_json(_headline(evaluate(args.experiment, args.profile, out=args.out, **_variant(args))))
    return 0


def _variant(args) -> dict:
    """``--set``'s changes; a variant needs its own ``--out``, so that the pipeline's
    experiment folder (a DVC output) keeps the pipeline's run."""
    overrides = dict(args.set)
    if overrides and not args.out:
        raise ValueError(f"--set {' '.join(f'{k}={v}' for k, v in overrides.items())} needs --out: "
                         f"experiments/{args.experiment} keeps the pipeline's own run")
    return overrides


def _add_transfer(commands) -> None:
    """transfer: one row of Tables 15-18 (Sect. 5), trained and evaluated."""
    from .experiments import TRANSFERS

    sub = commands.add_parser(
        "transfer", help="train and evaluate a transfer experiment (RECOLA, AFEW-VA, EmotiW)",
        description="Train EXP (a row of Tables 15-18) on its dataset's frame store "
        "(data/prepared/<dataset>), from the AffWildNet of experiments/affwildnet/model.keras "
        "where the row fine-tunes it, and evaluate it by the paper's protocol: RECOLA's test "
        "split, AFEW-VA's 5 person-independent folds, AFEW's validation clips. Writes "
        "experiments/EXP/ (metrics.json, scores.json, predictions.csv, history.csv, runs/). "
        "Finished runs (folds) are kept, so an interrupted run resumes. Prints the headline as "
        "one line of JSON last.")
    def row(entry):  # "15:ResNet-GRU" -> "Table 15: ResNet-GRU"; "15x:..." is a row we added
        table, _, label = entry.partition(":")
        return (f"Table {table[:-1]}, our row: {label}" if table.endswith("x")
                else f"Table {table}: {label}")

    rows = "\n".join(f"  {name:27s} {'; '.join(row(r) for r in t.tables)}"
                     + (" (starts from AffWildNet)" if t.prior else "") for name, t in TRANSFERS.items())
    sub.epilog = "experiments:\n" + rows
    sub.formatter_class = argparse.RawDescriptionHelpFormatter
    sub.add_argument("experiment", metavar="EXP", choices=list(TRANSFERS),
                     help="a transfer experiment, listed below")
    sub.add_argument("--profile", help="params.yaml profile (default: the active one)")
    sub.add_argument("--out", type=folder, help="experiment folder (default experiments/EXP)")
    sub.add_argument("--quiet", action="store_true", help="no line per epoch")
    sub.set_defaults(func=_transfer)


def _transfer(args) -> int:
    from .transfer import run

    metrics = run(args.experiment, args.profile, out=args.out, log=_log(args.quiet))
    print_json({k: v for k, v in metrics.items() if k not in ("config", "runs", "per_run", "confusion")})
    return 0


def _add_pretrain(commands) -> None:
    """pretrain-corpus and pretrain: Sect. 4.2's pre-training in the synthetic world."""
    from .pretrain import ALL_CORPORA, CORPUS_OF, ENTRY_CORPUS_OF, STANDS_FOR

    corpus = commands.add_parser(
        "pretrain-corpus", help="draw a pre-training corpus (synthetic face identities, objects, attributes)",
        description="Draw the profile's pre-training corpus KIND into data/pretrain/KIND/ "
        "(corpus.npz: images and class labels; corpus.json): 'faces', new synthetic people "
        "(none a SynthAffWild subject) labelled by identity only, VGG-Face's and FaceValue's "
        "role; 'objects', procedurally drawn objects under the same nuisances, ImageNet's role; "
        "'attributes', other new people labelled by their facial attributes and each frame's "
        "facial-action intensities (never valence or arousal), FATAUVA-Net's corpora (Table 6). "
        "Sizes: params.yaml profiles.<profile>.pretrain.")
    corpus.add_argument("kind", choices=ALL_CORPORA, help=" | ".join(ALL_CORPORA))
    corpus.add_argument("--profile", help="params.yaml profile (default: the active one)")
    corpus.add_argument("--out", type=folder, help="output folder (default data/pretrain/KIND)")
    corpus.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    corpus.set_defaults(func=_pretrain_corpus)
    sub = commands.add_parser(
        "pretrain", help="pre-train a backbone's conv part on its synthetic corpus",
        description="Train BACKBONE's conv part to name the classes of its corpus "
        "(data/pretrain/faces or objects) and write it to pretrained/BACKBONE/weights.npz, the "
        "layout the profiles' train.weights entries read, with weights.json and history.csv "
        "(the pre-training curve). Prints the record as one line of JSON last.",
        epilog="backbones: " + "; ".join(f"{b}: {STANDS_FOR[b]}, corpus {c}" for b, c in
                                         {**CORPUS_OF, **ENTRY_CORPUS_OF}.items())
        + ". fatauva_net trains FATAUVA-Net's attribute stage, then its AU stage.")
    backbones = [*CORPUS_OF, *ENTRY_CORPUS_OF]
    sub.add_argument("backbone", choices=backbones, help=", ".join(backbones))
    sub.add_argument("--profile", help="params.yaml profile (default: the active one)")
    sub.add_argument("--out", type=folder, help="output folder (default pretrained/BACKBONE)")
    sub.add_argument("--quiet", action="store_true", help="no line per epoch")
    sub.set_defaults(func=_pretrain)


def _pretrain_corpus(args) -> int:
    from .pretrain import run_corpus

    print_json(run_corpus(args.kind, args.profile, out=args.out, progress=not args.no_progress))
    return 0


def _pretrain(args) -> int:
    from .pretrain import run

    record = run(args.backbone, args.profile, out=args.out, log=_log(args.quiet))
    print_json({k: v for k, v in record.items() if k != "layers"})
    return 0


def _add_predict(commands) -> None:
    sub = commands.add_parser(
        "predict", help="valence and arousal, frame by frame, for any video",
        description="Decode VIDEO, find and track the largest face (dlib, as prepare does: faces "
        "from --min-face px wide), crop it as in training and run AffWildNet over the face frames, "
        "its GRU state carried across the whole video (--mode stream; evaluate's metrics.json "
        "reports the same figures as 'streaming'). Predictions are clipped to [-1, 1]. Writes OUT/<video name>.csv (frame, time_s, face, valence, "
        "arousal, crop square; landmarks with --landmarks) and OUT/<video name>.png (predictions "
        "over time and the valence-arousal trajectory). A frame without a face gets no prediction. "
        "Prints a one-line JSON summary last.")
    sub.add_argument("video", metavar="VIDEO", help="a video file (anything FFmpeg decodes)")
    sub.add_argument("--weights", help="a .keras file our training wrote (default: the pipeline's "
                     "AffWildNet, experiments/affwildnet/model.keras, after `make book`), one that "
                     "`affwild weights import` made from the authors' released networks (the "
                     "summary's 'expects' says what crops it takes), or a whole AffWildNet of ours "
                     "in the .npz layout")
    sub.add_argument("--size", type=CROP, default=96, help="crop side for .npz weights (default 96, "
                     "the released models'); a .keras file says its own")
    sub.add_argument("--out", type=folder, default="predictions", help="output folder (default: predictions/)")
    sub.add_argument("--window", type=whole(1), help="frames per RNN window (default: the length the "
                     "weights were trained with, from their metrics.json; else 80)")
    sub.add_argument("--mode", choices=("stream", "windows", "sliding"), default="stream",
                     help="how a CNN-RNN runs: stream (default: one state across the video, causal), "
                     "windows (the tables' protocol: non-overlapping windows, each from a zero state; "
                     "the curves jump at every window boundary) or sliding (each frame from the "
                     "window that ends there)")
    sub.add_argument("--min-face", type=int, default=40, metavar="PX",
                     help="smallest face width to find, in pixels (default 40; 16 to 4096): the "
                     "prepare stage's setting, so change it only with a store prepared the same way")
    sub.add_argument("--landmarks", action="store_true", help="add the 68 landmarks (frame pixels) to the CSV")
    sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub.set_defaults(func=_predict)


def _predict(args) -> int:
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from .predict import figure, predict_video, write

    from .predict import load

    from .faces import check_min_face

    check_min_face(args.min_face)  # before the weights load and anything is written
    loaded = load(args.weights, args.window, args.size)
    table, summary = predict_video(args.video, loaded, landmarks=args.landmarks, mode=args.mode,
                                   min_face=args.min_face, progress=not args.no_progress)
    if summary.get("undecodable"):
        warn(f"{args.video}: {summary['undecodable']} frames did not decode (a truncated or damaged "
             "file): they have no row in the CSV")
    stem = Path(args.video).stem
    summary.update(write(table, figure(table, title=f"{Path(args.video).name}: AffWildNet's predictions"),
                         args.out, stem))
    print_json(summary)
    return 0


def _add_synth(commands) -> None:
    from .synth.profiles import PROFILES

    synth = commands.add_parser(
        "synth", help="generate the synthetic datasets in the real releases' layouts",
        description="Generate SynthAffWild: synthetic Aff-Wild-, RECOLA-, AFEW-VA- and AFEW-like "
        "data, written in the real releases' on-disk layouts (book page Data formats, book/data_formats.md), with the ground truth the "
        "real ones lack under <dataset>/synth_truth/. OUT is written atomically; an existing OUT is "
        "replaced only if it is an earlier synthetic release. Prints a one-line JSON summary last.",
    )
    synth.add_argument("--profile", default="tiny", choices=sorted(PROFILES),
                       help="how much data: tiny (CI, seconds), small (~10x), medium (GPU runs); default tiny")
    synth.add_argument("--out", type=folder, required=True, help="output folder, e.g. data/synth")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same labels")
    synth.add_argument("--workers", type=whole(1), default=None, help="processes (default: all CPUs)")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)


def _synth(args) -> int:
    from .synth import generate

    print_json(generate(args.profile, args.out, seed=args.seed, progress=not args.no_progress,
                        workers=args.workers))
    return 0


def _add_data(commands) -> None:
    from .datasets import FORMATS

    data = commands.add_parser("data", help="inspect a copy of a dataset release",
                               description="Inspect a copy of a dataset release.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = data_commands.add_parser(
        "check", help="validate a release and print a one-line JSON summary",
        description="Read every file of a release in its published layout (book page Data formats, book/data_formats.md), report the "
        "first problem as FILE:LINE: message, or print one line of JSON: videos or clips, frames, "
        "labelled frames, per-split counts, label ranges, frames dropped by each documented policy. "
        "Nothing under PATH is written.",
    )
    check.add_argument("--format", required=True, choices=FORMATS, help="the release's layout")
    check.add_argument("path", help="the release's root folder")
    check.set_defaults(func=_data_check)


def _add_prepare(commands) -> None:
    from .datasets import FORMATS

    prep = commands.add_parser(
        "prepare", help="faces, landmarks and labels of a release -> a frame store",
        description="Decode every video of a release, detect the face and its 68 landmarks in each "
        "labelled frame, crop, resize and attach the labels (Sects. 3.3-3.4), writing a frame store "
        "(uint8 shards + manifest) that training reads. Resumable: rerun to finish an interrupted "
        "run. Frames without a face are dropped and counted. Prints a one-line JSON summary last.",
    )
    prep.add_argument("--format", required=True, choices=FORMATS, help="the release's layout")
    prep.add_argument("path", nargs="?", help="the release's root folder (default with --profile: "
                      "<profile's data_root>/<format>)")
    prep.add_argument("--out", type=folder, required=True, help="the frame store folder to write")
    prep.add_argument("--size", type=CROP, help="crop side in pixels, 8 to 4096 (default: the profile's prepare.size, else 96)")
    prep.add_argument("--profile", help="take defaults from this params.yaml profile (tiny, paper)")
    prep.add_argument("--landmarks", default="dlib", choices=("dlib", "truth"),
                      help="dlib's detector and 68-point predictor (default), or the synthetic "
                      "generator's true landmarks (an ablation)")
    prep.add_argument("--annotations", metavar="DIR",
                      help="Aff-Wild: human traces and expert choices made with `affwild annotate` "
                      "(default: data/annotations/<collection>/<dataset> beside the release); a video "
                      "with any there has its labels fused again from all its traces")
    prep.add_argument("--workers", type=whole(1), help="processes (default: all CPUs)")
    prep.add_argument("--no-progress", action="store_true", help="no progress bar")
    prep.set_defaults(func=_prepare)


def _prepare(args) -> int:
    from .config import profile_params, repo_root
    from .prepare import prepare

    settings: dict = {}
    path = args.path
    if args.profile:
        _, params = profile_params(args.profile)
        settings = params.get("prepare", {})
        if path is None:
            path = repo_root() / params["data_root"] / args.format
    if path is None:
        print("affwild: error: give the release's PATH, or --profile to take it from params.yaml",
              file=sys.stderr)
        return 2
    size = args.size if args.size is not None else settings.get("size", 96)
    summary = prepare(args.format, path, args.out, size=size, workers=args.workers,
                      progress=not args.no_progress, landmarks=args.landmarks, annotations=args.annotations)
    damaged = summary.get("undecodable_files") or {}
    if damaged:
        listed = ", ".join(f"{name} ({n})" for name, n in list(damaged.items())[:5])
        warn(f"{summary['undecodable']} frames of {len(damaged)} file(s) did not decode and are left "
             f"out: {listed}{', ...' if len(damaged) > 5 else ''}; `affwild data check --format "
             f"{args.format} {path}` says what is wrong with them")
    print_json(summary)
    return 0


def _data_check(args) -> int:
    from .datasets import check

    print_json(check(args.format, args.path))
    return 0


def _add_annotate(commands) -> None:
    sub = commands.add_parser(
        "annotate", help="annotate videos in the browser, and validate annotations (Sects. 3.1, 3.4)",
        description="Start the annotation tool on this machine and print its address. In the "
        "browser: choose valence or arousal, log in with an identifier, choose mouse and keyboard "
        "or a joystick/gamepad, pick a video and move the slider while it plays (Sect. 3.1). Each "
        "finished video is saved as <traces>/annotations_raw/<dimension>/<video>/<you>.csv "
        "(time_s,value), which `affwild prepare` and chapter 02 fuse with the other annotators' "
        "traces. <address>/validate is the experts' pass (Sect. 3.4): all traces of a video in "
        "sync with it; keep the 2-4 that agree. Nothing under DATA_DIR is written.",
    )
    sub.add_argument("data_dir", metavar="DATA_DIR",
                     help="an Aff-Wild-layout release (videos/<split>/<id>.mp4), e.g. data/synth/affwild")
    sub.add_argument("--port", type=whole(0, 65535), default=8765, help="port (default 8765; 0: any free one)")
    sub.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1: this machine only; the tool has no "
                     "login password, so think twice before opening it to a network)")
    sub.add_argument("--traces", metavar="DIR",
                     help="where traces and expert choices go (default: "
                     "<data>/annotations/<collection>/<dataset>, e.g. data/annotations/synth/affwild)")
    sub.set_defaults(func=_annotate)


def _annotate(args) -> int:
    import signal

    from .annotation_tool.server import CannotListen, serve
    from .annotation_tool.traces import TraceError, traces_root
    from .datasets.errors import DatasetError

    root = args.traces or traces_root(args.data_dir)
    if Path(root).exists() and not Path(root).is_dir():
        print(f"affwild annotate: error: --traces {root}: not a folder (a file is there); "
              "give a folder, new or existing", file=sys.stderr)
        return 2

    # Ctrl-C and a plain `kill` both stop the server cleanly, even where the shell that started
    # it had SIGINT ignored (a background job inherits that, and Python then leaves it ignored).
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def ready(url: str, n: int) -> None:
        print(f"affwild annotate: {n} videos of {args.data_dir}; traces go to {root}\n"
              f"  annotate: {url}\n  validate: {url}validate\n  (Ctrl-C stops)", flush=True)

    try:
        serve(args.data_dir, root, host=args.host, port=args.port, ready=ready)
    except (TraceError, DatasetError) as error:
        print(f"affwild annotate: error: {error}", file=sys.stderr)
        return 2
    except CannotListen as error:
        print(f"affwild annotate: error: {error}; pass another --port (or --host)", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"affwild annotate: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("affwild annotate: stopped", file=sys.stderr)
    return 0


def _add_score(commands) -> None:
    score = commands.add_parser(
        "score", help="score a challenge entry against the labels (Sect. 4.1)",
        description="Score challenge predictions as the Aff-Wild organisers did (Sect. 4.1): CCC "
        "(Eq. 1) and MSE (Eq. 2) of valence and arousal, each computed once over all frames of all "
        "videos pooled (biased 1/N moments, not averaged per video); the challenge score is the "
        "mean CCC. PRED and GOLD use the release's per-frame layout, "
        "<dir>/{valence,arousal}/<video>.txt, one value per line, line i = frame i. Gold frames "
        "labelled -5 or -100 (unannotated) are left out, per dimension. PRED needs one file per "
        "gold video, with one finite value per gold line. Prints a table (CCC, MSE x valence, "
        "arousal, mean), then one line of JSON last; a bad file is reported as FILE:LINE: message.",
    )
    score.add_argument("pred", metavar="PRED", help="the entry: a folder with valence/ and arousal/")
    score.add_argument("gold", metavar="GOLD", help="the labels: a folder with valence/ and arousal/ "
                       "(e.g. <release>/annotations/test), or a release root")
    score.add_argument("--per-video", action="store_true",
                       help="also put each video's CCC in the JSON (an extra, not the challenge score)")
    score.set_defaults(func=_score)


def _score(args) -> int:
    from .scoring import report, score

    result = score(args.pred, args.gold)
    print(report(result))
    print_json(result if args.per_video else {k: v for k, v in result.items() if k != "per_video"})
    return 0


def _log(quiet: bool):
    """A command's per-epoch line writer: print, flushed (logs, DVC), or nothing with --quiet."""
    return (lambda line: None) if quiet else (lambda line: print(line, flush=True))


def warn(message: str) -> None:
    """One line on stderr: the run goes on, its result is usable, but something was lost."""
    print(f"affwild: warning: {message}", file=sys.stderr, flush=True)


def print_json(summary: dict) -> None:
    """The last line of a command's stdout: one line of JSON, for scripts and DVC."""
    print(json.dumps(summary, sort_keys=True))


def _chosen(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The (sub)command parser that ``args`` went through, however deep (``data check``)."""
    for action in parser._actions:  # argparse keeps its subcommands there
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return _chosen(action.choices[name], args)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None and os.environ.get("AFFWILD_WARM"):  # a warm process runs it, if it can
        from .forkserver import delegate

        code = delegate(os.environ["AFFWILD_WARM"], sys.argv)
        if code is not None:
            return code
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # an unknown subcommand exits 2 with the usage
    if extra:  # an unknown option: say so with the usage of the command it was given to
        _chosen(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    from .datasets.errors import DatasetError

    # Bad input (a file and line of a release, an output folder that is not ours or not a
    # folder, a missing trained model, a full disk, a store made with other settings): one line
    # naming it, no traceback.
    try:
        return int(args.func(args) or 0)
    except (DatasetError, OSError, ValueError) as err:
        print(f"affwild: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: what was finished is kept (atomic writes), say so
        again = "rerun the same command to resume" if args.command in RESUMES else "rerun the same command"
        print(f"\naffwild: interrupted; {again}", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
