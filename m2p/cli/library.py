"""The library commands of ``m2p``: ``batch`` (a music library into one table) and ``gallery``
(its static HTML page).

Each ``configure_*`` receives its subcommand's parser and returns the handler (see
:mod:`m2p.cli.core`); the work is done by :mod:`m2p.library` (``batch``, its engines) and
:mod:`m2p.library.gallery`. ``m2p match``, which ranks a library for footage, is the video
adapter's (:mod:`m2p_plugins.video.cli`).
"""

from __future__ import annotations

import argparse
import sys

from m2p._internal.text import printable
from m2p.cli.args import add_inference_arguments, inference_kwargs, positive_int
from m2p.hooks.specs import Handler


def configure_batch(parser: argparse.ArgumentParser) -> Handler:
    """``m2p batch PATH... -o library.parquet``: analyse a library into one table."""
    from m2p.library.batch import DEFAULT_FLUSH_EVERY
    from m2p.library.engines import ENGINES

    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="folders (searched recursively), audio files or glob patterns")
    parser.add_argument("-o", "--output", required=True, metavar="PARQUET",
                        help="the table to create or complete (files already in it are skipped)")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="local",
                        help="; ".join(f"{name}: {engine.help}" for name, engine in ENGINES.items())
                        + " (default local)")
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="worker processes, or Ray model actors (default: the CPU count)")
    parser.add_argument("--flush-every", type=positive_int, default=DEFAULT_FLUSH_EVERY,
                        metavar="N", help="rows saved at a time; a killed job loses at most "
                                          f"these (default {DEFAULT_FLUSH_EVERY})")
    add_inference_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        from m2p._internal.extras import require
        from m2p.library.batch import run_batch

        require("pyarrow", extra="library", feature="m2p batch")
        if args.engine == "ray":
            require("ray", extra="ray", feature="m2p batch --engine ray")
        summary = run_batch(args.paths, output=args.output, engine=args.engine,
                            workers=args.workers, flush_every=args.flush_every,
                            **inference_kwargs(args))
        print(printable(f"{summary.output}: {summary.total} files, {summary.analysed} analysed, "
                        f"{summary.skipped} already done, {summary.errors} errors"),
              file=sys.stdout)
        return 0

    return run


def configure_gallery(parser: argparse.ArgumentParser) -> Handler:
    """``m2p gallery library.parquet -o site/``: a static HTML page of the library."""
    parser.add_argument("library", help="the table made by 'm2p batch'")
    parser.add_argument("-o", "--output", required=True, metavar="FOLDER",
                        help="folder for index.html (audio links are relative to it)")
    parser.add_argument("--title", default="music2palette library", help="page title")
    parser.add_argument("--root", default=None, metavar="FOLDER",
                        help="the library root: every track must lie inside it, and the page "
                             "names tracks by their path there (default: the table's folder)")

    def run(args: argparse.Namespace) -> int:
        from m2p._internal.extras import require
        from m2p.library.gallery import write_gallery

        require("pyarrow", extra="library", feature="m2p gallery")
        print(printable(write_gallery(args.library, args.output, title=args.title,
                                      root=args.root)))
        return 0

    return run
