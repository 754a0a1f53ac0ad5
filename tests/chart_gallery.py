"""8-series line charts coloured by a palette, in Matplotlib, Altair, Plotly and Bokeh.

One function per library builds the chart a user would build from the README (the adapter's
defaults, light or dark), and :func:`drawn_colours` reads back, from the chart object itself,
the series colours and the background they land on. ``tests/test_legibility.py`` checks those
colours for 16 real songs; ``docs/make_figures.py --figures legible`` renders the same charts
for four songs into ``docs/img/legible_<library>.png`` (:func:`render`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SERIES = 8
LIBRARIES = ("matplotlib", "altair", "plotly", "bokeh")
DATA = Path(__file__).with_name("data") / "real_palettes.json"
#: Four contrasting songs for the pictures (by name in ``DATA``).
PICTURE_SONGS = ("sad", "frantic", "battle-epic", "Rock")


def songs() -> list[dict[str, Any]]:
    """The 16 real songs of ``tests/data/real_palettes.json`` (name, palette, track)."""
    return json.loads(DATA.read_text())["songs"]


def series(points: int = 30) -> np.ndarray:
    """(SERIES, points) smooth, crossing lines (deterministic)."""
    x = np.linspace(0.0, 1.0, points)
    return np.stack([np.sin(2.0 * np.pi * (x + k / SERIES)) * (1.0 + 0.15 * k) + 0.4 * k
                     for k in range(SERIES)])


def chart(library: str, palette: Any, *, dark: bool) -> Any:
    """The 8-series line chart of ``library`` with the adapter's default look."""
    return {"matplotlib": _matplotlib, "altair": _altair, "plotly": _plotly,
            "bokeh": _bokeh}[library](palette, dark)


def drawn_colours(library: str, figure: Any) -> tuple[list[str], str]:
    """The series colours (hex, in series order) and the plot background of a chart."""
    from matplotlib.colors import to_hex

    if library == "matplotlib":
        ax = figure.axes[0]
        return [to_hex(line.get_color()) for line in ax.lines], to_hex(ax.get_facecolor())
    if library == "altair":
        spec = figure.to_dict()
        config = spec.get("config", {})
        category = config["range"]["category"]
        return list(category[:SERIES]), config.get("view", {}).get("fill", "#ffffff")
    if library == "plotly":
        colours = [trace.line.color for trace in figure.data]
        return colours, figure.layout.template.layout.plot_bgcolor or "#ffffff"
    if library == "bokeh":
        plot, theme = figure
        lines = [r.glyph.line_color for r in plot.renderers]
        background = theme._json["attrs"]["Plot"]["background_fill_color"]
        return lines, background
    raise ValueError(library)


def render(library: str, palette_sets: list[tuple[str, Any]], path: Path, *,
           width: int = 420, height: int = 260) -> None:
    """A picture of the charts: a column per song, light above dark, each chart rendered by
    its own library (Plotly through kaleido, Bokeh through a headless Chromium screenshot)."""
    from PIL import Image, ImageDraw

    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for row, dark in enumerate((False, True)):
            for col, (name, palette) in enumerate(palette_sets):
                out = Path(tmp) / f"{row}_{col}.png"
                _render_one(library, chart(library, palette, dark=dark), out, width, height)
                tiles.append((row, col, name, Image.open(out).convert("RGB").resize((width, height))))
    label = 24
    sheet = Image.new("RGB", (width * len(palette_sets), 2 * height + label), "white")
    draw = ImageDraw.Draw(sheet)
    for row, col, name, tile in tiles:
        sheet.paste(tile, (col * width, label + row * height))
        if row == 0:
            draw.text((col * width + 8, 5), f"{library}: {name}", fill="#222222")
    sheet.save(path, optimize=True)


# ----------------------------------------------------------------------------------------------


def _matplotlib(palette: Any, dark: bool) -> Any:
    import matplotlib.pyplot as plt

    import m2p

    with plt.style.context(m2p.style(palette, dark=dark)):
        fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=100)
        for k, y in enumerate(series()):
            ax.plot(y, lw=2, label=f"s{k + 1}")
        ax.set_title("8 series", fontsize=9)
        fig.tight_layout()
    return fig


def _altair(palette: Any, dark: bool) -> Any:
    import altair as alt
    import pandas as pd

    import m2p

    values = series()
    frame = pd.DataFrame([{"x": i, "y": float(v), "series": f"s{k + 1}"}
                          for k, row in enumerate(values) for i, v in enumerate(row)])
    config = m2p.altair.theme_config(palette, dark=dark)["config"]
    chart = alt.Chart(frame, width=320, height=190, title="8 series").mark_line(
        strokeWidth=2).encode(x="x:Q", y="y:Q", color="series:N")
    return chart.configure(**config)


def _plotly(palette: Any, dark: bool) -> Any:
    import plotly.express as px

    import m2p

    values = series()
    data = {"x": np.tile(np.arange(values.shape[1]), SERIES), "y": values.ravel(),
            "series": np.repeat([f"s{k + 1}" for k in range(SERIES)], values.shape[1])}
    template = m2p.plotly.template(palette, dark=dark)
    fig = px.line(data, x="x", y="y", color="series", template=template, title="8 series")
    fig.update_traces(line_width=2)
    return fig


def _bokeh(palette: Any, dark: bool) -> Any:
    from bokeh.plotting import figure

    import m2p

    theme = m2p.bokeh.theme(palette, dark=dark)
    colours = m2p.bokeh.palette(palette, dark=dark)
    plot = figure(width=420, height=260, title="8 series", toolbar_location=None)
    values = series()
    for k, y in enumerate(values):
        plot.line(np.arange(len(y)), y, line_color=colours[k % len(colours)], line_width=2)
    return plot, theme


def _render_one(library: str, figure: Any, out: Path, width: int, height: int) -> None:
    if library == "matplotlib":
        figure.savefig(out, facecolor=figure.get_facecolor())
        import matplotlib.pyplot as plt

        plt.close(figure)
    elif library == "altair":
        figure.save(str(out), scale_factor=1.0)
    elif library == "plotly":
        figure.update_layout(width=width, height=height, margin=dict(l=40, r=10, t=40, b=30))
        try:
            figure.write_image(str(out))
        except (ImportError, ValueError, RuntimeError):  # no kaleido: the page in Chromium
            html = out.with_suffix(".html")
            figure.write_html(str(html), include_plotlyjs=True, full_html=True,
                              config={"displayModeBar": False})
            _screenshot(html, out, width, height)
    elif library == "bokeh":
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        plot, theme = figure
        html = out.with_suffix(".html")
        html.write_text(file_html(plot, INLINE, "chart", theme=theme))
        _screenshot(html, out, width, height)


def _screenshot(html: Path, out: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("chart pictures need a headless Chromium (apt-get install chromium)")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={out}", html.as_uri()],
                   check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
