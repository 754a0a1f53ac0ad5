"""m2p gallery: a static page of a library, checked in a real headless browser (Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from m2p.cli import core as cli
from m2p.library.table import read_library
from tests.library_audio import make_library

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("gallery")
    library = make_library(folder)
    assert cli.main(["gallery", str(library), "-o", str(folder / "site")]) == 0
    return library, folder / "site" / "index.html"


def _chromium(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", *args, url],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _cards(dom: str) -> list[dict[str, str]]:
    cards = []
    for tag in re.findall(r"<article [^>]*>", dom):
        cards.append(dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) | {"hidden": " hidden" in tag})
    return cards


def test_page_lists_every_track_with_swatches_timeline_and_player(site):
    library, page = site
    text = page.read_text()
    rows = [r for r in read_library(library).to_pylist() if r["status"] == "ok"]
    assert text.count('<article class="card"') == len(rows) == 4
    for row in rows:
        assert all(code in text for code in row["palette"])
    assert text.count('<svg class="timeline"') == 4 and text.count("<audio ") == 4
    assert "1 not analysed" in text and "broken.mp3" in text
    # Audio links are relative, so the site folder can move with the music next to it.
    src = re.search(r'<audio [^>]*src="([^"]+)"', text).group(1)
    assert not src.startswith("/") and (page.parent / src).is_file()


@needs_chromium
def test_page_loads_in_chromium_without_console_errors_sorted_by_the_url(site):
    library, page = site
    result = _chromium("--dump-dom", url=page.as_uri() + "#sort=valence-desc")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "CONSOLE" not in result.stderr, result.stderr  # no errors, no logging at all
    assert 'data-ready="yes"' in result.stdout  # the script ran to its end
    valences = [float(c["data-valence"]) for c in _cards(result.stdout)]
    assert len(valences) == 4 and valences == sorted(valences, reverse=True)
    arousal = _cards(_chromium("--dump-dom", url=page.as_uri() + "#sort=arousal-asc").stdout)
    values = [float(c["data-arousal"]) for c in arousal]
    assert values == sorted(values)


@needs_chromium
def test_mood_filter_hides_the_other_moods(site):
    library, page = site
    moods = [r["mood"] for r in read_library(library).to_pylist() if r["status"] == "ok"]
    mood = moods[0]
    cards = _cards(_chromium("--dump-dom", url=page.as_uri() + f"#mood={mood}").stdout)
    assert sorted(c["data-mood"] for c in cards if not c["hidden"]) == [mood] * moods.count(mood)
    assert all(c["hidden"] for c in cards if c["data-mood"] != mood)


@needs_chromium
def test_screenshot_shows_the_swatches(site, tmp_path):
    library, page = site
    shot = tmp_path / "shot.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1280,900", url=page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours = np.unique(pixels, axis=0).astype(int)
    rows = [r for r in read_library(library).to_pylist() if r["status"] == "ok"]
    swatches = [[int(h[i:i + 2], 16) for i in (1, 3, 5)] for r in rows for h in r["palette"]]
    found = [s for s in swatches if np.any(np.all(np.abs(colours - s) <= 2, axis=1))]
    assert len(found) >= 0.9 * len(swatches), (len(found), len(swatches))


def test_bad_inputs_are_one_line(site, tmp_path, capsys):
    library, _ = site
    (tmp_path / "file").write_text("x")
    assert cli.main(["gallery", str(library), "-o", str(tmp_path / "file")]) == 1
    assert cli.main(["gallery", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "must be a folder" in err[0] and "no such library" in err[1]


def test_table_content_cannot_inject_markup(site):
    from m2p.library.gallery import gallery_html

    library, _ = site
    row = next(r for r in read_library(library).to_pylist() if r["status"] == "ok")
    evil = '"><script>alert(1)</script>'
    text = gallery_html([row | {"palette": [evil], "mood": evil, "path": "/x/" + evil}])
    assert "<script>alert" not in text and "#808080" in text
