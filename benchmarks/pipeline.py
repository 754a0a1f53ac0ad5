"""Time the palette-track pipeline stage by stage, for one or more model folders.

Usage::

    python benchmarks/pipeline.py SONG [--model model] [--model OTHER_DIR ...] [--repeats 3]
                                       [--threads 2] [--musicnn]

For each model: decode (``m2p.audio.load``, 22,050 Hz mono), features, encoder, decoder and
alignment of every window, and the whole ``m2p.palette_track`` warm (best of ``--repeats``), with
each stage's share of the stage sum. ``--musicnn`` also times the pretrained musicnn taggers of
``m2p.musicnn`` over the same song (what running them at inference would cost, per minute of
audio), which is why the shipped model distils them instead (``model/musicnn/README.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
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


def stages(song: str, model_dir: str, repeats: int) -> dict[str, float]:
    import m2p
    from m2p.audio import SAMPLE_RATE, load
    from m2p.colour import gamut_map_lch
    from m2p.features import extract_features
    from m2p.inference import DEFAULT_HOP, DEFAULT_WINDOW, align_palettes, window_spans
    from m2p.weights import load_model

    model = load_model(model_dir)
    model.eval()
    t_decode, audio = best_of(repeats, lambda: load(song))
    spans = window_spans(len(audio), window_samples=int(DEFAULT_WINDOW * SAMPLE_RATE),
                         hop_samples=int(DEFAULT_HOP * SAMPLE_RATE))
    waves = torch.from_numpy(np.stack([
        np.pad(audio[a:b], (0, int(DEFAULT_WINDOW * SAMPLE_RATE) - (b - a))) for a, b in spans
    ]))
    with torch.inference_mode():
        t_feat, feats = best_of(repeats, lambda: torch.cat(
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
    return {"decode": t_decode, "features": t_feat, "encoder": t_enc, "decoder + align": t_dec,
            "palette_track (whole, warm)": t_whole, "windows": len(spans),
            "audio_s": len(audio) / SAMPLE_RATE}


def musicnn_cost(song: str, repeats: int) -> dict[str, float]:
    from m2p.musicnn import load_musicnn

    out = {}
    for name in ("MTT_vgg", "MSD_vgg", "MTT_musicnn", "MSD_musicnn"):
        tagger = load_musicnn(name)
        with torch.inference_mode():
            t, _ = best_of(repeats, lambda: tagger.tag_audio(song))
        out[name] = t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("song")
    ap.add_argument("--model", action="append", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--musicnn", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; best of {args.repeats}")
    for model_dir in args.model or ["model"]:
        r = stages(args.song, model_dir, args.repeats)
        parts = ["decode", "features", "encoder", "decoder + align"]
        total = sum(r[p] for p in parts)
        print(f"\nmodel {model_dir}: {r['audio_s']:.1f} s of audio, {r['windows']} windows")
        print("| stage | seconds | share of stages |\n|---|---:|---:|")
        for p in parts:
            print(f"| {p} | {r[p]:.3f} | {100 * r[p] / total:.0f} % |")
        print(f"| palette_track (whole, warm) | {r['palette_track (whole, warm)']:.3f} | |")
    if args.musicnn:
        from m2p.audio import probe

        minutes = probe(args.song).duration / 60
        print("\n| pretrained tagger (m2p.musicnn) | seconds for the song | s per minute of audio |")
        print("|---|---:|---:|")
        for name, t in musicnn_cost(args.song, args.repeats).items():
            print(f"| {name} | {t:.2f} | {t / minutes:.2f} |")


if __name__ == "__main__":
    main()
