"""m2p match: a library's music ranked for a real photo and a real (ffmpeg-made) video."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import m2p
from m2p.cli import core as cli
from m2p.library.table import read_library
from m2p_plugins.video.matching import footage_palettes
from m2p_plugins.video.media import ffmpeg_exe
from m2p_plugins.video.recolor import read_image
from tests.library_audio import make_library


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    return make_library(tmp_path_factory.mktemp("match"), broken=False)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from matplotlib import cbook

    return read_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def _rows(library: Path) -> list[dict]:
    return sorted(read_library(library).to_pylist(), key=lambda r: r["valence"])


def _dark_grey(image: np.ndarray) -> np.ndarray:
    dark = image.astype(np.float64) * 0.25
    grey = dark.mean(-1, keepdims=True)
    return (grey + 0.2 * (dark - grey)).astype(np.uint8)


def _swatches(hexes: list[str]) -> np.ndarray:
    """A picture made of a palette's colours, in equal stripes."""
    rgb = [[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes]
    return np.repeat(np.asarray(rgb, dtype=np.uint8)[None, :, :], 60, axis=0).repeat(40, axis=1)


def test_dark_desaturated_footage_ranks_low_valence_music_first(library, photo):
    rows = _rows(library)
    low, high = {r["path"] for r in rows[:2]}, {r["path"] for r in rows[2:]}
    assert rows[1]["valence"] < rows[2]["valence"]
    ranked = [m.path for m in m2p.match(_dark_grey(photo), library, top=None)]
    assert set(ranked[:2]) == low and set(ranked[2:]) == high


def test_footage_in_a_tracks_colours_ranks_tracks_of_those_colours_first(library):
    rows = _rows(library)
    # The two happiest songs share warm palettes, the two saddest cool, dark ones.
    for group in (rows[:2], rows[2:]):
        for row in group:
            ranked = m2p.match(_swatches(row["palette"]), library, top=2, emotion_weight=0.0)
            assert {m.path for m in ranked} == {r["path"] for r in group}, row["path"]


def test_colour_emotion_of_frames_follows_the_picture(photo):
    dark = footage_palettes(_dark_grey(photo)).valence_arousal[0]
    warm = footage_palettes(_swatches(["#ffb000", "#ff7040", "#ffe060"])).valence_arousal[0]
    assert dark[0] < warm[0] and dark[1] < warm[1]


@pytest.fixture(scope="module")
def clip(photo, tmp_path_factory) -> Path:
    """A 4 s H.264 video made by ffmpeg from real pictures: 2 s of the dark, grey photo, then
    2 s of the photo as it is."""
    folder = tmp_path_factory.mktemp("clip")
    Image.fromarray(_dark_grey(photo)).save(folder / "a.png")
    Image.fromarray(photo[..., :3]).save(folder / "b.png")
    out = folder / "clip.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-loop", "1", "-t", "2", "-i",
                    str(folder / "a.png"), "-loop", "1", "-t", "2", "-i", str(folder / "b.png"),
                    "-filter_complex", "[0:v][1:v]concat=n=2:v=1,scale=256:-2,format=yuv420p",
                    "-r", "10", "-c:v", "libx264", str(out)], check=True, timeout=120)
    return out


def test_video_frames_are_read_over_time(clip):
    shots = footage_palettes(clip, fps=2.0)
    assert 3.9 < shots.duration < 4.3 and len(shots.times) == int(np.ceil(shots.duration * 2))
    np.testing.assert_allclose(np.diff(shots.times), 0.5)
    assert shots.valence_arousal[:4, 0].mean() < shots.valence_arousal[4:, 0].mean()


def test_match_command_on_a_video_prints_ranked_tracks(clip, library, capsys):
    assert cli.main(["match", str(clip), "--library", str(library), "--json", "--fps", "2"]) == 0
    found = json.loads(capsys.readouterr().out)
    durations = {r["path"]: r["duration"] for r in read_library(library).to_pylist()}
    assert sorted(m["path"] for m in found) == sorted(durations)
    scores = [m["score"] for m in found]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    length = footage_palettes(clip).duration
    for m in found:  # the footage fits inside the 5 s song, offsets on its 1 s hop grid
        assert m["offset"] == int(m["offset"]) and m["offset"] + length <= durations[m["path"]]
    assert cli.main(["match", str(clip), "--library", str(library), "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["rank", "score"] and len(lines) == 3


def test_match_command_on_an_image(library, photo, tmp_path, capsys):
    image = tmp_path / "dark.jpg"
    Image.fromarray(_dark_grey(photo)).save(image)
    assert cli.main(["match", str(image), "--library", str(library), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    lowest = _rows(library)[0]["path"]
    assert found[0]["path"] in {r["path"] for r in _rows(library)[:2]} and len(found) == 4
    assert lowest in [m["path"] for m in found[:2]]


def test_bad_inputs_are_one_line(library, tmp_path, capsys):
    (tmp_path / "noise.mp4").write_bytes(b"not a video")
    assert cli.main(["match", str(tmp_path / "missing.mp4"), "--library", str(library)]) == 1
    assert cli.main(["match", str(tmp_path / "noise.mp4"), "--library", str(library)]) == 1
    assert cli.main(["match", str(tmp_path / "x.png"), "--library", str(tmp_path / "no.parquet")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("m2p: error: ") for line in err)
    assert "missing.mp4" in err[0] and "noise.mp4" in err[1] and "no.parquet" in err[2]


def test_match_names_stay_functions_after_module_imports():
    import m2p_plugins.video.matching  # noqa: F401  (the module behind the names)

    assert callable(m2p.match) and callable(m2p.video.match)
    assert m2p.video.match.__module__ == "m2p_plugins.video.matching"


def test_a_large_library_is_ranked_by_the_fit_a_user_sees(library, photo):
    """The score is the weighted fit of its two parts at any library size, and a track ranks
    as it does in a small library (the hubness corrections were measured to make a hub:
    docs/decisions.md, issue 24)."""
    from m2p_plugins.video.matching import EMOTION_WEIGHT

    rows = read_library(library).to_pylist()
    large = [dict(row, path=f"{row['path']}.copy{i}") for i in range(3) for row in rows]
    ranked = m2p.match(photo, large, top=None)
    assert len(ranked) == 12
    for m in ranked:
        fit = EMOTION_WEIGHT * m.emotion_fit + (1.0 - EMOTION_WEIGHT) * m.palette_fit
        assert m.score == pytest.approx(fit, abs=1e-9)
    small = m2p.match(photo, library, top=None)
    assert [m.path for m in ranked[::3]] == [f"{m.path}.copy0" for m in small]
    assert [m.score for m in ranked[::3]] == pytest.approx([m.score for m in small], abs=1e-12)
