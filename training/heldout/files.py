"""Which recordings are held out and how they are grouped: the packages, the mood groups
(written from the file names before any model v2 result existed; never edited after), finding
the files, and the fixed song selection of the picture and of the alternatives check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

__all__ = ["DEFAULT_PKGS", "GROUPS", "HELDOUT_PACKAGES", "HeldoutFile", "find_heldout_files",
           "package_music_dir", "picture_selection", "resolve_groups"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PKGS = REPO_ROOT / "training" / "cache" / "pkgs"
DEFAULT_CACHE = REPO_ROOT / "training" / "cache" / "heldout"
DEFAULT_CORPUS_CACHE = REPO_ROOT / "training" / "cache"
DEFAULT_CORPUS_PALETTES = DEFAULT_CORPUS_CACHE / "corpus" / "palettes.jsonl"

#: Held-out packages and the folder (relative to the package root) that holds their music.
HELDOUT_PACKAGES: dict[str, str] = {
    "wesnoth-1.16-music": "usr/share/games/wesnoth/1.16/data/core/music",
    "extremetuxracer-data": "usr/share/games/etr/music",
    "flare-game": "usr/share/games/flare/mods/fantasycore/music",
}

#: Other places a package may have been unpacked (``dpkg -x <deb> <root>``).
FALLBACK_ROOTS: dict[str, tuple[Path, ...]] = {
    "wesnoth-1.16-music": (Path("/tmp/wesnoth"),),
}

#: Files never evaluated (stems), per package.
SKIP_STEMS: dict[str, frozenset[str]] = {"wesnoth-1.16-music": frozenset({"silence"})}

MIN_SECONDS = 3.0

_W, _T, _F = "wesnoth-1.16-music", "extremetuxracer-data", "flare-game"

#: Mood groups, written down from the file names before any model v2 result existed.
#: group -> package -> file stems. A file may be in two groups.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "arousal_high": {
        _W: ("battle", "battle-epic", "casualties_of_war", "frantic", "siege_of_laurelmor",
             "vengeful", "the_dangerous_symphony", "weight_of_revenge"),
        _T: ("race1-jt", "spunkyrace-ks", "raceintro-ks"),
        _F: ("battle_theme", "boss_theme", "unrest_theme"),
    },
    "arousal_low": {
        _W: ("sad", "love_theme", "nunc_dimittis", "journeys_end", "the_king_is_dead",
             "silvan_sanctuary", "transience", "elf-land"),
        _T: ("calmrace-ks",),
        _F: ("safe_room_theme", "town_theme", "wind_ambient", "forest_theme"),
    },
    "valence_positive": {
        _W: ("victory", "victory2", "traveling_minstrels", "love_theme", "elvish-theme",
             "return_to_wesnoth", "main_menu"),
        _T: ("wonrace1-jt",),
        _F: ("town_theme", "title_theme", "safe_room_theme"),
    },
    "valence_negative": {
        _W: ("defeat", "defeat2", "sad", "the_king_is_dead", "the_city_falls", "casualties_of_war"),
        _T: ("lostrace-ks",),
        _F: ("dungeon_theme", "boss_theme", "unrest_theme", "cave_theme"),
    },
}

#: The file looped for the steadiness check (first fallback: the first file of >= 40 s).
STEADY_FILE = "wesnoth-1.16-music/traveling_minstrels"
STEADY_START, STEADY_EXCERPT, STEADY_TOTAL = 30.0, 10.0, 120.0

#: Songs of the contact sheet and of the alternatives check.
PICTURE_SONGS = 16


@dataclass(frozen=True)
class HeldoutFile:
    """One held-out recording."""

    package: str
    stem: str
    path: Path
    duration: float

    @property
    def key(self) -> str:
        """``<package>/<stem>``: the file's name in every table."""
        return f"{self.package}/{self.stem}"


def package_music_dir(package: str, pkgs_root: str | os.PathLike[str] = DEFAULT_PKGS,
                      fallbacks: Mapping[str, Sequence[Path]] = FALLBACK_ROOTS) -> Path | None:
    """The music folder of ``package`` under ``pkgs_root`` or a fallback root; None if absent."""
    sub = HELDOUT_PACKAGES[package]
    candidates = [Path(pkgs_root) / package / sub, *(Path(r) / sub for r in fallbacks.get(package, ()))]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.ogg")):
            return c
    return None


def find_heldout_files(pkgs_root: str | os.PathLike[str] = DEFAULT_PKGS,
                       packages: Iterable[str] = tuple(HELDOUT_PACKAGES), *,
                       fallbacks: Mapping[str, Sequence[Path]] = FALLBACK_ROOTS,
                       min_seconds: float = MIN_SECONDS) -> tuple[list[HeldoutFile], list[str]]:
    """The held-out ``.ogg`` files of ``packages`` (sorted by key) and the packages not found."""
    import soundfile as sf

    files, missing = [], []
    for pkg in packages:
        if pkg not in HELDOUT_PACKAGES:
            raise ValueError(f"{pkg!r} is not a held-out package ({', '.join(HELDOUT_PACKAGES)})")
        folder = package_music_dir(pkg, pkgs_root, fallbacks)
        if folder is None:
            missing.append(pkg)
            continue
        for path in sorted(folder.glob("*.ogg")):
            if path.stem in SKIP_STEMS.get(pkg, ()):
                continue
            try:
                duration = float(sf.info(str(path)).duration)
            except Exception:  # undecodable: not evaluated
                continue
            if duration >= min_seconds:
                files.append(HeldoutFile(pkg, path.stem, path, duration))
    return sorted(files, key=lambda f: f.key), missing


def resolve_groups(keys: Iterable[str],
                   groups: Mapping[str, Mapping[str, Sequence[str]]] = GROUPS
                   ) -> tuple[dict[str, list[str]], list[str]]:
    """Map each group to the file keys present; also list the group stems not found.

    Returns
    -------
    resolved, missing
        ``{group: [package/stem, ...]}`` (only present files, in key order) and the
        ``package/stem`` names of the groups that are not among ``keys``.
    """
    present = set(keys)
    resolved: dict[str, list[str]] = {}
    missing: list[str] = []
    for g, by_pkg in groups.items():
        want = [f"{pkg}/{stem}" for pkg, stems in by_pkg.items() for stem in stems]
        resolved[g] = sorted(k for k in want if k in present)
        missing += [k for k in want if k not in present and k not in missing]
    return resolved, missing


def picture_selection(keys: Sequence[str], resolved: Mapping[str, Sequence[str]],
                      n: int = PICTURE_SONGS) -> list[str]:
    """The fixed song selection of the picture and of the alternatives check.

    The grouped files first, then the others, each part sorted by file name (stem, then
    package); the first ``n``.
    """
    grouped = {k for ks in resolved.values() for k in ks}

    def name(k: str) -> tuple[str, str]:
        pkg, stem = k.split("/", 1)
        return stem, pkg

    first = sorted((k for k in keys if k in grouped), key=name)
    rest = sorted((k for k in keys if k not in grouped), key=name)
    return (first + rest)[:n]
