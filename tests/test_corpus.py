"""Tests of the open-corpus builder (training/corpus) on small data made inside the tests.

Nothing here touches the network or training/cache: audio is synthesised with numpy, palettes
and manifests are hand-made, and files go to pytest's tmp_path. The stages that need apt-get,
fluidsynth or the music21 corpus (``sources.fetch`` downloads, ``midi.render``,
``midi.build_renders``, ``midi.load_tunes``, ``build.main``, ``report.write_report``) are not
exercised; their pure helpers are.
"""

from __future__ import annotations

import collections
import hashlib
import random
import struct

import numpy as np
import pytest
import torch

import m2p.colour as colour
from m2p.colour import emotion as emotion
from training.corpus import build, cues, labels, midi, pairing, palettes, sources

SR = cues.SR


# --------------------------------------------------------------------------- synthetic audio


def _tone(freq: float, seconds: float = 6.0, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _clicks(bpm: float, seconds: float = 8.0, amp: float = 0.5) -> np.ndarray:
    y = np.zeros(int(seconds * SR), np.float32)
    n = int(0.02 * SR)
    burst = np.random.default_rng(0).standard_normal(n) * np.exp(-np.arange(n) / 100.0) * amp
    for t0 in np.arange(0.0, seconds - 0.05, 60.0 / bpm):
        i = int(t0 * SR)
        y[i : i + n] += burst.astype(np.float32)
    return y


def _chords(chords, seconds_each: float = 1.0, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds_each * SR)) / SR
    env = np.minimum(1.0, np.minimum(t / 0.01, (seconds_each - t) / 0.05))
    out = [amp * env * sum(np.sin(2 * np.pi * 440.0 * 2 ** ((m - 69) / 12) * t) for m in ch) for ch in chords]
    return np.concatenate(out).astype(np.float32)


# I - IV - V - I in C major and its parallel minor (E, A, B lowered by a semitone)
MAJOR_SEQ = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)] * 2
MINOR_SEQ = [(60, 63, 67), (65, 68, 72), (67, 70, 74), (60, 63, 67)] * 2


@pytest.fixture(scope="module")
def analysed() -> dict[str, dict]:
    """Cues of the first window of each synthetic signal (one analysis per signal)."""
    quiet = _tone(440.0, amp=0.05)
    signals = {
        "quiet": quiet,
        "loud": quiet * 4.0,
        "slow_clicks": _clicks(60.0),
        "fast_clicks": _clicks(150.0),
        "major": _chords(MAJOR_SEQ),
        "minor": _chords(MINOR_SEQ),
        "low_tone": _tone(220.0),
        "high_tone": _tone(880.0),
    }
    out = {}
    for name, y in signals.items():
        wins = cues.analyse(y)
        assert len(wins) == 1, name
        out[name] = wins[0]
    return out


# --------------------------------------------------------------------------- cues


def test_window_starts_10s_windows_5s_hop_last_at_least_3s():
    assert cues.window_starts(10.0) == [(0.0, 10.0)]
    assert cues.window_starts(25.0) == [(0.0, 10.0), (5.0, 10.0), (10.0, 10.0), (15.0, 10.0)]
    assert cues.window_starts(13.0) == [(0.0, 10.0), (5.0, 8.0)]
    assert cues.window_starts(6.0) == [(0.0, 6.0)]
    assert cues.window_starts(2.9) == []
    for dur in (3.0, 7.3, 19.9, 61.2):
        wins = cues.window_starts(dur)
        assert wins and all(cues.MIN_WINDOW - 1e-6 <= d <= cues.WINDOW for _, d in wins)
        assert all(s + d <= dur + 1e-3 for s, d in wins)
        assert wins[-1][0] + wins[-1][1] == pytest.approx(min(dur, wins[-1][0] + cues.WINDOW), abs=1e-3)
        assert np.allclose(np.diff([s for s, _ in wins]), cues.WINDOW_HOP)


def test_mode_score_on_key_profiles():
    for k in range(12):
        assert cues.mode_score(np.roll(cues.KK_MAJOR, k)) > 0.2
        assert cues.mode_score(np.roll(cues.KK_MINOR, k)) < -0.2
    assert cues.mode_score(np.ones(12)) == 0.0  # flat chroma: no evidence either way
    c_major_triad = np.zeros(12)
    c_major_triad[[0, 4, 7]] = 1.0
    c_minor_triad = np.zeros(12)
    c_minor_triad[[0, 3, 7]] = 1.0
    assert cues.mode_score(c_major_triad) > cues.mode_score(c_minor_triad)


def test_analyse_record_fields(analysed):
    rec = analysed["quiet"]
    assert rec["start"] == 0.0 and rec["duration"] == pytest.approx(6.0)
    assert set(rec["cues"]) == {"mode_major", "tempo_bpm", "onset_rate", "loudness_db", "brightness_hz",
                                "register_midi"}
    assert "vibenet" not in rec
    assert all(np.isfinite(v) for v in rec["cues"].values())


def test_louder_copy_has_higher_loudness(analysed):
    q, l = analysed["quiet"]["cues"], analysed["loud"]["cues"]
    # x4 in amplitude is +12 dB in mean-square level; nothing else in the signal changes
    assert l["loudness_db"] - q["loudness_db"] == pytest.approx(20 * np.log10(4.0), abs=0.1)
    # a 0.05-amplitude sine has a mean square of 0.05**2 / 2
    assert q["loudness_db"] == pytest.approx(10 * np.log10(0.05**2 / 2), abs=0.3)
    for k in ("brightness_hz", "register_midi", "mode_major"):
        assert l[k] == pytest.approx(q[k], abs=1e-2)


def test_faster_click_track_has_higher_onset_rate_and_tempo(analysed):
    slow, fast = analysed["slow_clicks"]["cues"], analysed["fast_clicks"]["cues"]
    assert fast["onset_rate"] > 2.0 * slow["onset_rate"]
    assert slow["onset_rate"] == pytest.approx(1.0, abs=0.2)  # 60 bpm -> one click per second
    assert fast["onset_rate"] == pytest.approx(2.5, abs=0.3)
    assert fast["tempo_bpm"] > slow["tempo_bpm"]


def test_major_sequence_scores_more_major_than_parallel_minor(analysed):
    maj, mnr = analysed["major"]["cues"]["mode_major"], analysed["minor"]["cues"]["mode_major"]
    assert maj > 0.0 > mnr
    assert maj - mnr > 0.2


