"""``python -m training.heldout``: the held-out real-music evaluation (see :mod:`training.heldout`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import training.heldout
from training.heldout.evaluate import evaluate_heldout
from training.heldout.files import (
    DEFAULT_CACHE,
    DEFAULT_CORPUS_PALETTES,
    DEFAULT_PKGS,
    HELDOUT_PACKAGES,
    PICTURE_SONGS,
)
from training.heldout.report import contact_sheet, json_default, results_markdown, summary_lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m training.heldout", description=training.heldout.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model folder (as m2p.model.weights.load_model takes)")
    ap.add_argument("--md-from-json", default=None, metavar="JSON",
                    help="only re-render the Markdown (to --out-md or stdout) from an earlier --out-json")
    ap.add_argument("--note", default=None, help="a line for the Markdown under its heading")
    ap.add_argument("--pkgs", default=str(DEFAULT_PKGS), help="root of the unpacked packages")
    ap.add_argument("--packages", nargs="+", default=list(HELDOUT_PACKAGES), choices=list(HELDOUT_PACKAGES))
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--out-md", default=None)
    ap.add_argument("--picture", default=None, help="PNG contact sheet of 16 songs' palettes")
    ap.add_argument("--quick", action="store_true", help="skip the (slow) musicnn taggers")
    ap.add_argument("--no-teachers", action="store_true", help="skip vibenet and musicnn")
    ap.add_argument("--max-files", type=int, default=None, help="first N files only (development)")
    ap.add_argument("--alternatives-files", type=int, default=PICTURE_SONGS)
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="per-file teacher cache")
    ap.add_argument("--corpus-palettes", default=str(DEFAULT_CORPUS_PALETTES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true", help="no progress bars or log lines")
    args = ap.parse_args(argv)
    if args.md_from_json:
        md = results_markdown(json.loads(Path(args.md_from_json).read_text(encoding="utf-8")), note=args.note)
        if args.out_md:
            Path(args.out_md).write_text(md, encoding="utf-8")
        else:
            print(md)
        return 0
    if not args.model:
        ap.error("--model is required")
    import torch

    torch.set_num_threads(max(1, args.threads))
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    res = evaluate_heldout(args.model, pkgs_root=args.pkgs, packages=args.packages, quick=args.quick,
                           cache_dir=args.cache, corpus_palettes=args.corpus_palettes,
                           device=args.device, progress=not args.quiet, max_files=args.max_files,
                           alternatives_files=args.alternatives_files, teachers=not args.no_teachers,
                           log=log)
    if args.note:
        res["note"] = args.note
    md = results_markdown(res)
    if args.out_json:
        Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_json).write_text(json.dumps(res, indent=1, default=json_default) + "\n", encoding="utf-8")
    if args.out_md:
        Path(args.out_md).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_md).write_text(md, encoding="utf-8")
    if args.picture:
        contact_sheet(res, args.picture)
    print("\n".join(summary_lines(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
