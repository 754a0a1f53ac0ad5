"""Print the outcome table of the hostile-input catalogue (``tests/bad_inputs.py``).

    python tests/bad_inputs_table.py            # table (markdown) + one line per case
    python tests/bad_inputs_table.py -k mp3     # only cases whose id contains "mp3"
    python tests/bad_inputs_table.py --checkout ../old   # the outcomes of another checkout

Cases run in this process with a time limit each; the ones that once exhausted memory run in a
child process under ``RLIMIT_AS``. The cases use only public names, so ``--checkout`` can point
at an older checkout to show what a change fixed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
HERE = Path(__file__).resolve().parent


def _checkout() -> Path:
    """--checkout DIR (default: this repository) goes first on sys.path, before any install."""
    args = sys.argv[1:]
    if "--checkout" in args:
        return Path(args[args.index("--checkout") + 1]).resolve()
    return HERE.parent


CHECKOUT = _checkout()
sys.path[:0] = [str(CHECKOUT), str(HERE)]
os.environ["PYTHONPATH"] = os.pathsep.join([str(CHECKOUT), os.environ.get("PYTHONPATH", "")])

import bad_inputs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only cases whose id contains this text")
    parser.add_argument("--defect", type=int, action="append", default=None, metavar="N",
                        help="only the cases of defect N (repeat for several)")
    parser.add_argument("-q", "--quiet", action="store_true", help="table only")
    parser.add_argument("--limit", type=float, default=None, metavar="S",
                        help="cap every case's time limit at S seconds (hangs show sooner)")
    parser.add_argument("--checkout", default=str(CHECKOUT),
                        help="the music2palette checkout to test (default: this one)")
    args = parser.parse_args()
    import m2p

    outcomes = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = bad_inputs.Workspace(Path(tmp)).prepare()
        for case in bad_inputs.CASES:
            if args.k.lower() not in case.id.lower():
                continue
            if args.defect and case.defect not in args.defect:
                continue
            if args.limit:
                case.limit_s = min(case.limit_s, args.limit)
            outcome = bad_inputs.classify(case, workspace)
            outcomes[case.id] = outcome
            if not args.quiet:
                mark = "ok " if outcome.kind == case.expect else "BAD"
                print(f"{mark} [{case.defect or '-'}] {case.id}: {outcome.kind} "
                      f"({outcome.seconds:.1f} s) {outcome.detail[:160]}", file=sys.stderr)
    print(f"music2palette {m2p.__version__} from {Path(m2p.__file__).parent}; "
          f"{len(outcomes)} cases in {time.monotonic() - started:.0f} s\n")
    print(bad_inputs.table(outcomes))
    return 0 if all(outcomes[c.id].kind == c.expect for c in bad_inputs.CASES if c.id in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