def test_higher_register_tone(analysed):
    lo, hi = analysed["low_tone"]["cues"], analysed["high_tone"]["cues"]
    assert lo["register_midi"] == pytest.approx(57.0, abs=1.0)  # A3
    assert hi["register_midi"] == pytest.approx(81.0, abs=1.0)  # A5
    assert hi["brightness_hz"] > lo["brightness_hz"]


def test_silent_windows_are_dropped():
    assert cues.analyse(np.zeros(SR * 6, np.float32)) == []
    y = np.concatenate([_tone(440.0, seconds=10.0), np.zeros(SR * 20, np.float32)])
    wins = cues.analyse(y)
    assert [w["start"] for w in wins] == [0.0, 5.0, 10.0]  # 15-25 s and 20-30 s are silent
    assert cues.analyse(np.zeros(SR * 2, np.float32)) == []  # shorter than one window


class _FakeVibenet:
    def __init__(self):
        self.calls = []

    def predict(self, clips, sr):
        self.calls.append((len(clips[0]), sr))
        return [collections.namedtuple("R", "valence energy")(0.25, 0.75)]


def test_vibenet_va_is_valence_then_energy_at_16k():
    m = _FakeVibenet()
    assert cues.vibenet_va(m, _tone(440.0, seconds=2.0)) == [0.25, 0.75]
    n, sr = m.calls[0]
    assert sr == 16000 and abs(n - 32000) <= 2
    wins = cues.analyse(_tone(440.0, seconds=6.0), vibenet_model=m)
    assert wins[0]["vibenet"] == [0.25, 0.75]


def test_vibenet_model_runs_offline():
    pytest.importorskip("vibenet")
    model = cues.load_vibenet()
    assert model is not None
    va = cues.vibenet_va(model, _tone(440.0, seconds=4.0))
    assert len(va) == 2 and all(0.0 <= v <= 1.0 for v in va)


def test_load_audio_mono_resampled(tmp_path):
    sf = pytest.importorskip("soundfile")
    sr = 44100
    t = np.arange(sr * 2) / sr
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    path = tmp_path / "a.wav"
    sf.write(str(path), stereo, sr)
    y = cues.load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 2 * SR) <= 2
    assert np.max(np.abs(y)) == pytest.approx(0.25, abs=0.01)  # channel mean
    y1 = cues.load_audio(path, max_seconds=1.0)
    assert abs(len(y1) - SR) <= 2


# --------------------------------------------------------------------------- splits


def _manifest(seed: int = 0) -> list[dict]:
    tracks = []
    for pkg, n in (("pkg-a", 120), ("wesnoth-1.16-music", 30), ("hyperrogue-music", 17)):
        for i in range(n):
            tracks.append({"track_id": f"game/{pkg}/t{i:03d}", "kind": "game", "package": pkg})
    for i in range(40):
        for v in ("base", "slow", "fast", "soft", "loud", "low", "high", "mode"):
            tracks.append({"track_id": f"midi/tune{i}/{v}", "kind": "midi", "package": "music21-corpus/essen",
                           "tune_id": f"tune{i}", "variant": v})
    random.Random(seed).shuffle(tracks)
    return tracks


def test_splits_keep_variants_of_a_tune_together_and_are_deterministic():
    a = _manifest(0)
    build.assign_splits(a)
    b = _manifest(1)  # same tracks, other order
    build.assign_splits(b)
    sa = {t["track_id"]: t["split"] for t in a}
    sb = {t["track_id"]: t["split"] for t in b}
    assert sa == sb
    assert set(sa.values()) == {"train", "val", "test"}
    by_tune = collections.defaultdict(set)
    for t in a:
        if t["kind"] == "midi":
            by_tune[t["tune_id"]].add(t["split"])
    assert len(by_tune) == 40 and all(len(s) == 1 for s in by_tune.values())
    # windows inherit their track's split through track_id: every window of a track is in one split
    windows = [{"track_id": t["track_id"], "start": s} for t in a for s in (0.0, 5.0, 10.0)]
    per_track = collections.defaultdict(set)
    for w in windows:
        per_track[w["track_id"]].add(sa[w["track_id"]])
    assert all(len(s) == 1 for s in per_track.values())


def test_game_music_is_split_by_whole_package():
    tracks = _manifest()
    build.assign_splits(tracks)
    per_package = collections.defaultdict(set)
    for t in tracks:
        if t["kind"] == "game":
            per_package[t["package"]].add(t["split"])
    # a held-out package never contributes a single track to training
    assert per_package["wesnoth-1.16-music"] == {"test"}
    assert per_package["hyperrogue-music"] == {"val"}
    assert per_package["pkg-a"] == {"train"}
    assert set(sources.HELDOUT_PACKAGES.values()) == {"val", "test"}


def test_midi_split_proportions_near_80_10_10_per_source():
    tracks = _manifest()
    build.assign_splits(tracks)
    units = {t["tune_id"]: t["split"] for t in tracks if t["kind"] == "midi"}
    c = collections.Counter(units.values())
    assert c["test"] == 4 and c["val"] == 4 and c["train"] == 32


def test_split_for_hash_rule():
    keys = [f"track-{i}" for i in range(4000)]
    c = collections.Counter(build.split_for(k) for k in keys)
    assert c["train"] / 4000 == pytest.approx(0.8, abs=0.03)
    assert c["val"] / 4000 == pytest.approx(0.1, abs=0.02)
    assert c["test"] / 4000 == pytest.approx(0.1, abs=0.02)
    for k in keys[:50]:
        h = int(hashlib.sha1(k.encode()).hexdigest()[:8], 16) % 100
        assert build.split_for(k) == ("train" if h < 80 else "val" if h < 90 else "test")


# --------------------------------------------------------------------------- palettes

