"""Make the README pictures: a Matplotlib figure and an Altair chart coloured by a real track.

Usage::

    python docs/make_figures.py                       # shipped weights, bundled example song
    python docs/make_figures.py --model DIR --audio FILE
    python docs/make_figures.py --random-model        # no weights (CI smoke run): a seeded,
                                                      # untrained tiny model, labelled as such
    python docs/make_figures.py --gallery library.parquet   # only docs/img/gallery.png: the
                                                      # page of `m2p gallery` in headless Chromium

Writes ``docs/img/matplotlib_example.png`` and ``docs/img/altair_example.png`` (``--out`` to
change the folder). Runs headless (Agg) and offline (Altair renders with vl-convert).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDIO = ROOT / "examples" / "savino_caribbean_excerpt.ogg"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO, help="audio file")
    parser.add_argument("--model", type=Path, default=None,
                        help="model directory (default: the shipped weights)")
    parser.add_argument("--random-model", action="store_true",
                        help="use a seeded, untrained tiny model when no weights are available")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="output folder")
    parser.add_argument("--window", type=float, default=10.0, help="analysis window, seconds")
    parser.add_argument("--hop", type=float, default=2.5, help="hop between windows, seconds")
    parser.add_argument("--gallery", type=Path, default=None, metavar="PARQUET",
                        help="only screenshot the gallery page of this library table")
    args = parser.parse_args(argv)
    if args.gallery is not None:
        print(f"wrote {gallery_screenshot(args.gallery, args.out / 'gallery.png')}")
        return 0

    import matplotlib

    matplotlib.use("Agg")
    import m2p
    from m2p.errors import M2PError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            model, label = _model(args, Path(tmp))
        except M2PError as exc:
            print(f"error: {exc}\n(use --model DIR, or --random-model for an untrained "
                  f"illustration)", file=sys.stderr)
            return 2
        track = m2p.palette_track(args.audio, model=model, window=args.window, hop=args.hop,
                                  device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    title = f"{args.audio.name}{label}"
    mpl_path = matplotlib_figure(track, args.out / "matplotlib_example.png", title=title)
    alt_path = altair_chart(track, args.out / "altair_example.png", title=title)
    print(f"wrote {mpl_path.relative_to(ROOT) if mpl_path.is_relative_to(ROOT) else mpl_path}")
    print(f"wrote {alt_path.relative_to(ROOT) if alt_path.is_relative_to(ROOT) else alt_path}")
    return 0


def matplotlib_figure(track, path: Path, *, title: str) -> Path:
    """Three panels styled by ``plt.style.context(m2p.style(track))``; returns ``path``."""
    import matplotlib.pyplot as plt
    import numpy as np

    style = _style()
    rc = style(track)
    x = np.linspace(0, 4 * np.pi, 300)
    with plt.style.context(rc):
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
        n = len(rc["axes.prop_cycle"])
        for k in range(n):
            axes[0].plot(x, np.sin(x + k * np.pi / n) * (1 - 0.08 * k), lw=2.2, label=f"voice {k}")
        axes[0].set_title("lines: axes.prop_cycle")
        axes[0].legend(fontsize=7, ncols=2, loc="lower left")
        values = 3 + np.cos(np.arange(n) * 1.7) + np.arange(n) * 0.3
        for k, v in enumerate(values):
            axes[1].bar(k, v)
        axes[1].set_title("bars: the same cycle")
        yy, xx = np.mgrid[-2:2:160j, -3:3:240j]
        im = axes[2].imshow(np.exp(-(xx**2 + yy**2) / 3) + 0.3 * np.sin(2 * xx) * np.cos(3 * yy),
                            origin="lower", aspect="auto")
        fig.colorbar(im, ax=axes[2])
        axes[2].set_title(f"image.cmap: {rc['image.cmap']}")
        fig.suptitle(f"plt.style.use(m2p.style(...)) - {title}")
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return path


def altair_chart(track, path: Path, *, title: str) -> Path:
    """Bar chart + heatmap under ``alt.theme.enable("m2p")``; returns ``path``."""
    import altair as alt
    import numpy as np

    register_theme = _altair().register_theme
    register_theme(track, name="m2p")
    n = len(track.overall)
    bars = [{"voice": f"voice {k}", "value": float(3 + np.cos(k * 1.7) + 0.3 * k)}
            for k in range(n)]
    cells = [{"x": i, "y": j, "z": float(np.sin(i / 3) * np.cos(j / 4) + i / 20)}
             for i in range(24) for j in range(12)]
    bar = alt.Chart(alt.Data(values=bars), title="range.category").mark_bar().encode(
        x=alt.X("voice:N", title=None), y="value:Q", color=alt.Color("voice:N", legend=None),
    ).properties(width=260, height=200)
    heat = alt.Chart(alt.Data(values=cells), title="range.heatmap").mark_rect().encode(
        x=alt.X("x:O", axis=None), y=alt.Y("y:O", axis=None), color=alt.Color("z:Q", title="z"),
    ).properties(width=300, height=200)
    with alt.theme.enable("m2p"):
        chart = alt.hconcat(bar, heat).properties(
            title=f'alt.theme.enable("m2p") - {title}')
        chart.save(str(path), scale_factor=1.5)
    return path


def gallery_screenshot(library: Path, path: Path, *, size: tuple[int, int] = (1280, 860)) -> Path:
    """The page ``m2p gallery`` writes for ``library``, as headless Chromium shows it (sorted by
    valence, high first)."""
    import shutil
    import subprocess

    from m2p.gallery import write_gallery

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is needed for the gallery screenshot (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = write_gallery(library, Path(tmp) / "site", title="held-out music, music2palette")
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={size[0]},{size[1]}", f"--screenshot={path}",
                        page.as_uri() + "#sort=valence-desc"],
                       check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return path


def _model(args: argparse.Namespace, tmp: Path) -> tuple[object, str]:
    from m2p.errors import ModelNotFoundError

    if args.model is not None:
        return args.model, ""
    try:
        from m2p.weights import find_model_dir

        return find_model_dir(), ""
    except ModelNotFoundError:
        if not args.random_model:
            raise
    import torch

    from m2p.network import ModelConfig, Music2Palette
    from m2p.weights import save_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = Music2Palette(ModelConfig.tiny()).eval()
    directory = save_model(net, tmp / "untrained", extra={"note": "untrained, docs smoke run"})
    return directory, " (UNTRAINED random model: illustration only)"


def _style():
    import m2p

    try:
        return m2p.style
    except AttributeError:  # before the lazy export exists
        import m2p.front_doors

        return m2p.front_doors.style


def _altair():
    import m2p

    try:
        return m2p.altair
    except AttributeError:
        import m2p.front_doors

        return m2p.front_doors.altair


if __name__ == "__main__":
    raise SystemExit(main())
