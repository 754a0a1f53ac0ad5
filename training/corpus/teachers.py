"""Pretrained teachers for the corpus: musicnn tag scores per window (model v2).

    python -m training.corpus.teachers --cache training/cache [--jobs 1]

For every recorded (game-music) track the build uses, and every window start of
``cues.window_starts`` (10 s windows, 5 s hop), the central 3 s patch of the window goes through
two pretrained taggers ported to torch in :mod:`m2p.model.musicnn` (MTT_vgg: loud, quiet, fast, slow,
...; MSD_vgg: happy, sad, party, mellow, ...). Results are cached per track in
``<cache>/corpus/teachers/<track>.npz`` (``starts`` (n,), ``<model>`` (n, 50) float16 tag
probabilities) and read by the label stage.

Cost decides the sampling. The taggers take 0.1-0.3 s of CPU per 3 s patch on this machine
(``model/musicnn/README.md``), so every patch of 22 h of music would take hours on 2 cores. So:
one central patch per window, the patch of every second window only (10 s apart; the windows
between get the mean of their two neighbours, which overlap them by half), and recordings only:
the MIDI renders keep their cue labels, which were validated on them and on which the taggers
were not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TEACHER_MODELS = ("MTT_vgg", "MSD_vgg")
PATCH_SECONDS = 3.0
WINDOW_STRIDE = 2

# Zero-shot reading of the tags as valence and arousal: mean log-odds of the tags that mark one
# end minus those that mark the other (chosen from the tag names before any result was seen).
AROUSAL_TAGS = {
    "MTT_vgg": (("loud", "fast", "drums", "beat", "beats", "techno", "rock", "metal", "dance"),
                ("quiet", "soft", "slow", "ambient", "new age", "harp", "flute")),
    "MSD_vgg": (("metal", "hard rock", "heavy metal", "punk", "party", "dance", "House", "electro"),
                ("Mellow", "chill", "chillout", "ambient", "easy listening", "beautiful", "acoustic")),
}
VALENCE_TAGS = {
    "MSD_vgg": (("happy", "party", "catchy", "funk", "pop", "dance"),
                ("sad", "Mellow", "ambient", "experimental")),
}


def tag_valence_arousal(tags: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Raw (unstandardised) valence and arousal scores from tag probabilities.

    Parameters
    ----------
    tags
        Model name -> (n, 50) tag probabilities in :data:`m2p.model.musicnn.MODELS` order.

    Returns
    -------
    valence, arousal
        (n,) mean log-odds of the positive minus the negative tags, averaged over models.
    """
    from m2p.model.musicnn import MODELS

    def score(table):
        parts = []
        for model, (plus, minus) in table.items():
            if model not in tags:
                continue
            names = MODELS[model][1]
            p = np.clip(np.asarray(tags[model], np.float64), 1e-4, 1 - 1e-4)
            logit = np.log(p / (1 - p))
            col = {n: i for i, n in enumerate(names)}
            parts.append(logit[:, [col[t] for t in plus]].mean(1) - logit[:, [col[t] for t in minus]].mean(1))
        return np.mean(parts, axis=0)

    return score(VALENCE_TAGS), score(AROUSAL_TAGS)


def teacher_path(cache: Path, track_id: str) -> Path:
    return cache / "corpus" / "teachers" / (track_id.replace("/", "__") + ".npz")


def analyse_track(path: Path, taggers) -> dict[str, np.ndarray]:
    """Tags of the central 3 s patch of every window of one audio file."""
    import torch

    from m2p.model.musicnn import resample_to_16k

    from .cues import SR, load_audio, window_starts

    y = load_audio(path)
    y16 = resample_to_16k(y, SR)
    wins = window_starts(len(y) / SR)
    heard = [i for i in range(len(wins)) if i % WINDOW_STRIDE == 0 or i == len(wins) - 1]
    n16 = int(PATCH_SECONDS * 16000)
    patches, starts = [], []
    for start, dur in (wins[i] for i in heard):
        centre = start + max(0.0, (dur - PATCH_SECONDS) / 2)
        a = int(round(centre * 16000))
        piece = np.zeros(n16, np.float32)
        seg = y16[a: a + n16]
        piece[: len(seg)] = seg
        patches.append(piece)
        starts.append(start)
    out = {"starts": np.asarray([s for s, _ in wins], np.float64)}
    if not patches:
        for t in taggers:
            out[t.name] = np.zeros((0, 50), np.float16)
        return out
    with torch.inference_mode():
        for t in taggers:
            mels = torch.stack([t.patches(p)[0] for p in patches])
            tags = torch.cat([t(mels[i: i + 64])[0] for i in range(0, len(mels), 64)]).numpy()
            # Windows not heard: the mean of the heard neighbours on either side.
            full = np.stack([np.interp(np.arange(len(wins)), heard, tags[:, j])
                             for j in range(tags.shape[1])], axis=1)
            out[t.name] = full.astype(np.float16)
    return out


def run(cache: Path, tracks: list[dict], log=print) -> dict[str, str]:
    """Fill the teacher cache for ``tracks`` (rows with ``track_id`` and ``path``); returns failures."""
    import torch

    from m2p.model.musicnn import load_musicnn

    torch.set_num_threads(1)
    taggers = [load_musicnn(name) for name in TEACHER_MODELS]
    todo = [t for t in tracks if not teacher_path(cache, t["track_id"]).exists()]
    log(f"teachers: {len(todo)} tracks to do, {len(tracks) - len(todo)} cached")
    failed = {}
    t0 = time.monotonic()
    for i, t in enumerate(todo):
        out = teacher_path(cache, t["track_id"])
        try:
            res = analyse_track(cache / t["path"], taggers)
        except Exception as exc:  # an undecodable file is recorded, not fatal
            failed[t["track_id"]] = f"{type(exc).__name__}: {exc}"
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.stem + ".tmp.npz")
        np.savez(tmp, **res)
        tmp.replace(out)
        if (i + 1) % 25 == 0:
            log(f"  teachers {i + 1}/{len(todo)} ({time.monotonic() - t0:.0f} s)")
    return failed


def load(cache: Path, track_id: str) -> dict[str, np.ndarray] | None:
    p = teacher_path(cache, track_id)
    if not p.exists():
        return None
    with np.load(p) as z:
        return {k: z[k] for k in z.files}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.corpus.teachers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("training/cache"))
    ap.add_argument("--tracks", type=Path, default=None,
                    help="tracks.jsonl to read (default: list the build's tracks anew)")
    ap.add_argument("--shard", default="0/1", help="i/n: process every n-th track from i")
    args = ap.parse_args(argv)
    cache = args.cache.resolve()
    if args.tracks:
        tracks = [json.loads(line) for line in args.tracks.read_text().splitlines() if line.strip()]
    else:
        from . import sources

        def quiet(msg):
            pass

        roots = sources.fetch(cache, sources.PACKAGES, quiet)
        tracks = sources.list_tracks(cache, roots, quiet)
    i, n = (int(x) for x in args.shard.split("/"))
    tracks = sorted((t for t in tracks if t.get("kind", "game") == "game"),
                    key=lambda t: t["track_id"])[i::n]
    failed = run(cache, tracks, lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True))
    for tid, why in failed.items():
        print(f"failed: {tid}: {why}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