# hand-made palettes (hex); "dup" lists the same colours as "base" in another order and
# (first colour) in #rgb shorthand
PAL_HEX = {
    "base": ["#ffffff", "#1f77b4", "#d62728", "#2ca02c"],
    "dup": ["#d62728", "#2ca02c", "#fff", "#1f77b4"],
    "warm": ["#8c2d04", "#f16913", "#fdd0a2", "#fff5eb"],
    "cool": ["#08306b", "#4292c6", "#c6dbef", "#f7fbff"],
    "earth": ["#3b2f2f", "#8b5a2b", "#c19a6b", "#e8d8c3", "#556b2f"],
    "candy": ["#ff69b4", "#00ced1", "#ffd700", "#9400d3"],
    "mono": ["#000000", "#555555", "#aaaaaa", "#ffffff"],
    "near": ["#336699", "#346699", "#cc3333", "#eeeeee"],  # two colours 1 unit apart
    "forest": ["#0b3d0b", "#2e8b57", "#98fb98", "#f5fffa"],
    "sea": ["#003049", "#d62828", "#f77f00", "#fcbf49", "#eae2b7"],
    "dusk": ["#2d1e2f", "#5e2750", "#e95420", "#f6e8ea"],
    "two": ["#000000", "#ffffff"],  # fewer than 3 colours
    "nine": ["#%02x%02x%02x" % (25 * i, 0, 255 - 25 * i) for i in range(9)],  # more than 8
}


@pytest.fixture
def built_palettes(monkeypatch, tmp_path):
    raw = [{"source": "test", "name": k, "hex": v, "ref": k} for k, v in PAL_HEX.items()]
    monkeypatch.setattr(palettes, "load_raw", lambda cache, log=print: [dict(p) for p in raw])
    return palettes.build_palettes(tmp_path, log=lambda *a: None)


def test_palette_dedup_sorts_on_L_C_h(built_palettes):
    names = [p["name"] for p in built_palettes]
    assert "base" in names and "dup" not in names  # same palette in another colour order
    assert "two" not in names and "nine" not in names  # outside 3-8 colours
    assert len(names) == len(PAL_HEX) - 3  # every different palette is kept
    assert [p["id"] for p in built_palettes] == [f"p{i:05d}" for i in range(len(built_palettes))]
    for p in built_palettes:
        lch = np.array(p["lch"])
        assert [tuple(r) for r in lch] == sorted(tuple(r) for r in lch)  # L, then C, then h
        assert np.allclose(colour.hex_to_lch(p["hex"]), lch, atol=1e-2)  # hex kept in the same order
        assert all(len(h) == 7 and h == h.lower() for h in p["hex"])
    base = next(p for p in built_palettes if p["name"] == "base")
    assert base["hex"][-1] == "#ffffff"  # white has the highest L


def test_palette_dedup_keeps_near_but_different_palettes(monkeypatch, tmp_path):
    raw = [
        {"source": "a", "name": "x", "hex": ["#112233", "#808080", "#ddeeff"], "ref": "x"},
        {"source": "b", "name": "y", "hex": ["#ddeeff", "#112233", "#808080"], "ref": "y"},  # duplicate of x
        {"source": "b", "name": "z", "hex": ["#112233", "#808080", "#ddeef0"], "ref": "z"},  # one colour differs
    ]
    monkeypatch.setattr(palettes, "load_raw", lambda cache, log=print: raw)
    out = palettes.build_palettes(tmp_path, log=lambda *a: None)
    assert [p["name"] for p in out] == ["x", "z"]
    assert out[0]["source"] == "a"  # the first occurrence wins


def test_palette_keep_rule(built_palettes):
    by_name = {p["name"]: p for p in built_palettes}
    harm = np.array([p["harmony"] for p in built_palettes])
    thr = np.quantile(harm, palettes.HARMONY_QUANTILE)
    for p in built_palettes:
        assert p["kept"] == (p["min_delta_e"] >= palettes.MIN_DELTA_E and p["harmony"] >= thr - 1e-4)
        lch = torch.tensor(p["lch"], dtype=torch.float64)
        lab = colour.lch_to_lab(lch)
        de = colour.ciede2000(lab[:, None, :], lab[None, :, :]).numpy()
        de[np.eye(len(de), dtype=bool)] = np.inf
        assert p["min_delta_e"] == pytest.approx(de.min(), abs=2e-3)
        h = emotion.palette_harmony(lch[None]).item()
        assert p["harmony"] == pytest.approx(h, abs=1e-3)
        assert len(p["emotion"]) == 8 and len(p["valence_arousal"]) == 2
    near = by_name["near"]
    assert near["min_delta_e"] < palettes.MIN_DELTA_E and not near["kept"]
    least = min(built_palettes, key=lambda p: p["harmony"])
    assert not least["kept"]  # the least harmonious tenth is dropped
    assert sum(p["kept"] for p in built_palettes) >= len(built_palettes) - 3


# --------------------------------------------------------------------------- pairing


def _gamut_ok(lch, atol: float = 1e-6) -> bool:
    return bool(colour.in_srgb_gamut(torch.tensor(np.asarray(lch), dtype=torch.float64), atol=atol).all())


MID = np.array([[35.0, 20.0, 250.0], [50.0, 15.0, 180.0], [65.0, 20.0, 30.0], [50.0, 0.0, 0.0]])


def test_refine_lighter_for_positive_valence_and_higher_register():
    base = pairing.refine(MID, 0.0, 0.0, 0.0)
    up = pairing.refine(MID, 0.8, 0.0, 0.0)
    down = pairing.refine(MID, -0.8, 0.0, 0.0)
    assert np.all(up[:, 0] > base[:, 0]) and np.all(down[:, 0] < base[:, 0])
    assert np.allclose(base[:, :2], MID[:, :2], atol=1e-6)  # neutral cues change nothing
    hi = pairing.refine(MID, 0.0, 0.0, 2.0)
    lo = pairing.refine(MID, 0.0, 0.0, -2.0)
    assert np.all(hi[:, 0] > lo[:, 0])
    # the documented shift: 6 * valence * min(1, 2 * headroom / 100)
    room = np.minimum(1.0, 2 * (100 - MID[:, 0]) / 100)
    assert np.allclose(up[:, 0], MID[:, 0] + 6 * 0.8 * room, atol=1e-6)
    # z_register is clipped to [-2, 2]
    assert np.allclose(pairing.refine(MID, 0.0, 0.0, 5.0), hi)


