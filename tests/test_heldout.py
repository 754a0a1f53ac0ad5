"""Fast tests of the held-out real-music evaluation's pure parts (training/heldout/).

No trained model runs here; the tiny random model only checks the plumbing of the outputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from training import heldout as H


def test_auc_with_ties_matches_hand_count():
    # Pairs (pos, neg): 3>1, 3>2, 3=3 (0.5); 2>1, 2=2 (0.5), 2<3; 1=1 (0.5), 1<2, 1<3
    # wins = 2 + 1 + 0 = 3, ties = 3 -> (3 + 1.5) / 9 = 0.5
    assert H.auc([3, 2, 1], [1, 2, 3]) == pytest.approx(0.5)
    # pos [2, 2] vs neg [1, 2]: 2>1 twice, 2=2 twice -> (2 + 1) / 4
    assert H.auc([2, 2], [1, 2]) == pytest.approx(0.75)
    assert H.auc([5, 6], [1, 2, 3]) == 1.0
    assert H.auc([1], [2]) == 0.0
    assert math.isnan(H.auc([], [1.0]))


def test_auc_agrees_with_mann_whitney_u():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(0)
    p = rng.integers(0, 5, 11).astype(float)
    n = rng.integers(0, 5, 7).astype(float)
    u = mannwhitneyu(p, n, alternative="two-sided").statistic
    assert H.auc(p, n) == pytest.approx(u / (len(p) * len(n)))


def test_spearman():
    assert H.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert H.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(H.spearman([1, 2], [1, 2]))
    assert math.isnan(H.spearman([1, 1, 1], [1, 2, 3]))
    # NaN pairs are dropped
    assert H.spearman([1, 2, np.nan, 3], [1, 2, 5, 3]) == pytest.approx(1.0)


def test_valdez_mehrabian_on_known_colours():
    from m2p.colour.emotion import REFERENCE_C_MEAN, REFERENCE_C_STD, REFERENCE_L_MEAN, REFERENCE_L_STD

    # The reference mean colour is neutral on both scales.
    p, a = H.valdez_mehrabian(np.array([[REFERENCE_L_MEAN, REFERENCE_C_MEAN, 123.0]]))
    assert p == pytest.approx(0.0, abs=1e-12) and a == pytest.approx(0.0, abs=1e-12)
    # One standard deviation lighter: pleasure +0.69, arousal -0.31 (their brightness terms).
    p, a = H.valdez_mehrabian(np.array([[REFERENCE_L_MEAN + REFERENCE_L_STD, REFERENCE_C_MEAN, 0.0]]))
    assert (p, a) == (pytest.approx(0.69), pytest.approx(-0.31))
    # One standard deviation more saturated: pleasure +0.22, arousal +0.60.
    p, a = H.valdez_mehrabian(np.array([[REFERENCE_L_MEAN, REFERENCE_C_MEAN + REFERENCE_C_STD, 270.0]]))
    assert (p, a) == (pytest.approx(0.22), pytest.approx(0.60))
    # A palette averages its colours; hue plays no part.
    two = np.array([[REFERENCE_L_MEAN + REFERENCE_L_STD, REFERENCE_C_MEAN, 10.0],
                    [REFERENCE_L_MEAN, REFERENCE_C_MEAN + REFERENCE_C_STD, 200.0]])
    p, a = H.valdez_mehrabian(two)
    assert (p, a) == (pytest.approx((0.69 + 0.22) / 2), pytest.approx((-0.31 + 0.60) / 2))
    # Pure sRGB white (L 100, C 0).
    p, a = H.valdez_mehrabian(np.array([[100.0, 0.0, 0.0]]))
    zl, zc = (100 - REFERENCE_L_MEAN) / REFERENCE_L_STD, -REFERENCE_C_MEAN / REFERENCE_C_STD
    assert p == pytest.approx(0.69 * zl + 0.22 * zc) and a == pytest.approx(-0.31 * zl + 0.60 * zc)


def test_hue_bin_coverage_on_constructed_palettes():
    # 40 chromatic colours: 20 at 15 deg (bin 0), 10 at 100 deg (bin 3), 9 at 250 deg (bin 8),
    # 1 at 340 deg (bin 11: 2.5 % < 3 %); greys never count.
    red = [[50, 60, 15.0]] * 20
    yellow = [[80, 70, 100.0]] * 10
    blue = [[40, 50, 250.0]] * 9
    pink = [[60, 40, 340.0]]
    grey = [[50, 5, 200.0]] * 30
    palettes = [np.array(red + grey[:10]), np.array(yellow + blue), np.array(pink + grey[10:])]
    assert H.hue_bin_coverage(palettes) == 3
    assert H.hue_bin_coverage(palettes, min_share=0.02) == 4
    assert H.hue_bin_coverage([np.array(grey)]) == 0
    hist = H.hue_histogram(np.vstack(palettes))
    assert hist.sum() == 40 and hist[0] == 20 and hist[3] == 10 and hist[8] == 9 and hist[11] == 1
    # Boundary: 360 wraps to bin 0, 359.9 is bin 11.
    assert H.hue_histogram(np.array([[50, 30, 360.0], [50, 30, 359.9]]))[[0, 11]].tolist() == [1, 1]


def test_hue_shares_per_palette_mean():
    a = np.array([[50, 40, 250.0], [50, 40, 20.0], [50, 5, 90.0]])   # blue, red (+ a grey)
    b = np.array([[50, 40, 90.0], [50, 40, 90.0]])                    # yellow only
    c = np.array([[50, 3, 90.0]])                                     # no chromatic colour
    s = H.hue_shares([a, b, c])
    assert s["n"] == 3 and s["n_chromatic"] == 2
    assert s["blue_purple"] == pytest.approx(0.25)
    assert s["red"] == pytest.approx(0.25)
    assert s["yellow"] == pytest.approx(0.5)
    assert sum(s["histogram"]) == pytest.approx(1.0)
    # 330-360 counts as red too; 320 is not blue-purple ([200, 320)).
    s2 = H.hue_shares([np.array([[50, 40, 335.0], [50, 40, 320.0]])])
    assert s2["red"] == pytest.approx(0.5) and s2["blue_purple"] == 0.0


def test_distances_lengths_and_steadiness():
    a = np.array([[50, 40, 20.0], [70, 30, 200.0], [30, 10, 90.0]])
    assert H.mean_pairwise_distance([a, a[::-1].copy()]) == pytest.approx(0.0, abs=1e-9)
    b = a.copy()
    b[:, 0] += 10
    assert H.mean_pairwise_distance([a, b, a]) > 0
    lens = H.length_histogram([np.zeros((3, 3)), np.zeros((5, 3)), np.zeros((5, 3)), np.zeros((9, 3))])
    assert lens["3"] == 0.25 and lens["5"] == 0.5 and lens["other"] == 0.25 and lens["mean"] == 5.5
    st = H.steadiness([b, a, a, a, b])  # the edge windows (b) are left out
    assert st["pairs"] == 2 and st["max"] == pytest.approx(0.0, abs=1e-9)
    st = H.steadiness([a, a, b, a, a])
    assert st["pairs"] == 2 and st["max"] > 0 and st["mean"] == pytest.approx(st["max"])


def test_groups_are_well_formed():
    assert set(H.GROUPS) == {"arousal_high", "arousal_low", "valence_positive", "valence_negative"}
    for by_pkg in H.GROUPS.values():
        assert set(by_pkg) <= set(H.HELDOUT_PACKAGES)
    def members(g):
        return {(p, s) for p, stems in H.GROUPS[g].items() for s in stems}
    # Opposite ends never share a file.
    assert not members("arousal_high") & members("arousal_low")
    assert not members("valence_positive") & members("valence_negative")
    assert len(members("arousal_high")) == 14 and len(members("arousal_low")) == 13
    assert len(members("valence_positive")) == 11 and len(members("valence_negative")) == 11


def test_resolve_groups_and_picture_selection():
    keys = ["wesnoth-1.16-music/battle", "wesnoth-1.16-music/sad", "flare-game/town_theme",
            "wesnoth-1.16-music/zzz_other", "extremetuxracer-data/aaa_other"]
    resolved, missing = H.resolve_groups(keys)
    assert resolved["arousal_high"] == ["wesnoth-1.16-music/battle"]
    assert resolved["arousal_low"] == ["flare-game/town_theme", "wesnoth-1.16-music/sad"]
    assert resolved["valence_positive"] == ["flare-game/town_theme"]
    assert "wesnoth-1.16-music/victory" in missing and "wesnoth-1.16-music/battle" not in missing
    sel = H.picture_selection(keys, resolved, n=4)
    # Grouped files first, by stem; then the others by stem.
    assert sel == ["wesnoth-1.16-music/battle", "wesnoth-1.16-music/sad", "flare-game/town_theme",
                   "extremetuxracer-data/aaa_other"]




@pytest.mark.skipif(not any(H.package_music_dir(p) for p in H.HELDOUT_PACKAGES),
                    reason="held-out packages are not unpacked here")
def test_group_table_resolves_the_stems_present():
    files, missing_pkgs = H.find_heldout_files()
    keys = [f.key for f in files]
    assert all(f.duration >= H.MIN_SECONDS for f in files)
    assert "wesnoth-1.16-music/silence" not in keys
    resolved, missing = H.resolve_groups(keys)
    present_pkgs = set(H.HELDOUT_PACKAGES) - set(missing_pkgs)
    # Every group stem of a package that is present names a real file (no typo in GROUPS).
    assert [m for m in missing if m.split("/")[0] in present_pkgs] == []
    if not missing_pkgs:
        assert len(files) >= 55
        assert len(resolved["arousal_high"]) == 14 and len(resolved["valence_negative"]) == 11


def test_find_files_uses_the_fallback_root(tmp_path: Path):
    import soundfile as sf

    music = tmp_path / "fallback" / H.HELDOUT_PACKAGES["wesnoth-1.16-music"]
    music.mkdir(parents=True)
    sr = 8000
    sf.write(music / "battle.ogg", np.zeros(sr * 4, np.float32), sr)
    sf.write(music / "silence.ogg", np.zeros(sr * 4, np.float32), sr)
    sf.write(music / "short.ogg", np.zeros(sr * 2, np.float32), sr)
    files, missing = H.find_heldout_files(tmp_path / "empty", ["wesnoth-1.16-music", "flare-game"],
                                          fallbacks={"wesnoth-1.16-music": (tmp_path / "fallback",)})
    assert [f.key for f in files] == ["wesnoth-1.16-music/battle"]
    assert missing == ["flare-game"]
    with pytest.raises(ValueError):
        H.find_heldout_files(tmp_path, ["warzone2100-music"])


def _fake_results() -> dict:
    files = {}
    rng = np.random.default_rng(1)
    keys = []
    for g, by_pkg in H.GROUPS.items():
        for pkg, stems in by_pkg.items():
            for s in stems:
                keys.append(f"{pkg}/{s}")
    keys = sorted(set(keys))
    for k in keys:
        pkg, stem = k.split("/")
        lch = np.column_stack([rng.uniform(20, 90, 5), rng.uniform(0, 80, 5), rng.uniform(0, 360, 5)])
        from m2p.colour.gamut import lch_to_hex
        files[k] = {"package": pkg, "stem": stem, "groups": [g for g, bp in H.GROUPS.items()
                                                              if stem in bp.get(pkg, ())],
                    "music_va": rng.uniform(-1, 1, 2).tolist(), "palette_va": rng.uniform(-1, 1, 2).tolist(),
                    "vm_pa": list(H.valdez_mehrabian(lch)), "vibenet": rng.uniform(0, 1, 2).tolist(),
                    "musicnn_va": rng.normal(size=2).tolist(), "hex": lch_to_hex(lch), "lch": lch.tolist()}
    return files


def test_mood_ordering_teacher_agreement_and_markdown():
    files = _fake_results()
    keys = sorted(files)
    groups, _ = H.resolve_groups(keys)
    # Make the music head order arousal perfectly.
    for k in groups["arousal_high"]:
        files[k]["music_va"][1] = 0.9
    for k in groups["arousal_low"]:
        files[k]["music_va"][1] = -0.9
    mo = H.mood_ordering(files, groups)
    assert mo["music"]["arousal"] == 1.0
    assert 0.0 <= mo["palette"]["valence"] <= 1.0
    assert mo["music"]["n"]["arousal"] == [14, 13]
    ag = H.teacher_agreement(files, keys)
    assert ag["music_va~vibenet"]["n"] == len(keys)
    assert -1.0 <= ag["music_va~vibenet"]["valence"] <= 1.0
    res = {
        "model": "fake", "evaluated_utc": "now", "quick": False, "packages": list(H.HELDOUT_PACKAGES),
        "missing_packages": [], "missing_group_stems": [], "n_files": len(keys), "audio_minutes": 1.0,
        "groups": groups, "mood_ordering": {"all": mo}, "hue_shares": {"all": H.hue_shares(
            [np.asarray(files[k]["lch"]) for k in keys])},
        "teacher_agreement": {"all": ag},
        "variety": {"hue_bins_covered": 12, "between_songs_distance": 30.0, "songs": len(keys),
                    "lengths": H.length_histogram([np.zeros((5, 3))]),
                    "corpus_matched_distance": 35.0, "distance_ratio": 30 / 35,
                    "corpus_matched_distinct": 20, "corpus_matched_hue_bins_covered": 11,
                    "corpus_lengths": H.length_histogram([np.zeros((4, 3))]), "corpus_palettes": 1},
        "alternatives": {"files": 16, "noise_scale": 0.5, "multimodality": 2.0,
                         "distance_to_noise_free": 1.0, "es_alternatives": 0.8, "es_noise_free": 0.82,
                         "es_delta": -0.02, "deterministic_palette": True, "deterministic_palettes": True},
        "steadiness": {"file": "x/y", "excerpt": [30.0, 40.0], "seconds": 120.0, "windows": 45,
                       "pairs": 42, "max": 3.0, "mean": 1.0},
        "picture_songs": keys[:16], "timings": {"total_s": 1.0}, "files": files,
    }
    md = H.results_markdown(res)
    assert "AUC arousal" in md and "Valdez & Mehrabian" in md and "battle_theme" in md
    assert "| all | music emotion head" in md
    json.dumps(res)
    assert any("AUC" in line for line in H.summary_lines(res))
    assert "*Note:* trained on x" in H.results_markdown(res, note="trained on x")


def test_contact_sheet_writes_a_png(tmp_path: Path):
    from PIL import Image

    files = _fake_results()
    keys = sorted(files)[:16]
    res = {"model": "fake", "picture_songs": keys, "files": files}
    out = tmp_path / "sheet.png"
    H.contact_sheet(res, out)
    img = Image.open(out)
    assert img.size[1] > 16 * 40


def test_emotion_similarity_va_is_cosine():
    import torch

    from m2p.colour.emotion import palette_emotion, va_to_emotion

    lch = np.array([[80, 60, 90.0], [70, 50, 60.0]])
    va = np.array([0.6, 0.3])
    es = H.emotion_similarity_va(va, lch)
    a = va_to_emotion(torch.as_tensor(va)).numpy()
    b = palette_emotion(torch.as_tensor(lch)).numpy()
    assert es == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))


def test_looped_excerpt(tmp_path: Path):
    import soundfile as sf

    sr = 22050
    y = np.arange(5 * sr, dtype=np.float32) / (5 * sr)
    sf.write(tmp_path / "ramp.wav", y, sr, subtype="FLOAT")
    out = H.looped_excerpt(tmp_path / "ramp.wav", start=1.0, excerpt=1.5, total=4.0)
    assert out.shape == (4 * sr,)
    seg = y[sr: sr + int(1.5 * sr)]
    np.testing.assert_allclose(out[: seg.size], seg, atol=1e-6)
    np.testing.assert_allclose(out[seg.size: 2 * seg.size], seg, atol=1e-6)
    with pytest.raises(ValueError):
        H.looped_excerpt(tmp_path / "ramp.wav", start=4.0, excerpt=2.0, total=4.0)


def test_evaluate_plumbing_with_a_tiny_random_model(tiny_model, tmp_path: Path):
    """Shapes and keys only (a random model: nothing about quality)."""
    import soundfile as sf

    root = tmp_path / "pkgs"
    sr = 22050
    rng = np.random.default_rng(0)
    for stem, secs in (("battle", 4.0), ("sad", 3.5), ("traveling_minstrels", 6.0)):
        d = root / "wesnoth-1.16-music" / H.HELDOUT_PACKAGES["wesnoth-1.16-music"]
        d.mkdir(parents=True, exist_ok=True)
        t = np.arange(int(secs * sr)) / sr
        y = 0.2 * np.sin(2 * np.pi * (220 + 100 * rng.random()) * t) + 0.01 * rng.normal(size=t.size)
        sf.write(d / f"{stem}.ogg", y.astype(np.float32), sr)
    res = H.evaluate_heldout(tiny_model, pkgs_root=root, packages=["wesnoth-1.16-music"],
                             quick=True, teachers=False, cache_dir=tmp_path / "cache",
                             corpus_palettes=tmp_path / "none.jsonl", progress=False,
                             alternatives_files=1, steady_loop=(1.0, 4.0, 12.0), log=lambda m: None)
    assert res["n_files"] == 3
    assert res["groups"]["arousal_high"] == ["wesnoth-1.16-music/battle"]
    assert res["alternatives"]["files"] == 1
    assert res["alternatives"]["deterministic_palette"] is True
    assert res["alternatives"]["deterministic_palettes"] is True
    assert res["steadiness"]["file"] == "wesnoth-1.16-music/traveling_minstrels"
    # 12 s looped: windows start at 0 and 2.5 s (+ one aligned with the end): 3 windows, the
    # middle one alone after leaving out the edges, so no consecutive pair.
    assert res["steadiness"]["windows"] >= 2
    assert 0 <= res["variety"]["hue_bins_covered"] <= 12
    md = H.results_markdown(res)
    assert "Steadiness" in md
    json.dumps(res, default=H.json_default)
    H.contact_sheet(res, tmp_path / "p.png")
