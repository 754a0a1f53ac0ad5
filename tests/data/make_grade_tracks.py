"""Build ``tests/data/grade_tracks.json``: palette tracks of ten contrasting real recordings.

Run once (and again whenever the shipped model changes) from the repository root::

    PYTHONPATH=$PWD .venv/bin/python tests/data/make_grade_tracks.py [--pkgs /work/cache/pkgs]

The recordings are game music from Debian packages (``wesnoth-1.16-music``, GPL-2+ and
``hedgewars-data``, GPL-2 / CC-BY-SA; ``apt-get download`` and ``dpkg -x`` them into
``--pkgs``). The shipped model reads each whole file (default window and hop) and the
palette track is stored as JSON: the grading tests (``tests/test_grade_rules.py``) use these
tracks as real, contrasting targets without running the model or shipping the audio. They
assert properties that must hold for any palette (strength bands, memory colours), never the
colours themselves, so a new model only needs this script rerun.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "grade_tracks.json"
WESNOTH = "wesnoth-1.16-music/usr/share/games/wesnoth/1.16/data/core/music"
HEDGEWARS = "hedgewars-data/usr/share/games/hedgewars/Data/Music"
SONGS = (  # (name, path under --pkgs): calm, sad, tender, dark, frantic, epic, rock, eerie...
    ("battle", f"{WESNOTH}/battle.ogg"),
    ("sad", f"{WESNOTH}/sad.ogg"),
    ("love_theme", f"{WESNOTH}/love_theme.ogg"),
    ("defeat2", f"{WESNOTH}/defeat2.ogg"),
    ("frantic", f"{WESNOTH}/frantic.ogg"),
    ("the_king_is_dead", f"{WESNOTH}/the_king_is_dead.ogg"),
    ("rock", f"{HEDGEWARS}/Rock.ogg"),
    ("hell", f"{HEDGEWARS}/hell.ogg"),
    ("underwater", f"{HEDGEWARS}/underwater.ogg"),
    ("silvan_sanctuary", f"{WESNOTH}/silvan_sanctuary.ogg"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pkgs", default="/work/cache/pkgs", help="unpacked Debian packages")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    import m2p

    tracks = {}
    for name, rel in SONGS:
        path = Path(args.pkgs) / rel
        track = m2p.palette_track(path, device="cpu")
        data = track.to_dict()
        data["source"] = rel.rsplit("/", 1)[-1]  # the file name, not this machine's path
        tracks[name] = data
        print(f"{name}: {len(track)} windows, {track.duration:.0f} s, overall "
              f"{' '.join(track.overall.hex)}", file=sys.stderr)
    Path(args.out).write_text(json.dumps({"songs": tracks}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