def test_tempo_lightness_option_shifts_faster_music_lighter():
    """Palmer et al. 2013: faster music, lighter colours (the round-9 option, off by default)."""
    windows = [{"cues": {"onset_rate": r}} for r in (0.0, 1.0, 2.0, 4.0, 8.0, 1000.0)]
    shift = pairing.tempo_lightness(windows, 8.0)
    assert np.all(np.diff(shift) > 0)  # silence floors at 0.1 onsets/s instead of log(0)
    assert shift.max() <= 16.0 and shift.min() >= -16.0  # z clipped to [-2, 2]
    assert np.allclose(pairing.tempo_lightness(windows, 4.0), shift / 2)
    slow = pairing.refine(MID, 0.0, 0.0, 0.0, float(shift[1]))
    fast = pairing.refine(MID, 0.0, 0.0, 0.0, float(shift[4]))
    assert np.all(fast[:, 0] > slow[:, 0])
    room = np.minimum(1.0, 2 * (100 - MID[:, 0]) / 100)
    assert np.allclose(pairing.refine(MID, 0.0, 0.0, 0.0, 5.0)[:, 0], MID[:, 0] + 5.0 * room, atol=1e-6)


def test_refine_more_saturated_and_contrasted_for_arousal():
    calm = pairing.refine(MID, 0.0, -0.8, 0.0)
    excited = pairing.refine(MID, 0.0, 0.8, 0.0)
    chromatic = MID[:, 1] > 0
    assert np.all(excited[chromatic, 1] > MID[chromatic, 1]) and np.all(MID[chromatic, 1] > calm[chromatic, 1])
    assert np.allclose(excited[chromatic, 1], MID[chromatic, 1] * 1.2, atol=1e-6)
    assert np.std(excited[:, 0]) > np.std(MID[:, 0]) > np.std(calm[:, 0])
    assert np.mean(excited[:, 0]) == pytest.approx(np.mean(MID[:, 0]))


def test_refine_hue_turns_toward_yellow_and_orange_red_greys_stay():
    out = pairing.refine(MID, 1.0, 0.0, 0.0)
    # hue 180 (C 15, weight 0.5): toward 90 by 10 * 0.5 deg; hue 30 turns up toward 90 too
    assert out[1, 2] == pytest.approx(175.0, abs=1e-6)
    assert out[0, 2] == pytest.approx(250.0 - 10 * 20 / 30, abs=1e-6)  # 250 -> 90 the short way down
    assert 30.0 < out[2, 2] <= 40.0
    assert out[3, 2] == pytest.approx(0.0) and out[3, 1] == pytest.approx(0.0)  # grey: no hue move
    red = pairing.refine(MID, 0.0, 1.0, 0.0)
    # arousal first scales C by 1.25, then turns hue toward 40 by 8 deg * min(C / 30, 1)
    assert red[2, 2] == pytest.approx(30.0 + 8 * 25 / 30, abs=1e-6)
    assert red[1, 2] == pytest.approx(180.0 - 8 * 18.75 / 30, abs=1e-6)


def test_refine_stays_in_gamut_and_soft_limits_light_colours():
    rng = np.random.default_rng(0)
    for _ in range(20):
        lch = np.stack([rng.uniform(5, 97, 6), rng.uniform(0, 110, 6), rng.uniform(0, 360, 6)], axis=1)
        lch = colour.gamut_map_lch(torch.tensor(lch)).numpy()
        for v, a, z in ((1, 1, 2), (-1, -1, -2), (1, -1, 0), (-1, 1, 1.5)):
            out = pairing.refine(lch, v, a, z)
            assert out.shape == lch.shape
            assert _gamut_ok(out)
            assert np.all((out[:, 0] >= 0) & (out[:, 0] <= 100) & (out[:, 1] >= 0))
            assert np.all((out[:, 2] >= 0) & (out[:, 2] < 360))
    light = np.array([[97.0, 5.0, 100.0], [90.0, 10.0, 200.0], [20.0, 10.0, 300.0]])
    out = pairing.refine(light, 1.0, 0.0, 2.0)
    assert np.all(out[:, 0] < 100.0)  # no clip to white
    assert len({round(x, 3) for x in out[:2, 0]}) == 2  # light colours stay distinct


def _pal(pid, lch, va, kept=True):
    return {"id": pid, "lch": np.asarray(lch, dtype=float).tolist(), "valence_arousal": list(va), "kept": kept}


def test_pair_top5_by_cosine_similarity():
    rng = np.random.default_rng(1)
    pals = []
    for i in range(9):
        lch = np.stack([np.sort(rng.uniform(20, 85, 4)), rng.uniform(5, 40, 4), rng.uniform(0, 360, 4)], axis=1)
        pals.append(_pal(f"p{i:05d}", lch, rng.uniform(-0.6, 0.6, 2), kept=i != 4))
    va = rng.uniform(-0.8, 0.8, (12, 2))
    windows = [{"valence": float(v), "arousal": float(a)} for v, a in va]
    z_reg = rng.normal(size=12)
    stats = pairing.pair(windows, pals, z_reg, log=lambda *a: None)
    kept = [p for p in pals if p["kept"]]
    assert stats["kept"] == 8 and 1 <= stats["distinct_top1"] <= 8
    assert "emotion_calibrated" not in pals[4]
    # calibration: the palettes' VA cloud takes the music labels' mean and spread
    cal = np.array([p["valence_arousal_calibrated"] for p in kept])
    assert np.allclose(cal.mean(0), va.mean(0), atol=1e-3)
    assert np.allclose(cal.std(0), va.std(0), atol=1e-3)
    e_p = np.array([p["emotion_calibrated"] for p in kept])
    e_p /= np.linalg.norm(e_p, axis=1, keepdims=True)
    e_m = emotion.va_to_emotion(torch.tensor(va)).numpy()
    ids = np.array([p["id"] for p in kept])
    top1 = set()
    for i, w in enumerate(windows):
        assert len(w["palette_ids"]) == pairing.TOP_K == 5 and len(set(w["palette_ids"])) == 5
        assert "p00004" not in w["palette_ids"]  # only kept palettes
        sim = np.asarray(w["palette_similarity"])
        assert np.all(np.diff(sim) <= 1e-9)  # ordered best first
        cos = e_p @ (e_m[i] / np.linalg.norm(e_m[i]))
        assert list(ids[np.argsort(-cos)[:5]]) == w["palette_ids"]
        assert np.allclose(sim, np.sort(cos)[::-1][:5], atol=1e-3)
        assert np.allclose(w["emotion"], e_m[i], atol=1e-4)
        best = next(p for p in kept if p["id"] == w["palette_ids"][0])
        expect = pairing.refine(best["lch"], w["valence"], w["arousal"], float(z_reg[i]))
        assert np.allclose(w["target_lch"], expect, atol=2e-3)
        assert _gamut_ok(expect) and _gamut_ok(w["target_lch"], atol=1e-4)  # stored rounded to 3 decimals
        top1.add(w["palette_ids"][0])
    assert stats["distinct_top1"] == len(top1)


