"""Rhythm and structure (issue 26): accuracy against known tempo, beats and boundaries, the
cost in the palette track, and the timeline picture.

Usage::

    python benchmarks/rhythm.py renders  [--splits test] [--cache /work/cache]
    python benchmarks/rhythm.py stretched [--splits test] [--seconds 60] [--limit N]
    python benchmarks/rhythm.py sections [--splits val,test] [--trials 40]
    python benchmarks/rhythm.py live     [--splits test]
    python benchmarks/rhythm.py pipe SONG [--seconds 60] [--model DIR]
    python benchmarks/rhythm.py cost SONG [--repeats 3]
    python benchmarks/rhythm.py picture SONG docs/img/rhythm_timeline.png

``renders``: the corpus's MIDI renders (``tracks.jsonl`` with ``renders/tunes.json``): each
render's beat is known from its tune (the tempo event of the MIDI file, times the tempo factor
of the variant) and its time signature (music21's beat: a quarter in 2/4, 3/4 and 4/4, a dotted
quarter in 6/8 and 9/8, a half note in 2/2); tempo accuracy (within 4 %, an octave error
counted as an error, also against the quarter note and with octaves allowed), beat F-measure
(70 ms) and downbeat F-measure (the bass note that starts every bar), ours against
``librosa.beat.beat_track`` on the same audio (at librosa's default 22,050 Hz).

``stretched``: real recordings of the corpus (``kind == game``), one minute from 30 s in,
time-stretched by ffmpeg's ``atempo`` (pitch kept) by 0.8, 0.9, 1.1 and 1.25: the tempo of a
stretched copy should be the original's times the ratio (within 4 %; an octave jump between
the copies counts as an error). The recordings' own tempo is not known, so the reference is
each tracker's own estimate on the unstretched copy.

``sections``: five renders of different tunes cut to 15-40 s and joined (the audio itself, then
analysed as any file): boundaries found within 2 s, and the spurious ones per minute.

``live``: :class:`m2p.rhythm.online.OnlineBeatTracker` fed 64 ms blocks of each render and
recording, against the offline beats of the same audio (within 70 ms) and its latency.

``pipe``: ``m2p live --sync beat`` as a separate process, fed the song's raw PCM through a
pipe at real speed (64 ms blocks): the wall-clock time from writing the block that holds a
beat's sample to reading its line (the audio-to-line latency), and the lines' beats against
the offline tracker's on the same audio (within 70 ms). Without ``--model`` a randomly
initialised model of the default size (the cost of the shipped one) is saved to a temporary
folder.

``cost``: ``run_inference`` with and without the rhythm on a real song, with a model of the
shipped size (its pretrained taggers; the trunk and decoder random, which cost the same), and
the stage alone; librosa's beat tracker and chroma recurrence on the same song for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from m2p.rhythm.analysis import analyze_audio  # noqa: E402
from m2p.rhythm.evaluation import boundary_hits, f_measure, match_events, tempo_correct  # noqa: E402

RATIOS = (0.8, 0.9, 1.1, 1.25)


def records(cache: Path, splits: set[str], kind: str) -> list[dict]:
    out = []
    for line in open(cache / "corpus" / "tracks.jsonl"):
        record = json.loads(line)
        if record["kind"] == kind and record["split"] in splits:
            out.append(record)
    return out


def beat_levels(cache: Path) -> dict[str, float]:
    """Quarter notes per beat of each tune, from its time signature (music21), cached."""
    memo = cache / "renders" / "beat_levels.json"
    if memo.exists():
        return json.loads(memo.read_text())
    from music21 import converter

    from training.corpus.midi import TUNE_SOURCES, _abc_tunes, _music21_corpus_dir

    root = _music21_corpus_dir()
    folders = {name: pattern.split("/")[0] for name, pattern, _, _ in TUNE_SOURCES}
    levels = {}
    for tune in json.loads((cache / "renders" / "tunes.json").read_text())["tunes"]:
        source, ref = tune["source"], tune["tune_id"][len(tune["source"]) + 1:]
        if source == "bach":
            score = converter.parse(str(root / folders[source] / (ref + ".mxl")))
        else:
            stem, k = ref.rsplit("-", 1)
            score = converter.parse(_abc_tunes(root / folders[source] / (stem + ".abc"))[int(k)],
                                    format="abc")
        signatures = score.recurse().getElementsByClass("TimeSignature")
        levels[tune["tune_id"]] = float(signatures[0].beatDuration.quarterLength) if len(signatures) else 1.0
    try:
        memo.write_text(json.dumps(levels))
    except OSError:  # a read-only cache: recomputed next time
        pass
    return levels


def librosa_beats(path_or_samples, sr: int | None = None) -> tuple[float, np.ndarray]:
    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(path_or_samples, (str, os.PathLike)):
            y, sr = librosa.load(path_or_samples, sr=22050, mono=True)
        else:
            y = path_or_samples
        tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return float(np.atleast_1d(tempo)[0]), np.asarray(beats)


def cmd_renders(args) -> None:
    cache = Path(args.cache)
    tunes = {t["tune_id"]: t for t in json.loads((cache / "renders" / "tunes.json").read_text())["tunes"]}
    levels = beat_levels(cache)
    rows = []
    for record in records(cache, set(args.splits.split(",")), "midi"):
        if record.get("tune_id") not in tunes or record["variant"] not in ("base", "slow", "fast"):
            continue
        tune = tunes[record["tune_id"]]
        quarter = tune["bpm"] * record["tempo_factor"]
        beat_bpm = quarter / levels[record["tune_id"]]
        path = cache / record["path"]
        rhythm = analyze_audio(path)
        lib_tempo, lib_beats = librosa_beats(path)
        ref = np.arange(0.0, rhythm.duration, 60.0 / beat_bpm)
        bars = np.arange(0.0, rhythm.duration, 60.0 / quarter * tune["bar_q"])
        rows.append(dict(track=record["track_id"], beat_bpm=beat_bpm, quarter=quarter,
                         ours=rhythm.bpm, lib=lib_tempo,
                         f=f_measure(ref, rhythm.beats), f_lib=f_measure(ref, lib_beats),
                         down=f_measure(bars, rhythm.downbeats)))
        print(f"{record['track_id'][5:55]:50s} beat {beat_bpm:6.1f} ours {rhythm.bpm:6.1f} "
              f"librosa {lib_tempo:6.1f}  F {rows[-1]['f']:.2f} / {rows[-1]['f_lib']:.2f}  "
              f"downbeat F {rows[-1]['down']:.2f}", flush=True)

    def share(key, ref, octaves=False):
        return np.mean([tempo_correct(r[key], r[ref], octaves=octaves) for r in rows])

    print(f"\n{len(rows)} renders ({args.splits}), {len({r['track'].split('/')[1] for r in rows})} tunes\n")
    print("| | ours | librosa |\n|---|---|---|")
    print(f"| tempo within 4 % of the notated beat | {share('ours', 'beat_bpm'):.0%} | {share('lib', 'beat_bpm'):.0%} |")
    print(f"| tempo within 4 % of the quarter note | {share('ours', 'quarter'):.0%} | {share('lib', 'quarter'):.0%} |")
    print(f"| tempo within 4 %, octaves allowed | {share('ours', 'beat_bpm', True):.0%} | {share('lib', 'beat_bpm', True):.0%} |")
    print(f"| beat F-measure (70 ms), mean | {np.mean([r['f'] for r in rows]):.3f} | {np.mean([r['f_lib'] for r in rows]):.3f} |")
    print(f"| downbeat F-measure (70 ms), mean | {np.mean([r['down'] for r in rows]):.3f} | - |")


def stretched(path: str, ratio: float, start: float, seconds: float) -> np.ndarray:
    from m2p._internal.ffmpeg import ffmpeg_exe, input_arg

    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", str(start),
               "-t", str(seconds), "-i", input_arg(path), "-af", f"atempo={ratio}", "-ac", "1",
               "-ar", "22050", "-f", "f32le", "pipe:1"]
    out = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32).copy()


def cmd_stretched(args) -> None:
    cache = Path(args.cache)
    ours_ok = lib_ok = total = 0
    skipped = []
    pieces = 0
    for record in records(cache, set(args.splits.split(",")), "game"):
        if record["duration"] < args.seconds + 1:
            continue
        if args.limit and pieces >= args.limit:
            break
        start = min(30.0, record["duration"] - args.seconds)
        try:
            versions = {r: stretched(str(cache / record["path"]), r, start, args.seconds)
                        for r in (1.0, *RATIOS)}
        except subprocess.CalledProcessError:
            skipped.append(record["track_id"])
            continue
        ours = {r: analyze_audio(x, sample_rate=22050).bpm for r, x in versions.items()}
        lib = {r: librosa_beats(x, 22050)[0] for r, x in versions.items()}
        marks, lib_marks = [], []
        for r in RATIOS:
            a = tempo_correct(ours[r], ours[1.0] * r)
            b = tempo_correct(lib[r], lib[1.0] * r)
            ours_ok, lib_ok, total = ours_ok + a, lib_ok + b, total + 1
            marks.append(f"{ours[r] / ours[1.0]:.2f}{'' if a else '*'}")
            lib_marks.append(f"{lib[r] / lib[1.0]:.2f}{'' if b else '*'}")
        pieces += 1
        print(f"{record['track_id'][:50]:50s} ours {ours[1.0]:6.1f} BPM  " + " ".join(marks)
              + f"  librosa {lib[1.0]:6.1f} BPM  " + " ".join(lib_marks), flush=True)
    print(f"\n{pieces} recordings ({args.splits}), {total} stretched copies; {len(skipped)} "
          f"recordings ffmpeg could not seek in skipped\n")
    print("| | ours | librosa |\n|---|---|---|")
    print(f"| stretched copy's tempo within 4 % of the original's x ratio | {ours_ok / total:.0%} | {lib_ok / total:.0%} |")


def cmd_sections(args) -> None:
    from m2p.audio.decode import load

    cache = Path(args.cache)
    items = [r for r in records(cache, set(args.splits.split(",")), "midi")
             if r["variant"] in ("base", "slow", "fast", "original")]
    rng = np.random.default_rng(args.seed)
    found = total = spurious = 0
    minutes = 0.0
    for trial in range(args.trials):
        chosen, tunes = [], set()
        for i in rng.permutation(len(items)):
            if items[i]["tune_id"] not in tunes:
                chosen.append(items[i])
                tunes.add(items[i]["tune_id"])
            if len(chosen) == 5:
                break
        parts = []
        for record in chosen:
            x = load(cache / record["path"], target_rate=22050)
            parts.append(x[: int(min(rng.uniform(15, 40), len(x) / 22050 - 0.5) * 22050)])
        bounds = np.cumsum([len(p) / 22050 for p in parts])[:-1]
        audio = np.concatenate(parts)
        rhythm = analyze_audio(audio, sample_rate=22050)
        hit, extra = boundary_hits(bounds, rhythm.sections)
        found, total, spurious = found + hit, total + len(bounds), spurious + extra
        minutes += len(audio) / 22050 / 60
        print(f"trial {trial:2d}: {hit}/{len(bounds)} found, {extra} spurious", flush=True)
    print(f"\n{args.trials} joins of 5 renders ({args.splits}), {minutes:.1f} min, {total} boundaries\n")
    print("| boundaries found within 2 s | spurious boundaries per minute |\n|---|---|")
    print(f"| {found / total:.0%} | {spurious / minutes:.2f} |")


def cmd_live(args) -> None:
    from m2p.audio.decode import load
    from m2p.rhythm.mel_stream import MelStream
    from m2p.rhythm.online import LATENCY, OnlineBeatTracker

    cache = Path(args.cache)
    chosen = [r for r in records(cache, set(args.splits.split(",")), "midi") if r["variant"] == "base"]
    chosen += records(cache, set(args.splits.split(",")), "game")[: args.games]
    agree, counted, waits, per_second = 0, 0, [], []
    for record in chosen:
        x = load(cache / record["path"], target_rate=16000, max_seconds=120)
        frames, tracker, events = MelStream(), OnlineBeatTracker(), []
        t0 = time.perf_counter()
        for i in range(0, len(x), 1024):
            frames.push(x[i:i + 1024])
            events += tracker.update(frames)
            frames.forget_before(frames.n_samples)
        per_second.append((time.perf_counter() - t0) / (len(x) / 16000))
        offline = analyze_audio(x, sample_rate=16000).beats
        online = np.asarray([e.time for e in events])
        online = online[online >= 5.0]
        agree += match_events(offline, online, 0.07)
        counted += len(online)
        waits += [e.announced - e.time for e in events]
    print(f"\n{len(chosen)} pieces ({args.splits}), {counted} online beats after 5 s\n")
    print("| online beats within 70 ms of an offline beat | announced after the beat (median) | "
          "compute per second of audio |\n|---|---|---|")
    print(f"| {agree / max(counted, 1):.0%} | {np.median(waits) * 1000:.1f} ms (LATENCY "
          f"{LATENCY * 1000:.1f} ms + the 64 ms block) | {np.median(per_second) * 1000:.1f} ms |")


def cmd_pipe(args) -> None:
    import tempfile
    import threading

    from m2p.audio.decode import load

    rate, block = 22050, 1411  # 64 ms
    x = load(args.song, target_rate=rate, max_seconds=args.start + args.seconds)
    x = x[int(args.start * rate):]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            import torch

            from m2p.model.config import ModelConfig
            from m2p.model.network import Music2Palette
            from m2p.model.weights import save_model

            torch.manual_seed(0)
            model = str(save_model(Music2Palette(ModelConfig()).eval(), Path(tmp) / "model"))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        proc = subprocess.Popen([sys.executable, "-m", "m2p", "live", "--sync", "beat", "--rate",
                                 str(rate), "--model", model, "--device", "cpu", "-q"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        lines = []

        def read() -> None:
            for raw in proc.stdout:
                lines.append((time.perf_counter(), json.loads(raw)))

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(args.warmup)  # the model loads before the music starts
        written = []  # (wall time after the write, stream seconds written so far)
        t0 = time.perf_counter()
        for i in range(0, len(x), block):
            time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            proc.stdin.write(x[i:i + block].astype("<f4").tobytes())
            proc.stdin.flush()
            written.append((time.perf_counter(), (i + block) / rate))
        proc.stdin.close()
        proc.wait()
        reader.join()
    sent = np.array(written)
    waits = []
    for arrived, line in lines:
        k = int(np.searchsorted(sent[:, 1], line["time"]))  # the block holding the beat
        if k < len(sent):
            waits.append(arrived - sent[k, 0])
    online = np.array([line["time"] for _, line in lines])
    offline = analyze_audio(x, sample_rate=rate).beats
    late = online[online >= 5.0]
    agree = match_events(offline, late, 0.07) / max(len(late), 1)
    load_avg = os.getloadavg()
    print(f"{os.path.basename(args.song)} from {args.start:g} s, {len(x) / rate:.0f} s through a "
          f"pipe at real speed; {os.cpu_count()} cores, load {load_avg[0]:.1f}\n")
    print("| beat lines | audio-to-line latency, median (90th percentile) | beats within 70 ms "
          "of the offline tracker's (after 5 s) |\n|---|---|---|")
    print(f"| {len(lines)} | {np.median(waits) * 1000:.0f} ms ({np.percentile(waits, 90) * 1000:.0f} ms) "
          f"| {agree:.0%} |")


def cmd_cost(args) -> None:
    import torch

    from benchmarks.pipeline import best_of, print_rhythm_cost, rhythm_cost
    from m2p.audio.decode import load
    from m2p.model.config import ModelConfig
    from m2p.model.network import Music2Palette

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = Music2Palette(ModelConfig()).eval()  # the shipped sizes; pretrained taggers
    r = rhythm_cost(args.song, net, args.repeats)
    import librosa

    y22 = load(args.song, target_rate=22050)
    lib_beats, _ = best_of(args.repeats, lambda: librosa.beat.beat_track(y=y22, sr=22050))

    def lib_structure():
        chroma = librosa.feature.chroma_cqt(y=y22, sr=22050)
        return librosa.segment.recurrence_matrix(chroma, mode="affinity")

    lib_seg, _ = best_of(args.repeats, lib_structure)
    load_avg = os.getloadavg()
    print(f"{os.path.basename(args.song)}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores (shared, load {load_avg[0]:.1f}), torch threads "
          f"{args.threads}; best of {args.repeats}")
    print_rhythm_cost(r)
    base = r["without"]
    print(f"| librosa.beat.beat_track (22,050 Hz, onset strength included) | {lib_beats:.2f} | {lib_beats / base:.0%} |")
    print(f"| librosa chroma_cqt + recurrence_matrix (section building blocks) | {lib_seg:.2f} | {lib_seg / base:.0%} |")


def cmd_picture(args) -> None:
    """The timeline of a real song with its beats and sections (the shipped model when it
    loads, else a random model of the shipped size, said in the caption)."""
    import m2p

    try:
        track = m2p.palette_track(args.song, device="cpu")
        model = "shipped model"
    except Exception as exc:  # noqa: BLE001 - a checkout without usable shipped weights
        import torch

        from m2p.model.config import ModelConfig
        from m2p.model.network import Music2Palette

        print(f"shipped model not usable here ({type(exc).__name__}); a random one instead")
        torch.manual_seed(0)
        track = m2p.palette_track(args.song, model=Music2Palette(ModelConfig()).eval(), device="cpu")
        model = "random model"
    track.save_png(args.out, width=1400)
    print(f"{args.out}: {model}, {track.rhythm}; sections at "
          + ", ".join(f"{t:.1f}" for t in track.rhythm.sections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="/work/cache")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("renders")
    p.add_argument("--splits", default="test")
    p = sub.add_parser("stretched")
    p.add_argument("--splits", default="test")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--limit", type=int, default=0, help="at most this many recordings (0: all)")
    p = sub.add_parser("sections")
    p.add_argument("--splits", default="val,test")
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("live")
    p.add_argument("--splits", default="test")
    p.add_argument("--games", type=int, default=12)
    p = sub.add_parser("pipe")
    p.add_argument("song")
    p.add_argument("--start", type=float, default=30.0)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--warmup", type=float, default=20.0)
    p.add_argument("--model", default=None)
    p = sub.add_parser("cost")
    p.add_argument("song")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("picture")
    p.add_argument("song")
    p.add_argument("out")
    args = parser.parse_args()
    {"renders": cmd_renders, "stretched": cmd_stretched, "sections": cmd_sections,
     "live": cmd_live, "pipe": cmd_pipe, "cost": cmd_cost, "picture": cmd_picture}[args.command](args)


if __name__ == "__main__":
    main()
