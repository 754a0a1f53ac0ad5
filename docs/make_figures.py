"""Make the README pictures: a Matplotlib figure, an Altair chart and a swatch export of a real track.

Usage::

    python docs/make_figures.py                       # shipped weights, bundled example song
    python docs/make_figures.py --model DIR --audio FILE
    python docs/make_figures.py --random-model        # no weights (CI smoke run): a seeded,
                                                      # untrained tiny model, labelled as such
    python docs/make_figures.py --gallery library.parquet   # only docs/img/gallery.png: the
                                                      # page of `m2p gallery` in headless Chromium

Writes ``docs/img/matplotlib_example.png``, ``docs/img/altair_example.png``,
``docs/img/export_sections.png``, ``docs/img/distinct_colours.png``, ``docs/img/race_dark.png``
(a bar-chart race frame mid-overtake, dark theme, date labels) and
``docs/img/shadows_and_neutrals.png`` (a real photo, its recolouring and the default ``.cube``
look) (``--out`` to change the folder; ``--figures race shadows`` makes only those). Runs
headless (Agg) and offline (Altair renders with vl-convert).
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
    parser.add_argument("--figures", nargs="+", choices=[*FIGURES, "legible"],
                        default=list(FIGURES),
                        help="which pictures to make (default: all)")
    parser.add_argument("--gallery", type=Path, default=None, metavar="PARQUET",
                        help="only screenshot the gallery page of this library table")
    args = parser.parse_args(argv)
    if args.gallery is not None:
        print(f"wrote {gallery_screenshot(args.gallery, args.out / 'gallery.png')}")
        return 0
    if "legible" in args.figures:  # real songs' palettes from tests/data: no model run
        for path in legible_charts(args.out):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        args.figures = [name for name in args.figures if name != "legible"]
        if not args.figures:
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
    for name in args.figures:
        maker, file_name = FIGURES[name]
        path = maker(track, args.out / file_name, title=title)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
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


def distinct_figure(palette, path: Path, *, title: str, n: int = 10) -> Path:
    """Swatches of the palette and of ``palette.take(n)``, as seen in normal vision and under
    simulated deuteranopia and protanopia, each row with its closest pair; returns ``path``."""
    import matplotlib.pyplot as plt
    import numpy as np

    from m2p.colour.vision import pairwise_distances, simulate_cvd

    taken = palette.take(n)
    rows = [(f"palette ({len(palette)})", palette, vision) for vision in
            ("normal", "deuteranopia")]
    rows += [(f"palette.take({n})", taken, vision) for vision in
             ("normal", "deuteranopia", "protanopia")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 0.75 * len(rows) + 0.6),
                             layout="constrained")
    for ax, (label, pal, vision) in zip(axes, rows):
        rgb = simulate_cvd(pal.rgb, vision)
        dist = pairwise_distances(pal.rgb, vision=vision)
        closest = dist[~np.eye(len(rgb), dtype=bool)].min()
        ax.imshow(rgb[None, :, :], aspect="auto", extent=(0, len(rgb), 0, 1))
        ax.set_xlim(0, n)
        ax.set_axis_off()
        ax.set_title(f"{label}, {vision}: closest pair {closest:.1f} CIEDE2000", fontsize=9,
                     loc="left")
    fig.suptitle(f"Distinct colours, also for colour-blind readers (Machado 2009) - {title}",
                 fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def export_sheet(track, path: Path, *, title: str) -> Path:
    """``m2p export --format png --sections``: one row of swatches per section; returns ``path``."""
    from m2p.exporters import export_palette

    del title  # the sheet names its rows itself (file stem and section times)
    return export_palette(track, path, sections="auto")
def race_frame(track, path: Path, *, title: str) -> Path:
    """One frame of a dark-theme bar-chart race with monthly dates, mid-overtake."""
    import numpy as np
    from PIL import Image

    from m2p_plugins.video.race import BarChartRace, RaceData

    rng = np.random.default_rng(7)
    months = [f"2015-{m:02d}-01 00:00:00" for m in range(1, 13)]
    values = np.cumsum(rng.uniform(0, 10, (len(months), 8)), axis=0)
    names = ["Oslo", "Lima", "Kyoto", "Accra", "Quito", "Perth", "Turin", "Hanoi"]
    data = RaceData(tuple(months), tuple(names), values)
    duration = min(track.duration, 11.0)
    race = BarChartRace(data, duration, lambda t: track.at(min(t, track.duration)).rgb,
                        n_bars=6, size=(960, 540), title=f"m2p race --theme dark - {title}",
                        theme="dark")
    # The first moment after 40 % of the race where two bars share part of a row.
    times = np.linspace(0.4 * duration, duration, 200)
    moment = next((t for t in times if _overtaking(race, t)), times[0])
    Image.fromarray(race.frame(float(moment))).save(path, optimize=True)
    race.close()
    return path


def _overtaking(race, t: float) -> bool:
    import numpy as np

    ranks = race._swaps.ranks(float(t))  # fractional rows: an overtake lies between two
    shown = ranks[ranks < race.n_bars - 0.5]
    gaps = np.abs(shown[:, None] - shown[None, :])[np.triu_indices(shown.size, 1)]
    return bool(((gaps > 0.3) & (gaps < 0.7)).any())


def shadows_and_neutrals(track, path: Path, *, title: str) -> Path:
    """The test photo, recoloured to the track, and under the default ``.cube`` look."""
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from m2p_plugins.video.lut import apply_lut
    from m2p_plugins.video.recolor import grade_lut

    photo = np.asarray(Image.open(ROOT / "tests" / "data" / "bowl_by_freespace.jpg")
                       .convert("RGB"))
    palette = track.overall
    panels = [("photo (CC-BY-4.0, freespace)", photo),
              ("m2p recolor (strength 0.6)", apply_lut(photo, grade_lut(palette,
                                                                        reference=photo))),
              ("default .cube (m2p export)", apply_lut(photo, grade_lut(palette)))]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
    for ax, (name, image) in zip(axes, panels):
        ax.imshow(image)
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    fig.suptitle(f"greys stay grey (one tint), shadows stay black - palette of {title}: "
                 + " ".join(palette.hex), fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def legible_charts(out: Path) -> list[Path]:
    """``docs/img/legible_<library>.png``: 8-series line charts for four contrasting real songs,
    light above dark, in Matplotlib, Altair, Plotly and Bokeh with each adapter's defaults; the
    charts are built by ``tests/chart_gallery.py``, the code ``tests/test_legibility.py``
    checks them with."""
    sys.path.insert(0, str(ROOT / "tests"))
    import chart_gallery

    import m2p

    songs = {song["name"]: song for song in chart_gallery.songs()}
    sets = [(name, m2p.Palette.from_hex(songs[name]["palette"]))
            for name in chart_gallery.PICTURE_SONGS]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for library in chart_gallery.LIBRARIES:
        path = out / f"legible_{library}.png"
        chart_gallery.render(library, sets, path)
        paths.append(path)
    return paths


FIGURES = {
    "matplotlib": (matplotlib_figure, "matplotlib_example.png"),
    "altair": (altair_chart, "altair_example.png"),
    "export": (export_sheet, "export_sections.png"),
    "distinct": (lambda track, path, *, title: distinct_figure(track.overall, path, title=title),
                 "distinct_colours.png"),
    "race": (race_frame, "race_dark.png"),
    "shadows": (shadows_and_neutrals, "shadows_and_neutrals.png"),
}
"""``--figures`` names: (function(track, path, title=...), file name); ``legible`` is
:func:`legible_charts` (four songs of ``tests/data/real_palettes.json``, no model run)."""


def gallery_screenshot(library: Path, path: Path, *, size: tuple[int, int] = (1280, 860)) -> Path:
    """The page ``m2p gallery`` writes for ``library``, as headless Chromium shows it (sorted by
    valence, high first)."""
    import shutil
    import subprocess

    from m2p.library.gallery import write_gallery

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
        from m2p.model.weights import find_model_dir

        return find_model_dir(), ""
    except ModelNotFoundError:
        if not args.random_model:
            raise
    import torch

    from m2p.model.config import ModelConfig
    from m2p.model.network import Music2Palette
    from m2p.model.weights import save_model

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
        import m2p.hooks.front_doors

        return m2p.hooks.front_doors.style


def _altair():
    import m2p

    try:
        return m2p.altair
    except AttributeError:
        import m2p.hooks.front_doors

        return m2p.hooks.front_doors.altair


if __name__ == "__main__":
    raise SystemExit(main())