# --------------------------------------------------------------------------- labels

VARIANT_EDITS = {
    # variant -> (tempo factor, loudness dB shift, register shift, swap mode)
    "base": (1.0, 0.0, 0.0, False),
    "slow": (0.7, 0.0, 0.0, False),
    "fast": (1.4, 0.0, 0.0, False),
    "soft": (1.0, -6.0, 0.0, False),
    "loud": (1.0, 3.5, 0.0, False),
    "low": (1.0, 0.0, -12.0, False),
    "high": (1.0, 0.0, 12.0, False),
    "mode": (1.0, 0.0, 0.0, True),
}


def _win(tempo, onset, loud, bright, mode, register, vb=None):
    w = {"start": 0.0, "duration": 10.0,
         "cues": {"tempo_bpm": tempo, "onset_rate": onset, "loudness_db": loud, "brightness_hz": bright,
                  "mode_major": mode, "register_midi": register}}
    if vb is not None:
        w["vibenet"] = vb
    return w


def _label_corpus(with_vibenet: bool, extra_game=None):
    rng = np.random.default_rng(3)
    tracks, wbt = [], {}
    for i in range(12):
        tune_mode = "major" if i % 3 else "minor"
        split = "train" if i < 8 else ("val" if i < 10 else "test")
        tempo, onset = rng.uniform(80, 140), rng.uniform(1.5, 4.0)
        loud, bright, reg = rng.uniform(-25, -15), rng.uniform(800, 2500), rng.uniform(60, 75)
        mode = rng.uniform(0.1, 0.3) * (1 if tune_mode == "major" else -1)
        for v, (tf, dl, dr, swap) in VARIANT_EDITS.items():
            tid = f"midi/tune{i}/{v}"
            tracks.append({"track_id": tid, "kind": "midi", "package": "music21-corpus/x", "tune_id": f"tune{i}",
                           "variant": v, "tune_mode": tune_mode, "split": split})
            ws = []
            for _ in range(2):
                n = rng.normal(0, 0.02, 6)
                vb = [float(np.clip(0.5 + (0.1 if not swap else -0.1) * np.sign(mode), 0, 1)),
                      float(np.clip(0.4 + 0.1 * (tf - 1), 0, 1))] if with_vibenet else None
                ws.append(_win(tempo * tf * (1 + n[0]), onset * tf * (1 + n[1]), loud + dl + n[2],
                               bright * 2 ** (dr / 24) * (1 + n[3]), (-mode if swap else mode) + n[4],
                               reg + dr + n[5], vb))
            wbt[tid] = ws
    for i in range(6):
        tid = f"game/g/{i}"
        tracks.append({"track_id": tid, "kind": "game", "package": "g", "split": "train"})
        wbt[tid] = [_win(rng.uniform(70, 160), rng.uniform(1, 6), rng.uniform(-30, -10), rng.uniform(500, 4000),
                         rng.uniform(-0.3, 0.3), rng.uniform(50, 70)) for _ in range(3)]
    for tid, ws in (extra_game or {}).items():
        tracks.append({"track_id": tid, "kind": "game", "package": "g", "split": "train"})
        wbt[tid] = ws
    return tracks, wbt


def _mean(wbt, tid, key):
    return float(np.mean([w[key] for w in wbt[tid]]))


# without vibenet its columns are all NaN: numpy warns, the standardiser maps them to 0 (corpus mean)
NAN_WARNINGS = [pytest.mark.filterwarnings("ignore:Mean of empty slice"),
                pytest.mark.filterwarnings("ignore:Degrees of freedom")]


@pytest.mark.parametrize("with_vibenet", [False, True])
@NAN_WARNINGS[0]
@NAN_WARNINGS[1]
def test_blend_fit_and_labels_follow_the_variant_pairs(with_vibenet):
    tracks, wbt = _label_corpus(with_vibenet)
    fit = labels.fit_and_label(tracks, wbt, log=lambda *a: None)
    assert fit["n_tunes"] == {"train": 8, "held_out": 4}
    for dim in ("arousal", "valence"):
        w = fit["weights"][dim]
        assert np.all(np.array(w["w"]) >= 0) and np.all(np.array(w["w_cue"]) >= 0)
        assert w["n_pairs"] == 8 * (6 if dim == "arousal" else 4)
        assert w["scale"] > 0
    for ws in wbt.values():
        for w in ws:
            assert -1 <= w["valence"] <= 1 and -1 <= w["arousal"] <= 1
            assert len(w["cue_va"]) == 2 and all(-1 <= x <= 1 for x in w["cue_va"])
    # corpus spread of w . z is 0.8 before the tanh
    va = np.array([[w["valence"], w["arousal"]] for ws in wbt.values() for w in ws])
    assert np.all(np.std(np.arctanh(np.clip(va, -0.9999, 0.9999)), axis=0) == pytest.approx(0.8, abs=0.02))
    for i in range(12):
        t = f"midi/tune{i}/"
        assert _mean(wbt, t + "fast", "arousal") > _mean(wbt, t + "base", "arousal") > _mean(wbt, t + "slow", "arousal")
        assert _mean(wbt, t + "loud", "arousal") > _mean(wbt, t + "soft", "arousal")
        assert _mean(wbt, t + "high", "valence") > _mean(wbt, t + "low", "valence")
        major, minor = ("base", "mode") if i % 3 else ("mode", "base")
        assert _mean(wbt, t + major, "valence") > _mean(wbt, t + minor, "valence")
    table = fit["agreement"]
    assert set(table) == set(labels.TABLE_PAIRS)
    for row in table.values():
        assert row["all/blend"] == [12, 12] and row["held_out/blend"] == [4, 4]
        assert row["all/cues"] == [12, 12]
        assert row["all/vibenet"][1] == (12 if with_vibenet else 0)


