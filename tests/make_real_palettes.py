"""Write ``tests/data/real_palettes.json``: the shipped model's palettes of 16 real recordings.

The legibility tests (``tests/test_legibility.py``) check every adapter's colours on the
palettes of real songs. Running the model on 16 recordings takes minutes, so this script runs
it once and commits the result; the tests assert properties (contrast, distances, counts) that
must hold for *any* palette, never the hex codes, so the file only needs regenerating when the
shipped model changes (``python tests/make_real_palettes.py``). The file is never edited by hand.

The recordings come from Debian game-music packages (free licences; ``wesnoth-1.16-music`` is
GPL-2+), unpacked with ``dpkg-deb -x PACKAGE.deb ROOT``; ``--root`` is that folder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: (package, path inside the package): 16 songs of contrasting moods.
SONGS = (
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/sad.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/love_theme.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/battle-epic.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/the_king_is_dead.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/elvish-theme.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/frantic.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/underground.ogg"),
    ("wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music/traveling_minstrels.ogg"),
    ("hedgewars-data", "usr/share/games/hedgewars/Data/Music/Rock.ogg"),
    ("xmoto-data", "usr/share/games/xmoto/Textures/Musics/speeditup.ogg"),
    ("pushover-data", "usr/share/pushover/themes/japanese.ogg"),
    ("pushover-data", "usr/share/pushover/themes/electro.ogg"),
    ("widelands-data", "usr/share/games/widelands/data/music/ingame_05.ogg"),
    ("singularity-music", "usr/share/games/singularity/music/Deprecation.ogg"),
    ("fillets-ng-data", "usr/share/games/fillets-ng/music/rybky01.ogg"),
    ("xmoto-data", "usr/share/games/xmoto/Textures/Musics/MadeiraStew.ogg"),
)

OUT = Path(__file__).with_name("data") / "real_palettes.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/work/cache/pkgs",
                        help="folder holding the unpacked packages, one sub-folder each")
    parser.add_argument("--model", default=None, help="model directory (default: shipped)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    import m2p

    songs = []
    for package, inside in SONGS:
        path = Path(args.root) / package / inside
        track = m2p.palette_track(path, model=args.model, seed=0, progress=True)
        songs.append({
            "name": path.stem, "package": package, "path": inside,
            "palette": list(track.overall.hex),
            "track": {"times": [round(float(t), 3) for t in track.times],
                      "palettes": [list(p.hex) for p in track.palettes],
                      "duration": round(float(track.duration), 3)},
        })
        print(f"{path.stem}: {' '.join(track.overall.hex)}", flush=True)
    lines = [json.dumps(song, separators=(",", ":")) for song in songs]  # one song a line
    Path(args.out).write_text('{"model": ' + json.dumps(_model_version(args.model)) +
                              ', "songs": [\n' + ",\n".join(lines) + "\n]}\n")


def _model_version(model: str | None) -> str:
    from m2p.model.weights import find_model_dir

    config = json.loads((find_model_dir(model) / "config.json").read_text())
    meta = config.get("training", {}) if isinstance(config, dict) else {}
    return str(meta.get("version") or config.get("version") or "shipped")


if __name__ == "__main__":
    main()
