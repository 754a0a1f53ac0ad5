"""The value types, their pictures and the swatch exporters need only NumPy: a process that
builds, grows, serialises, renders and exports palettes never imports torch (issue 22)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from m2p.exporters import SWATCH_FORMATS

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
from pathlib import Path

import m2p
from m2p import exporters
from m2p.colour.emotion import EMOTIONS

out = Path(sys.argv[1])
p = m2p.Palette.from_hex(["#1d3557", "#e63946", "#f1faee", "#a8dadc", "#777777"])
q = m2p.Palette([[50.0, 40.0, 30.0], [80.0, 20.0, 200.0], [30.0, 150.0, 300.0]])
grown = p.take(12)
assert len(grown) == 12 and len(p.take(3)) == 3
assert len(q.hex) == 3 and q.dominant_emotion in EMOTIONS
track = m2p.PaletteTrack([0.5, 1.5, 2.5, 3.5], (p, q, grown, p), 1.0, 1.0, 4.0)
assert m2p.PaletteTrack.from_json(track.to_json()) == track
assert m2p.Palette.from_dict(p.to_dict()) == p
track.at(1.2)
p.save_png(out / "palette.png")
track.save_png(out / "track.png")
track.save_json(out / "track.json")
for fmt in exporters.SWATCH_FORMATS:
    exporters.export_palette(grown, out / f"grown.{fmt}")
    exporters.export_palette(track, out / f"sections.{fmt}", sections=2)
groups = [exporters.NamedPalette("p", p), exporters.NamedPalette("q", q)]
exporters.to_css(groups), exporters.to_gpl(groups), exporters.to_ase(groups)
exporters.to_svg(groups), exporters.to_png(groups), exporters.to_json(groups)
(out / "result.json").write_text(json.dumps({
    "grown": list(grown.hex),
    "torch": sorted(name for name in sys.modules if name.split(".")[0] == "torch"),
}))
"""


def test_palettes_are_built_rendered_and_exported_without_torch(tmp_path):
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["torch"] == []
    for name in ("palette.png", "track.png", "track.json"):
        assert (tmp_path / name).stat().st_size > 0
    for fmt in SWATCH_FORMATS:
        assert (tmp_path / f"grown.{fmt}").stat().st_size > 0
        assert (tmp_path / f"sections.{fmt}").stat().st_size > 0
    # The same colours as in this process (which has torch loaded): one code path, no torch in it.
    from m2p.palette_types import Palette

    here = Palette.from_hex(["#1d3557", "#e63946", "#f1faee", "#a8dadc", "#777777"]).take(12)
    assert result["grown"] == list(here.hex)