@NAN_WARNINGS[0]
@NAN_WARNINGS[1]
def test_blend_on_synthesised_cues_moves_in_documented_direction(analysed):
    extra = {f"game/synth/{k}": [dict(v, cues=dict(v["cues"]))] for k, v in analysed.items()}
    tracks, wbt = _label_corpus(False, extra)
    labels.fit_and_label(tracks, wbt, log=lambda *a: None)

    def lab(name, key):
        return wbt[f"game/synth/{name}"][0][key]

    assert lab("loud", "arousal") > lab("quiet", "arousal")
    assert lab("fast_clicks", "arousal") > lab("slow_clicks", "arousal")
    assert lab("major", "valence") > lab("minor", "valence")
    assert lab("high_tone", "valence") > lab("low_tone", "valence")
    # a louder copy changes arousal only; valence does not depend on loudness
    assert lab("loud", "valence") == pytest.approx(lab("quiet", "valence"), abs=1e-3)


@NAN_WARNINGS[0]
@NAN_WARNINGS[1]
def test_raw_features_and_per_kind_standardiser():
    w = _win(120.0, 3.0, -20.0, 1000.0, 0.2, 64.0, vb=[0.3, 0.7])
    r = labels.raw_features(w, "midi")
    assert r["tempo"] == pytest.approx(np.log2(120)) and r["onset"] == pytest.approx(np.log1p(3))
    assert r["brightness"] == pytest.approx(np.log2(1000)) and r["vibenet_v"] == 0.3 and r["vibenet_a"] == 0.7
    assert labels.raw_features(_win(10.0, 0.0, -20, 10.0, 0, 60), "game")["tempo"] == pytest.approx(np.log2(30))
    assert np.isnan(labels.raw_features(_win(100, 1, -20, 900, 0, 60))["vibenet_v"])
    rows = [labels.raw_features(_win(100 + i, 2, -10 + i, 900, 0, 70 + i), "game") for i in range(4)]
    rows += [labels.raw_features(_win(100 + i, 2, -40 + i, 900, 0, 50 + i), "midi") for i in range(4)]
    std = labels.Standardiser(rows)
    for kind in ("game", "midi"):
        z = np.array([std(r, ("loudness", "register", "tempo", "vibenet_v")) for r in rows if r["kind"] == kind])
        assert np.allclose(z[:, :2].mean(0), 0.0, atol=1e-6)  # loudness and register: per kind
        assert np.allclose(z[:, 3], 0.0)  # missing vibenet -> corpus mean
    zt = np.array([std(r, ("tempo",)) for r in rows])
    assert abs(zt.mean()) < 1e-6 and abs(zt[:4].mean()) < 1e-6  # tempo: over the corpus (same per kind here)
    zl = np.array([(r["loudness"] - np.mean([q["loudness"] for q in rows])) for r in rows])
    assert abs(zl[:4].mean()) > 1.0  # corpus-wide, the game rows would not be centred


def test_fit_weights_nonnegative_and_pulled_toward_prior():
    prior = np.array([0.3, 0.3])
    assert np.allclose(labels.fit_weights([], prior), prior)
    rng = np.random.default_rng(0)
    x = np.stack([rng.uniform(0.5, 2.0, 40), rng.uniform(-2.0, -0.5, 40)], axis=1)
    w = labels.fit_weights(list(x), prior)
    assert w[0] > prior[0] and 0.0 <= w[1] < prior[1]


# --------------------------------------------------------------------------- midi


def test_swap_mode_moves_degrees_3_6_7():
    c_major = [60, 62, 64, 65, 67, 69, 71, 72]
    assert [midi.swap_mode(p, 0, "major") for p in c_major] == [60, 62, 63, 65, 67, 68, 70, 72]
    a_minor = [57, 59, 60, 62, 64, 65, 67, 69]  # tonic A = 9
    assert [midi.swap_mode(p, 9, "minor") for p in a_minor] == [57, 59, 61, 62, 64, 66, 68, 69]
    for p in range(40, 90):  # major -> minor -> major is the identity on the major scale
        if (p - 2) % 12 in (0, 2, 4, 5, 7, 9, 11):
            assert midi.swap_mode(midi.swap_mode(p, 2, "major"), 2, "minor") == p


def _tune(**kw):
    notes = [(float(i), 1.0, 60 + [0, 4, 7, 9, 11, 5, 2, 0][i % 8], 0) for i in range(16)]
    d = dict(tune_id="t", source="essen", licence="x", title="t", notes=notes, tonic=0, mode="major", bpm=120.0,
             program=0, bar_q=4.0)
    d.update(kw)
    return midi.Tune(**d)


def test_variant_notes_change_one_cue():
    tune = _tune()
    base = midi.variant_notes(tune, "original", 0)
    high = midi.variant_notes(tune, "original", 12)
    swp = midi.variant_notes(tune, "swap", 0)
    assert len(base) == len(high) == len(swp)
    assert [(o, d) for o, d, _, _ in base] == [(o, d) for o, d, _, _ in high] == [(o, d) for o, d, _, _ in swp]
    assert all(h[2] == b[2] + 12 for b, h in zip(base, high))
    # 16 quarter notes at 120 bpm = 8 s -> repeated to >= 24 s; at most 60 s
    sec = 60.0 / tune.bpm
    assert max(o + d for o, d, _, _ in base) * sec >= 24.0
    assert all(o * sec < 60.0 for o, _, _, _ in base)
    # one tonic bass note per bar on channel 1, below the melody
    bass = [n for n in base if n[3] == 1]
    assert bass and all(p % 12 == 0 and p < 60 for _, _, p, _ in bass)
    changed = {(b[2] % 12, s[2] % 12) for b, s in zip(base, swp) if b[2] != s[2]}
    assert changed == {(4, 3), (9, 8), (11, 10)}
    long = midi.variant_notes(_tune(bpm=20.0), "original", 0)
    assert all(o * 3.0 < 60.0 and (o + d) * 3.0 <= 60.0 + 1e-9 for o, d, _, _ in long)


