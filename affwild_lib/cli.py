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
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def print_json(summary: dict) -> None:
    """The last line of a command's stdout: one line of JSON, for scripts and DVC."""
    print(json.dumps(summary, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # an unknown subcommand exits 2 with the usage
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
