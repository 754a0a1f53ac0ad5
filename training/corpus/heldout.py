"""Held-out controlled renders for the directional check: tunes the corpus never saw.

The corpus's test split holds only one music21 tune per source (four tunes: 12 tempo pairs and
4 mode pairs), too few to measure how tempo and mode move the palettes. The directional check
needs no emotion labels, so it can use fresh material: this module draws further tunes from the
same music21 sources with another seed, drops any tune that is in the corpus, renders each in the
``base``, ``slow``, ``fast`` and ``mode`` variants exactly like the corpus renders
(``training/corpus/midi.py``), and returns them as a small :class:`training.dataset.Corpus`
whose windows carry no labels.

    corpus = heldout_corpus(Path("training/cache"), load_corpus(), tunes_per_source=10)
"""

from __future__ import annotations

from pathlib import Path

from training.dataset import Corpus, Track, Window

from . import cues, midi

__all__ = ["HELDOUT_VARIANTS", "heldout_corpus"]

#: The variants rendered: tempo 0.7 / 1.0 / 1.4 and the parallel-mode swap.
HELDOUT_VARIANTS = tuple(v for v in midi.VARIANTS_BASIC if v[0] in ("base", "slow", "fast", "mode"))

# Placeholder target for the unlabelled windows: the dataset type wants one, nothing reads it.
_NO_TARGET = ((50.0, 0.0, 0.0),)


def heldout_corpus(cache: Path, corpus: Corpus, *, tunes_per_source: int = 10, seed: int = 1,
                   log=print) -> Corpus:
    """Render (or reuse) held-out tune variants under ``cache/heldout`` and list their windows.

    Parameters
    ----------
    cache
        The training cache folder (``training/cache``); renders go to ``cache/heldout/renders``.
    corpus
        The training corpus: tunes in it (any split) are excluded.
    tunes_per_source
        Tunes drawn per music21 source before excluding corpus tunes.
    seed
        Seed of the draw (the corpus uses 0).

    Returns
    -------
    Corpus
        Tracks with the variant metadata of the corpus renders (split ``heldout``), windows of
        10 s with a 5 s hop like the corpus, no labels and no palettes.
    """
    root = Path(cache) / "heldout"
    drawn = midi.cached_tunes(root / "tunes.json", tunes_per_source, seed=seed, log=log)
    seen = {t.meta.get("tune_id") for t in corpus.tracks.values()}
    tunes = [t for t in drawn if t.tune_id not in seen]
    sf2 = midi.find_soundfont()
    if sf2 is None:
        raise RuntimeError("no GM soundfont found (apt-get install timgm6mb-soundfont)")
    log(f"held-out renders: {len(tunes)} tunes not in the corpus, {len(HELDOUT_VARIANTS)} variants each")
    records = midi.render_tune_variants(root, tunes, HELDOUT_VARIANTS, sf2, log)

    tracks: dict[str, Track] = {}
    windows: list[Window] = []
    for r in records:
        meta_row = {k: v for k, v in r.items() if k not in ("track_id", "path", "kind")}
        tracks[r["track_id"]] = Track(r["track_id"], r["path"], "heldout", "midi", meta_row)
        for start, duration in cues.window_starts(r["duration"]):
            windows.append(Window(r["track_id"], start, duration, 0.0, 0.0, (0.0,) * 8, (), _NO_TARGET))
    return Corpus(root / "corpus", tracks, windows, {})
