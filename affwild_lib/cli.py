"""The ``affwild`` command line.

Each subcommand is a thin wrapper over a library function, so that what the command does is
also what a notebook can call. Subcommands are added by the issues that build them.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__


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
    return parser


def _add_synth(commands) -> None:
    from .synth.profiles import PROFILES

    synth = commands.add_parser(
        "synth", help="generate the synthetic datasets in the real releases' layouts",
        description="Generate SynthAffWild: synthetic Aff-Wild-, RECOLA-, AFEW-VA- and AFEW-like "
        "data, written in the real releases' on-disk layouts (FORMATS.md), with the ground truth the "
        "real ones lack under <dataset>/synth_truth/. OUT is written atomically; an existing OUT is "
        "replaced only if it is an earlier synthetic release. Prints a one-line JSON summary last.",
    )
    synth.add_argument("--profile", default="tiny", choices=sorted(PROFILES),
                       help="how much data: tiny (CI, seconds), small (~10x), medium (GPU runs); default tiny")
    synth.add_argument("--out", required=True, help="output folder, e.g. data/synth")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same labels")
    synth.add_argument("--workers", type=int, default=None, help="processes (default: all CPUs)")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)


def _synth(args) -> int:
    from .synth import generate

    try:
        summary = generate(args.profile, args.out, seed=args.seed, progress=not args.no_progress,
                           workers=args.workers)
    except FileExistsError as err:
        print(f"affwild: error: {err}", file=sys.stderr)
        return 1
    print_json(summary)
    return 0


def _add_data(commands) -> None:
    from .datasets import FORMATS

    data = commands.add_parser("data", help="inspect a copy of a dataset release",
                               description="Inspect a copy of a dataset release.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = data_commands.add_parser(
        "check", help="validate a release and print a one-line JSON summary",
        description="Read every file of a release in its published layout (FORMATS.md), report the "
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
    prep.add_argument("--out", required=True, help="the frame store folder to write")
    prep.add_argument("--size", type=int, help="crop side in pixels (default: the profile's prepare.size, else 96)")
    prep.add_argument("--profile", help="take defaults from this params.yaml profile (tiny, paper)")
    prep.add_argument("--landmarks", default="dlib", choices=("dlib", "truth"),
                      help="dlib's detector and 68-point predictor (default), or the synthetic "
                      "generator's true landmarks (an ablation)")
    prep.add_argument("--workers", type=int, help="processes (default: all CPUs)")
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
    size = args.size or settings.get("size", 96)
    try:
        summary = prepare(args.format, path, args.out, size=size, workers=args.workers,
                          progress=not args.no_progress, landmarks=args.landmarks)
    except (ValueError, FileExistsError) as err:
        print(f"affwild: error: {err}", file=sys.stderr)
        return 1
    print_json(summary)
    return 0


def _data_check(args) -> int:
    from .datasets import check

    print_json(check(args.format, args.path))
    return 0


def print_json(summary: dict) -> None:
    """The last line of a command's stdout: one line of JSON, for scripts and DVC."""
    print(json.dumps(summary, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # an unknown subcommand exits 2 with the usage
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    from .datasets import DatasetError

    try:
        return int(args.func(args) or 0)
    except DatasetError as err:  # bad input: say which file and line, no traceback
        print(f"affwild: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
