"""Time the palette-track pipeline stage by stage, for one or more model folders.

Usage::

    python benchmarks/pipeline.py SONG [--model model] [--model OTHER_DIR ...] [--repeats 3]
                                       [--threads 2] [--hour] [--musicnn]

One run on one real file prints, as a markdown table with ratios to the bare decode:

* the bare ``ffmpeg -i SONG -ac 1 -ar 22050 -f f32le`` decode, as a process (the floor: what
  any pipeline has to pay to hear the song);
* our decode (``m2p.audio.decode.load``, 22,050 Hz mono);
* our features as the engine computes them (each frame once over the stream,
  :mod:`m2p.features.stream`, then the window stage per window), and the per-window path it
  replaced (every window analysed alone);
* encoder, and decoder + alignment, over every window;
* the whole ``m2p.palette_track`` warm, in this process;
* the whole ``m2p track SONG -o JSON`` command as a fresh process (start-up, imports, model
  load included).

Times are the best of ``--repeats`` (wall clock). ``--hour`` also loops the song to one hour
(``ffmpeg -stream_loop``, no re-encode, in a temporary folder) and reports the peak RSS of a
fresh process running ``palette_track`` on it. ``--musicnn`` also times the pretrained musicnn
taggers of ``m2p.model.musicnn`` over the same song (what running them at inference would cost, per
minute of audio), which is why the shipped model distils them instead
(``model/musicnn/README.md``). ``--rhythm`` also prints the cost of the rhythm (issue 26: beats,
downbeats, tempo, sections, found in the same pass from the same decoded blocks):
``run_inference`` with and without it, interleaved in the same run, and its three parts alone
(:func:`rhythm_cost`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bare_ffmpeg(song: str) -> list[str]:
    """The bare decode + mix-down + resample command (output to a pipe we drain)."""
    import imageio_ffmpeg

    return [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-i", song, "-ac", "1", "-ar", "22050", "-f", "f32le", "pipe:1"]


def engine_features(audio: np.ndarray, window_samples: int, hop_samples: int, batch: int = 16):
    """The engine's features of every window: the frame stream fed in 10 s blocks, windows cut
    as they complete, the window stage per batch (as ``PaletteEngine`` does); (n, T, 539)."""
    from m2p.features.frames import feature_extractor
    from m2p.features.stream import FrameStream, edge_segments
    from m2p.inference.windows import Windower

    frames, windower = FrameStream("cpu"), Windower(window_samples, hop_samples, grid=512)
    extractor = feature_extractor("cpu")
    out, pending = [], []

    def run():
        heads, tails = zip(*(edge_segments(samples) for _, samples in pending))
        rows = frames.cut([s - s % 512 for s, _ in pending], 1 + window_samples // 512,
                          torch.from_numpy(np.stack(heads + tails)))
        out.append(extractor.window_features(rows))
        pending.clear()

    for i in range(0, len(audio), 220500):
        block = audio[i:i + 220500]
        frames.push(block)
        for span in windower.feed(block):
            pending.append(span)
            if len(pending) == batch:
                run()
        frames.forget_before(min([s - s % 512 for s, _ in pending] + [windower.buffer_start]))
    if pending:
        run()
    tail = windower.finish()  # analysed alone, like the engine does
    if tail:
        from m2p.features.frames import extract_features

        out.append(extract_features(torch.from_numpy(np.stack([w for _, w in tail]))))
    return torch.cat(out)


def stages(song: str, model_dir: str, repeats: int) -> dict[str, float]:
    import m2p
    from m2p.audio.decode import SAMPLE_RATE, load
    from m2p.colour.assignment import align_palettes
    from m2p.colour.gamut import gamut_map_lch
    from m2p.features.frames import extract_features
    from m2p.inference.windows import window_layout, window_spans
    from m2p.model.weights import load_model

    model = load_model(model_dir)
    model.eval()

    def drain():
        subprocess.run(bare_ffmpeg(song), stdout=subprocess.DEVNULL, check=True)

    t_bare, _ = best_of(repeats, drain)
    t_decode, audio = best_of(repeats, lambda: load(song))
    window_samples, hop_samples = window_layout(10.0, 2.5)
    spans = window_spans(len(audio), window_samples=window_samples, hop_samples=hop_samples)
    waves = torch.from_numpy(np.stack([
        np.pad(audio[a:b], (0, window_samples - (b - a))) for a, b in spans
    ]))
    with torch.inference_mode():
        t_feat, feats = best_of(repeats, lambda: engine_features(audio, window_samples, hop_samples))
        t_alone, _ = best_of(repeats, lambda: torch.cat(
            [extract_features(waves[i: i + 16]) for i in range(0, len(waves), 16)]))
        t_enc, enc = best_of(repeats, lambda: model.encode(feats))
        noise = torch.randn(enc.embedding.shape[-1], generator=torch.Generator().manual_seed(0))
        noisy = dataclasses.replace(enc, embedding=enc.embedding + model.config.noise_scale * noise)

        def decode():
            lch, lengths = model.generate(noisy)
            lch = gamut_map_lch(lch.double()).numpy()
            return align_palettes([lch[i, : int(n)] for i, n in enumerate(lengths)])

        t_dec, _ = best_of(repeats, decode)
    m2p.palette_track(song, model=model)  # warm caches
    t_whole, _ = best_of(repeats, lambda: m2p.palette_track(song, model=model))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "m2p", "track", song, "--model", model_dir, "-q",
               "-o", os.path.join(tmp, "track.json")]
        t_cli, _ = best_of(repeats, lambda: subprocess.run(cmd, check=True))
    return {"bare": t_bare, "decode": t_decode, "features": t_feat, "features_alone": t_alone,
            "encoder": t_enc, "decoder + align": t_dec, "whole": t_whole, "cli": t_cli,
            "windows": len(spans), "audio_s": len(audio) / SAMPLE_RATE}


def hour_peak_rss(song: str, model_dir: str) -> tuple[float, float, float]:
    """(audio seconds, wall seconds, peak RSS in GB) of a fresh process making the palette track
    of the song looped to at least one hour."""
    import imageio_ffmpeg

    from m2p.audio.decode import probe

    loops = int(np.ceil(3600.0 / probe(song).duration))
    with tempfile.TemporaryDirectory() as tmp:
        looped = os.path.join(tmp, "hour" + os.path.splitext(song)[1])
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                        "-stream_loop", str(loops - 1), "-i", song, "-map", "0:a:0", "-c", "copy",
                        looped], check=True)
        code = ("import resource, sys, time, m2p; t0 = time.perf_counter(); "
                "track = m2p.palette_track(sys.argv[1], model=sys.argv[2], device='cpu'); "
                "print(track.duration, time.perf_counter() - t0, "
                "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)")
        out = subprocess.run([sys.executable, "-c", code, looped, model_dir], check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def musicnn_cost(song: str, repeats: int) -> dict[str, float]:
    from m2p.model.musicnn import load_musicnn

    out = {}
    for name in ("MTT_vgg", "MSD_vgg", "MTT_musicnn", "MSD_musicnn"):
        tagger = load_musicnn(name)
        with torch.inference_mode():
            t, _ = best_of(repeats, lambda: tagger.tag_audio(song))
        out[name] = t
    return out


def rhythm_cost(song: str, model, repeats: int) -> dict[str, float]:
    """Seconds of the palette track without and with the rhythm (best of ``repeats``, the two
    interleaved so a change of machine load hits both), and of the rhythm's parts alone: the
    rhythm's own 16 kHz frame stream (resampling, log-mel, chroma: ``MelStream``), the rows
    kept from it (``RhythmFrames.update``) and the analysis (tempo, beats, downbeats,
    sections). ``model``: a loaded ``Music2Palette``."""
    from m2p.audio.decode import load
    from m2p.inference.engine import run_inference
    from m2p.rhythm.analysis import analyze
    from m2p.rhythm.frames import RhythmFrames
    from m2p.rhythm.mel_stream import MelStream

    def track(rhythm: bool):
        return run_inference(song, model=model, device=torch.device("cpu"), seeds=[0],
                             noise_scale=0.0, rhythm=rhythm).track

    track(True)  # warm up
    without, with_rhythm = [], []
    for _ in range(repeats):
        without.append(best_of(1, lambda: track(False))[0])
        with_rhythm.append(best_of(1, lambda: track(True))[0])
    rate = model.input.sample_rate
    samples = load(song, target_rate=rate)

    def frame_stream() -> MelStream:
        music = MelStream(rate)
        music.push(samples)
        music.finish()
        return music

    t_frames, music = best_of(repeats, frame_stream)
    t_keep, _ = best_of(repeats, lambda: RhythmFrames().update(music))
    kept = RhythmFrames()
    kept.update(music)
    t_analysis, made = best_of(repeats, lambda: analyze(kept, len(samples) / rate))
    return {"without": min(without), "with": min(with_rhythm), "frames": t_frames, "keep": t_keep,
            "analysis": t_analysis, "audio_s": len(samples) / rate, "rhythm": made}


def print_rhythm_cost(r: dict) -> None:
    """The ``--rhythm`` table (markdown)."""
    base = r["without"]
    print(f"\nrhythm cost on {r['audio_s']:.1f} s of audio ({r['rhythm']})")
    print("| stage | seconds | share of the palette track |\n|---|---:|---:|")
    print(f"| palette track without the rhythm (`run_inference(rhythm=False)`) | {base:.3f} | 100 % |")
    print(f"| palette track with the rhythm (default) | {r['with']:.3f} | {r['with'] / base:.0%} |")
    print(f"| rhythm: 16 kHz frame stream (resampling, log-mel, chroma) | {r['frames']:.3f} | "
          f"{r['frames'] / base:.1%} |")
    print(f"| rhythm: rows kept from those frames | {r['keep']:.3f} | {r['keep'] / base:.1%} |")
    print(f"| rhythm: analysis (tempo, beats, downbeats, sections) | {r['analysis']:.3f} | "
          f"{r['analysis'] / base:.1%} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("song")
    ap.add_argument("--model", action="append", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--musicnn", action="store_true")
    ap.add_argument("--hour", action="store_true", help="peak RSS for one hour of the song, looped")
    ap.add_argument("--rhythm", action="store_true",
                    help="also the cost of the rhythm (beats, sections) in the palette track")
    ap.add_argument("--random-model", action="store_true",
                    help="with --rhythm: a randomly initialised model of the default size "
                         "(same cost) when no trained one loads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; best of {args.repeats}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    if args.rhythm:
        from m2p.model.config import ModelConfig
        from m2p.model.network import Music2Palette
        from m2p.model.weights import load_model

        torch.manual_seed(0)
        net = Music2Palette(ModelConfig()).eval() if args.random_model else \
            load_model((args.model or ["model"])[0])
        print_rhythm_cost(rhythm_cost(args.song, net, args.repeats))
    for model_dir in args.model or ["model"]:
        r = stages(args.song, model_dir, args.repeats)
        bare = r["bare"]
        print(f"\nmodel {model_dir}: {r['audio_s']:.1f} s of audio, {r['windows']} windows")
        print("| stage | seconds | / bare decode |\n|---|---:|---:|")
        rows = [("bare `ffmpeg -ac 1 -ar 22050 -f f32le` (process)", "bare"),
                ("our decode (`m2p.audio.decode.load`)", "decode"),
                ("our features (frame stream + window stage)", "features"),
                ("features, every window alone (before)", "features_alone"),
                ("encoder", "encoder"), ("decoder + align", "decoder + align"),
                ("`palette_track` (whole, warm)", "whole"), ("`m2p track` (process)", "cli")]
        for label, key in rows:
            print(f"| {label} | {r[key]:.3f} | {r[key] / bare:.2f}x |")
    if args.hour:
        seconds, wall, rss = hour_peak_rss(args.song, (args.model or ["model"])[0])
        print(f"\none hour ({seconds:.0f} s of the song looped): palette_track {wall:.1f} s, "
              f"peak RSS {rss:.2f} GB (fresh process)")
    if args.musicnn:
        from m2p.audio.decode import probe

        minutes = probe(args.song).duration / 60
        print("\n| pretrained tagger (m2p.model.musicnn) | seconds for the song | s per minute of audio |")
        print("|---|---:|---:|")
        for name, t in musicnn_cost(args.song, args.repeats).items():
            print(f"| {name} | {t:.2f} | {t / minutes:.2f} |")


if __name__ == "__main__":
    main()