def _read_midi(path):
    data = path.read_bytes()
    assert data[:4] == b"MThd"
    _, fmt, ntrk, ticks = struct.unpack(">IHHH", data[4:14])
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    body = data[22 : 22 + length]
    assert len(body) == length
    i, tick, events = 0, 0, []
    while i < len(body):
        dv = 0
        while True:
            b = body[i]
            i += 1
            dv = (dv << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        tick += dv
        st = body[i]
        if st == 0xFF:
            typ, ln = body[i + 1], body[i + 2]
            events.append((tick, "meta", typ, body[i + 3 : i + 3 + ln]))
            i += 3 + ln
        elif st & 0xF0 == 0xC0:
            events.append((tick, "program", st & 0x0F, body[i + 1]))
            i += 2
        else:
            events.append((tick, "on" if st & 0xF0 == 0x90 else "off", st & 0x0F, tuple(body[i + 1 : i + 3])))
            i += 3
    return fmt, ntrk, ticks, events


def test_varlen_encoding():
    assert midi._varlen(0) == b"\x00"
    assert midi._varlen(0x7F) == b"\x7f"
    assert midi._varlen(0x80) == b"\x81\x00"
    assert midi._varlen(0x3FFF) == b"\xff\x7f"
    assert midi._varlen(0x200000) == b"\x81\x80\x80\x00"


def test_write_midi_roundtrip(tmp_path):
    notes = [(0.0, 1.0, 60, 0), (1.0, 0.5, 64, 0), (0.0, 4.0, 36, 1)]
    path = tmp_path / "t.mid"
    midi.write_midi(path, notes, bpm=90.0, velocity=100, program=24)
    fmt, ntrk, ticks, ev = _read_midi(path)
    assert (fmt, ntrk, ticks) == (0, 1, midi.TICKS)
    tempo = next(e for e in ev if e[1] == "meta" and e[2] == 0x51)
    assert int.from_bytes(tempo[3], "big") == round(60_000_000 / 90.0)
    assert [(e[2], e[3]) for e in ev if e[1] == "program"] == [(0, 24), (1, 32)]
    ons = [(e[0], e[2], e[3]) for e in ev if e[1] == "on"]
    assert sorted(ons) == [(0, 0, (60, 100)), (0, 1, (36, 80)), (480, 0, (64, 100))]
    offs = {(e[2], e[3][0]): e[0] for e in ev if e[1] == "off"}
    assert offs[(0, 60)] < 480 and offs[(1, 36)] == 4 * 480 - 4
    assert ev[-1][1] == "meta" and ev[-1][2] == 0x2F


# --------------------------------------------------------------------------- sources

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: game

Files: *
Copyright: 2001 Someone
License: GPL-2+

Files: usr/share/game/music/*.ogg
Copyright: 2005 Composer A
 2006 Composer B
License: CC-BY-SA-3.0

Files: battle.ogg
Copyright: 2007 Composer C
License: CC0-1.0
"""


def test_parse_dep5_and_licence_for(tmp_path):
    root = tmp_path / "pkg"
    doc = root / "usr/share/doc/game"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(DEP5)
    st = sources.parse_dep5(doc / "copyright")
    assert st == [(["*"], "GPL-2+", "2001 Someone"),
                  (["usr/share/game/music/*.ogg"], "CC-BY-SA-3.0", "2005 Composer A 2006 Composer B"),
                  (["battle.ogg"], "CC0-1.0", "2007 Composer C")]
    assert sources.parse_dep5(tmp_path / "missing") == []
    music = root / "usr/share/game/music"
    music.mkdir(parents=True)
    assert sources.licence_for(root, "game", music / "theme.ogg") == ("CC-BY-SA-3.0", "2005 Composer A 2006 Composer B")
    assert sources.licence_for(root, "game", music / "battle.ogg") == ("CC0-1.0", "2007 Composer C")  # last wins
    assert sources.licence_for(root, "game", root / "usr/share/game/sfx.wav") == ("GPL-2+", "2001 Someone")
    # no DEP-5 file: the package fallback
    other = tmp_path / "other"
    other.mkdir()
    assert sources.licence_for(other, "singularity-music", other / "a.ogg")[0].startswith("CC-BY-SA-3.0")
    assert sources.licence_for(other, "unknown", other / "a.ogg") == ("see debian/copyright", "")
    # album-level license.txt (warzone2100-music)
    album = tmp_path / "wz" / "music"
    album.mkdir(parents=True)
    (album / "license.txt").write_text("Copyright (C) 2006 The Band\nCC-BY-SA-3.0 or GPL-2+ *except* track3_enhanced\n")
    assert sources.licence_for(tmp_path / "wz", "wz", album / "track1.ogg") == ("CC-BY-SA-3.0+ or GPL-2+", "2006 The Band")
    assert sources.licence_for(tmp_path / "wz", "wz", album / "track3_enhanced.ogg")[0] == "GPL-2+"


def test_list_tracks_filters_and_unique_ids(tmp_path):
    sf = pytest.importorskip("soundfile")
    cache = tmp_path / "cache"
    root = cache / "pkgs" / "hyperrogue-music"
    sr = 2000  # tiny files: only the duration matters here
    for rel, seconds in (("usr/share/hyperrogue/music/a.ogg", 31), ("usr/share/hyperrogue/music/sub/a.ogg", 40),
                         ("usr/share/hyperrogue/music/short.ogg", 10), ("usr/share/hyperrogue/sounds/long.ogg", 60)):
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(f.with_suffix(".wav")), np.zeros(sr * seconds, np.float32), sr)
        f.with_suffix(".wav").rename(f)  # libsndfile reads the WAV header, whatever the extension
    (root / "usr/share/hyperrogue/music/notes.txt").write_text("not audio")
    (root / "usr/share/hyperrogue/music/broken.ogg").write_bytes(b"garbage")
    recs = sources.list_tracks(cache, {"hyperrogue-music": root}, log=lambda *a: None)
    assert [r["track_id"] for r in recs] == ["game/hyperrogue-music/a", "game/hyperrogue-music/a-1"]
    assert [r["duration"] for r in recs] == [31.0, 40.0]
    assert all(r["kind"] == "game" and r["package"] == "hyperrogue-music" for r in recs)
    assert recs[0]["path"] == "pkgs/hyperrogue-music/usr/share/hyperrogue/music/a.ogg"


def test_fetch_reuses_extracted_packages_and_midi_files(tmp_path):
    target = tmp_path / "pkgs" / "openttd-openmsx"
    (target / "music").mkdir(parents=True)
    (target / ".done").write_text("openttd-openmsx_1.deb")
    (target / "music" / "b.mid").write_bytes(b"")
    (target / "music" / "a.mid").write_bytes(b"")
    roots = sources.fetch(tmp_path, ["openttd-openmsx"], log=lambda *a: None)
    assert roots == {"openttd-openmsx": target}
    files = sources.midi_files(roots)
    assert [f.name for f, _, _ in files] == ["a.mid", "b.mid"]
    assert all(pkg == "openttd-openmsx" and lic.startswith("GPL-2.0") for _, pkg, lic in files)


# ------------------------------------------------------------------ held-out directional renders


def test_heldout_corpus_excludes_corpus_tunes_and_lists_windows(monkeypatch, tmp_path):
    from training.corpus import heldout
    from training.dataset import Corpus, Track

    def tune(tune_id):
        return midi.Tune(tune_id, "essen", "PD", tune_id, [(0.0, 1.0, 60, 0)], 0, "major", 100.0, 0, 4.0)

    drawn = [tune("essen-a"), tune("essen-b"), tune("essen-c")]
    monkeypatch.setattr(midi, "load_tunes", lambda n, seed=0, log=print: drawn)
    monkeypatch.setattr(midi, "find_soundfont", lambda: tmp_path / "gm.sf2")
    rendered = []

    def fake_render(cache, tunes, variants, sf2, log=print):
        rendered.extend(t.tune_id for t in tunes)
        return [{"track_id": f"midi/{t.tune_id}/{v[0]}", "path": f"renders/essen/{t.tune_id}__{v[0]}.flac",
                 "kind": "midi", "tune_id": t.tune_id, "tempo_factor": v[1], "mode": "original",
                 "tune_mode": "major", "loudness": 1.0, "transpose": 0, "duration": 24.0}
                for t in tunes for v in variants]

    monkeypatch.setattr(midi, "render_tune_variants", fake_render)
    seen = Corpus(tmp_path, {"midi/essen-b/base": Track("midi/essen-b/base", "x.flac", "train", "midi",
                                                          {"tune_id": "essen-b"})}, [], {})
    held = heldout.heldout_corpus(tmp_path, seen, tunes_per_source=3, log=lambda m: None)

    assert rendered == ["essen-a", "essen-c"]  # the corpus's tune is never rendered again
    assert {t.meta["tune_id"] for t in held.tracks.values()} == {"essen-a", "essen-c"}
    assert {t.split for t in held.tracks.values()} == {"heldout"}
    assert len(held.tracks) == 2 * len(heldout.HELDOUT_VARIANTS)
    # 24 s of audio: windows start at 0, 5, 10 and 15 s (the last one 9 s long)
    per_track = collections.Counter(w.track_id for w in held.windows)
    assert set(per_track.values()) == {len(cues.window_starts(24.0))}
    assert held.audio_path("midi/essen-a/base") == tmp_path / "heldout" / "renders/essen/essen-a__base.flac"


# --------------------------------------------------------------------------- teachers (model v2)


def _tags(model: str, high: tuple[str, ...], low: tuple[str, ...]) -> np.ndarray:
    from m2p.model.musicnn import MODELS

    names = MODELS[model][1]
    row = np.full(len(names), 0.2)
    for n in high:
        row[names.index(n)] = 0.9
    for n in low:
        row[names.index(n)] = 0.02
    return row[None, :]


def test_tag_reading_orders_happy_loud_above_sad_quiet():
    from training.corpus.teachers import tag_valence_arousal

    happy_loud = {"MTT_vgg": _tags("MTT_vgg", ("loud", "fast", "drums"), ("quiet", "slow")),
                  "MSD_vgg": _tags("MSD_vgg", ("happy", "party", "dance"), ("sad", "Mellow"))}
    sad_quiet = {"MTT_vgg": _tags("MTT_vgg", ("quiet", "slow", "soft"), ("loud", "fast")),
                 "MSD_vgg": _tags("MSD_vgg", ("sad", "Mellow", "ambient"), ("happy", "party"))}
    v1, a1 = tag_valence_arousal(happy_loud)
    v2, a2 = tag_valence_arousal(sad_quiet)
    assert v1[0] > v2[0] + 1 and a1[0] > a2[0] + 1
    # every tag named in the reading exists in the models' tag lists
    from m2p.model.musicnn import MODELS
    from training.corpus.teachers import AROUSAL_TAGS, VALENCE_TAGS

    for table in (AROUSAL_TAGS, VALENCE_TAGS):
        for model, (plus, minus) in table.items():
            assert set(plus) | set(minus) <= set(MODELS[model][1])


def test_recording_labels_follow_teachers_and_leave_renders_alone():
    from training.corpus.teachers import TEACHER_MODELS

    rng = np.random.default_rng(0)
    tracks = [{"track_id": "game/p/a", "kind": "game"}, {"track_id": "midi/t/base", "kind": "midi"}]
    n = 40
    calm_to_loud = np.linspace(0, 1, n)
    game = [{"start": 5.0 * i, "valence": 0.0, "arousal": float(rng.uniform(-0.2, 0.2)),
             "vibenet": [0.5, float(calm_to_loud[i])]} for i in range(n)]
    render = [{"start": 0.0, "valence": 0.3, "arousal": -0.4, "vibenet": [0.2, 0.2]}]
    teach = {"starts": np.array([5.0 * i for i in range(n)])}
    for m in TEACHER_MODELS:
        teach[m] = np.tile(_tags(m, (), ()), (n, 1))
        col = {"MTT_vgg": "loud", "MSD_vgg": "metal"}[m]
        from m2p.model.musicnn import MODELS

        teach[m][:, MODELS[m][1].index(col)] = 0.05 + 0.9 * calm_to_loud
    stats = labels.label_recordings(tracks, {"game/p/a": game, "midi/t/base": render},
                                    {"game/p/a": teach}, log=lambda m: None)
    assert stats["windows"] == n and stats["with_tags"] == n
    assert render[0]["valence"] == 0.3 and render[0]["arousal"] == -0.4 and "teachers" not in render[0]
    arousal = np.array([w["arousal"] for w in game])
    assert np.all(np.abs(arousal) < 1)
    assert np.corrcoef(arousal, calm_to_loud)[0, 1] > 0.9
    assert arousal.std() == pytest.approx(np.tanh(labels.TARGET_STD), abs=0.25)
    assert len(game[0]["teachers"]["tags"]) == 100 and game[0]["blend_va"][0] == 0.0
