"""Cost of the legibility rule: ``chart_colors`` uncached (the first chart of a palette on a
background) and cached (every later one), on ten palettes, light and dark.

Run: ``python benchmarks/legibility.py`` (compare trees with ``PYTHONPATH=<tree>``: the
numbers in ``docs/performance.md`` ran this script on main before and after issue 24's own-hue
solver, one after the other on the same machine).
"""

from __future__ import annotations

import platform
import timeit
import warnings

from m2p.colour.convert_np import hex_to_lch
from m2p.colour.legibility import _grown, chart_colors, dark_backgrounds
from m2p.palette_types import Palette

PALETTES = [
    ["#1d3557", "#e63946", "#f1faee", "#a8dadc", "#457b9d", "#ffb703"],
    ["#fde2e4", "#fad2e1", "#e2ece9", "#bee1e6", "#f0efeb"],
    ["#0b090a", "#161a1d", "#660708", "#a4161a", "#3d0c02"],
    ["#2a9d8f", "#e9c46a", "#264653"],
    ["#001219", "#005f73", "#0a9396", "#94d2bd", "#e9d8a6", "#ee9b00", "#ca6702", "#ae2012"],
    ["#111111", "#777777", "#eeeeee"],
    ["#3a86ff"],
    ["#7a0a0a", "#e03a2f", "#ff9a8a", "#f5e663", "#1d3557"],
    ["#e82002", "#fa6116", "#f2ad4c"],
    ["#c0392b", "#5d8c1e", "#2c3e50"],
]


def main() -> None:
    palettes = [Palette.from_hex(codes) for codes in PALETTES]
    warnings.simplefilter("ignore")  # 10 and 12 colours warn; this measures time only

    def every_chart() -> None:
        for palette in palettes:
            for background in ("#ffffff", dark_backgrounds(hex_to_lch(palette.hex))[1]):
                chart_colors(palette, background=background)

    def uncached() -> None:
        _grown.cache_clear()
        every_chart()

    first = timeit.timeit(uncached, number=1)
    later = min(timeit.repeat(every_chart, number=100, repeat=3)) / 100
    calls = 2 * len(palettes)
    print(f"# machine: {platform.machine()}, {platform.python_version()}")
    print("| what | value | unit |\n|---|---:|---|")
    print(f"| chart_colors uncached, {calls} calls | {first:.2f} | s ({first / calls * 1000:.0f} ms/call) |")
    print(f"| chart_colors cached, {calls} calls | {later * 1000:.1f} | ms |")


if __name__ == "__main__":
    main()
