"""The evaluation's pieces on small hand-made inputs with known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from m2p.colour.emotion import va_to_emotion
from m2p.errors import InvalidArgumentError, OutputError
from m2p.model.config import ModelConfig
from m2p.model.decoding import alternative_numbers
from m2p.model.network import Music2Palette
from training import evaluate as E
from training.dataset import Corpus, Track, Window, WindowDataset
from training.report import EVAL_END, EVAL_START

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _lch(lab) -> list[float]:
    """CIELAB -> CIELCh (degrees), to write published Lab test colours as palettes."""
    L, a, b = lab
    return [L, math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360]


# Sharma, Wu & Dalal (2005), CIEDE2000 test data, pairs 1 and 2: Delta E00 2.0425 and 2.8615.
SHARMA_1 = (_lch((50.0, 2.6772, -79.7751)), _lch((50.0, 0.0, -82.7485)), 2.0425)
SHARMA_2 = (_lch((50.0, 3.1571, -77.2803)), _lch((50.0, 0.0, -82.7485)), 2.8615)

#: Four colours spanning a solid, so that the convex-hull overlap is defined.
SOLID = np.array([[30.0, 20.0, 10.0], [70.0, 40.0, 100.0], [50.0, 60.0, 200.0], [60.0, 10.0, 300.0]])


# ------------------------------------------------------------------------------ metrics


def test_method_metrics_on_palettes_with_known_answers():
    first, second, delta = SHARMA_1
    palettes = [np.array([first, second])] * 3
    emotion = E.palette_emotions(palettes)
    rows = E.method_metrics(palettes, emotion, np.array([first, second]),
                            [[np.array([first])], [np.array([second])]])
    assert rows["diversity"] == pytest.approx(delta, abs=5e-5)
    assert rows["multimodality"] == pytest.approx(delta, abs=5e-5)  # one window, two draws
    assert rows["emotion_similarity"] == pytest.approx(1.0) and rows["js_divergence"] == pytest.approx(0.0, abs=1e-9)
    assert rows["mean_colours"] == 2 and rows["modal_length_share"] == 1.0
    assert rows["es_calibrated"] is None


def test_results_table_orders_rows_and_scores_truth_against_itself():
    truth = [SOLID, SOLID[:3]]
    first, second, _ = SHARMA_2
    other = [np.array([first, second]), np.array([first, second, [60.0, 30.0, 40.0]])]
    shifted = [p + [5.0, 0.0, 0.0] for p in other]
    methods = {"ours": [other, shifted], "fixed": [other], E.TRUTH: truth}
    emotion = E.palette_emotions(truth)
    rows = E.results_table(methods, emotion, n_mm=1)
    assert list(rows) == ["ours", "fixed", E.TRUTH]
    assert rows[E.TRUTH]["convex_hull_overlap"] == pytest.approx(1.0, abs=1e-6)
    assert rows[E.TRUTH]["bhattacharyya"] == pytest.approx(1.0)
    assert rows[E.TRUTH]["multimodality"] is None and rows[E.TRUTH]["emotion_similarity"] == pytest.approx(1.0)
    assert rows["fixed"]["multimodality"] == 0.0  # a single draw is deterministic
    assert rows["ours"]["multimodality"] > 0 and rows["ours"]["diversity"] == rows["fixed"]["diversity"]
    assert rows["ours"]["mean_colours"] == 2.5 and rows["ours"]["modal_length_share"] == 0.5


def test_beats_baselines_compares_the_first_row_with_the_four_baselines():
    def row(es, js):
        return {"emotion_similarity": es, "js_divergence": js}

    rows = {"Music2Palette (ours, noise σ=0.5)": row(0.7, 0.3), "Music2Palette (ours, noise off)": row(0.9, 0.1),
            "(A) emotion-matched retrieval": row(0.8, 0.2), "(B) single": row(0.6, 0.4),
            "(B-w) single": row(0.7, 0.25), "(C) random": row(0.5, 0.5), E.TRUTH: row(1.0, 0.0),
            "(A′) retrieval from our predicted VA": row(0.1, 0.9)}
    verdict = E.beats_baselines(rows)
    assert list(verdict) == ["(A) emotion-matched retrieval", "(B) single", "(B-w) single", "(C) random"]
    assert verdict["(A) emotion-matched retrieval"] == {"es_better": False, "js_better": False}
    assert verdict["(B) single"] == {"es_better": True, "js_better": True}
    assert verdict["(B-w) single"] == {"es_better": False, "js_better": False}  # ties are not wins


# ------------------------------------------------------------------------------ baselines


def test_dominant_colour_follows_its_rule():
    np.testing.assert_allclose(E.dominant_colour(1.0, -1.0), [[75.0, 10.0, 85.0]])  # happy, calm: yellow
    np.testing.assert_allclose(E.dominant_colour(-1.0, -1.0), [[35.0, 10.0, 255.0]])  # sad, calm: blue
    np.testing.assert_allclose(E.dominant_colour(7.0, -3.0), E.dominant_colour(1.0, -1.0))  # clipped
    agitated = E.dominant_colour(0.0, 1.0)[0]
    assert agitated[1] == 70.0 and 35.0 < agitated[2] < 85.0  # red pulls the yellow-blue mean


def _corpus(tmp_path) -> Corpus:
    def palette(pid, va, kept=True):
        lighter = 5.0 * int(pid[1:])  # tells the palettes apart
        return {"id": pid, "lch": (SOLID[:3] + [lighter, 0, 0]).tolist(), "kept": kept,
                "valence_arousal": list(va), "emotion": va_to_emotion(torch.tensor(va)).tolist()}

    def window(tid, start, v, a, ids):
        return Window(tid, start, 10.0, v, a, tuple(np.full(8, 0.125)), tuple(ids),
                      tuple(map(tuple, SOLID[:3] + [0, 0, 10 * start])))

    tracks = {t: Track(t, f"{t}.wav", "test") for t in ("x", "y")}
    windows = [window("x", 0.0, 0.8, 0.2, ["p2"]), window("x", 5.0, 0.4, -0.6, ["gone"]),
               window("y", 0.0, -0.5, 0.5, ["p1", "p2"])]
    palettes = {p["id"]: p for p in (palette("p1", (0.9, 0.9)), palette("p2", (-0.9, -0.9)),
                                     palette("p3", (0.0, 0.0), kept=False))}
    return Corpus(tmp_path, tracks, windows, palettes)


def test_baselines_shapes_ranges_and_rules(tmp_path):
    corpus = _corpus(tmp_path)
    windows = corpus.windows
    music_va = np.array([[0.9, 0.9], [-0.9, -0.9], [0.8, 0.7]])
    base = E.baselines(corpus, windows, music_va, draws=4, seed=0)
    assert list(base) == ["A", "B", "B-w", "C", "A'", "B'"]
    assert [len(d) for d in base.values()] == [1, 1, 1, 4, 1, 1]
    for draws in base.values():
        for draw in draws:
            assert len(draw) == len(windows)
            for p in draw:
                assert p.ndim == 2 and p.shape[1] == 3
                assert np.all((p[:, 0] >= 0) & (p[:, 0] <= 100) & (p[:, 1] >= 0))
                assert np.all((p[:, 2] >= 0) & (p[:, 2] < 360))
    kept = {tuple(map(tuple, corpus.palettes[k]["lch"])) for k in ("p1", "p2")}
    # (A): the window's first known corpus palette, else its own target.
    np.testing.assert_array_equal(base["A"][0][0], corpus.palettes["p2"]["lch"])
    np.testing.assert_array_equal(base["A"][0][1], windows[1].target_lch)
    np.testing.assert_array_equal(base["A"][0][2], corpus.palettes["p1"]["lch"])
    # (B): one colour per piece from its mean labels; (B-w): one per window.
    np.testing.assert_array_equal(base["B"][0][0], base["B"][0][1])
    np.testing.assert_allclose(base["B"][0][0], E.dominant_colour(0.6, -0.2))
    np.testing.assert_allclose(base["B-w"][0][1], E.dominant_colour(0.4, -0.6))
    # (C): seeded draws of kept palettes only.
    assert all(tuple(map(tuple, p)) in kept for draw in base["C"] for p in draw)
    again = E.baselines(corpus, windows, music_va, draws=4, seed=0)["C"]
    assert all(np.array_equal(p, q) for a, b in zip(base["C"], again) for p, q in zip(a, b))
    # (A'): the kept palette whose emotion is closest to the predicted music's; (B') its colour.
    np.testing.assert_array_equal(base["A'"][0][0], corpus.palettes["p1"]["lch"])
    np.testing.assert_array_equal(base["A'"][0][1], corpus.palettes["p2"]["lch"])
    np.testing.assert_allclose(base["B'"][0][2], E.dominant_colour(0.8, 0.7))


# ------------------------------------------------------------------------------ directional check


def _variant(tempo, mode, tune="t", loudness=1.0):
    meta = {"tune_id": tune, "tempo_factor": tempo, "loudness": loudness, "transpose": 0}
    if mode == "minor":  # an unchanged minor tune is written as "original" with its tune_mode
        meta.update(mode="original", tune_mode="minor")
    else:
        meta.update(mode=mode, tune_mode="minor")
    return meta


def test_directional_effects_pairs_variants_and_counts_directions():
    meta = {"slow-minor": _variant(1.0, "minor"), "fast-minor": _variant(1.4, "minor"),
            "slow-major": _variant(1.0, "major"), "fast-major": _variant(1.4, "major"),
            "other-tune": _variant(1.4, "major", tune="u", loudness=0.5)}

    def stats(tid):
        fast, major = tid.startswith("fast"), tid.endswith("major")
        row = dict.fromkeys(E.TRACK_QUANTITIES, 0.0)
        row.update(L=50 + 10 * fast + 4 * major, C=30 - 2 * major, b=10 * fast * (1 + major))
        return row

    effects = E.directional_effects({tid: stats(tid) for tid in meta}, meta)
    tempo, mode = effects["tempo"], effects["mode"]
    assert tempo["pairs"] == 2 and mode["pairs"] == 2  # the other tune pairs with nothing
    assert set(tempo) - {"pairs"} == set(E.EXPECTED_DIRECTION["tempo"])
    assert tempo["L"] == {"expected": 1, "mean_diff": 10.0, "d_z": pytest.approx(math.nan, nan_ok=True),
                          "frac_expected": 1.0}
    assert tempo["b"]["mean_diff"] == 15.0 and tempo["b"]["d_z"] == pytest.approx(15 / math.sqrt(50))
    assert mode["L"]["mean_diff"] == 4.0 and mode["L"]["frac_expected"] == 1.0
    assert mode["C"]["mean_diff"] == -2.0 and mode["C"]["frac_expected"] == 0.0
    assert mode["music_valence"]["frac_expected"] == 0.0  # no change is not the predicted change


def test_track_means_average_each_tracks_windows():
    yellow = np.array([[60.0, 20.0, 90.0]])  # b* = +20
    blue = np.array([[40.0, 30.0, 270.0], [20.0, 10.0, 270.0]])  # b* = -30 and -10
    means = E.track_means([yellow, yellow, blue], np.array([[0.5, 0.1], [0.3, 0.3], [-1.0, 0.0]]), [2, 1])
    assert len(means) == 2 and set(means[0]) == set(E.TRACK_QUANTITIES)
    assert means[0]["L"] == pytest.approx(60) and means[0]["b"] == pytest.approx(20)
    assert means[0]["music_valence"] == pytest.approx(0.4) and means[0]["music_arousal"] == pytest.approx(0.2)
    assert means[1]["L"] == pytest.approx(30) and means[1]["C"] == pytest.approx(20)
    assert means[1]["b"] == pytest.approx(-20) and means[1]["music_valence"] == -1.0


# ------------------------------------------------------------------------------ generation


def _family_model() -> Music2Palette:
    config = ModelConfig.from_dict({**ModelConfig.tiny().to_dict(), "noise_components": 3,
                                    "component_head": True, "noise_scale": 1.0})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = Music2Palette(config).eval()
        model.heads.noise_centres.data.normal_(0, 5.0)  # far-apart families, as after training
    return model


def _features(n=4, frames=24) -> WindowDataset:
    rng = np.random.default_rng(0)
    windows = [Window(f"t{i}", 0.0, 10.0, 0.0, 0.0, tuple(np.full(8, 0.125)), (), ((50.0, 20.0, 30.0),) * 3)
               for i in range(n)]
    return WindowDataset(windows, rng.normal(size=(n, frames, 539)).astype(np.float16), np.full(n, frames))


def test_noise_off_is_the_default_family_whatever_the_seed():
    assert alternative_numbers([4, 7], 0.0) == [0, 0]
    assert alternative_numbers([4, 7], 0.5) == [4, 7]
    assert alternative_numbers([4, 7], 0.5, [1, 2]) == [1, 2]
    model, data = _family_model(), _features()
    a, va_a = E.generate_palettes(model, data, noise_scale=0.0, seed=0)
    b, va_b = E.generate_palettes(model, data, noise_scale=0.0, seed=1)
    assert len(a) == 4 and all(3 <= len(p) <= 8 for p in a) and va_a.shape == (4, 2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b)) and np.array_equal(va_a, va_b)
    noisy, _ = E.generate_palettes(model, data, noise_scale=1.0, seed=5)
    assert not all(p.shape == q.shape and np.allclose(p, q) for p, q in zip(a, noisy))


def test_load_split_refuses_an_empty_split(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tracks.jsonl").write_text(json.dumps({"track_id": "a", "path": "a.wav", "split": "train"}) + "\n")
    (corpus / "windows.jsonl").write_text("")
    model = _family_model()
    with pytest.raises(InvalidArgumentError, match="split 'test' has no windows") as info:
        E.load_split(model, split="test", corpus_dir=corpus, features_dir=tmp_path / "features")
    assert str(corpus) in str(info.value)


# ------------------------------------------------------------------------------ report


def _results() -> dict:
    truth = [SOLID, SOLID[:3]]
    rows = E.results_table({"Music2Palette (ours, noise σ=0.5)": [truth, truth[::-1]],
                            "(A) emotion-matched retrieval": [truth], E.TRUTH: truth},
                           E.palette_emotions(truth), n_mm=2)
    meta = {"x": _variant(1.0, "major"), "y": _variant(1.4, "major")}
    stats = {t: dict.fromkeys(E.TRACK_QUANTITIES, 1.0 if t == "y" else 0.0) for t in meta}
    return {"model": "model", "split": "test", "windows": 2, "tracks": 1, "noise_scale": 0.5,
            "max_windows_per_track": None, "noise_draws": 2, "mm_windows": 2, "seed": 0,
            "table": rows, "music_va_mae": 0.25, "beats_baselines": E.beats_baselines(rows),
            "multimodality_positive": True,
            "directional": {"tracks_used": 2, "scope": "test", **E.directional_effects(stats, meta)},
            "directional_heldout": None, "evaluated_utc": "2026-01-01T00:00:00Z"}


def test_write_report_writes_json_results_and_the_cards_section(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    card = model_dir / "MODEL_CARD.md"
    card.write_text(f"# Card\n\n{EVAL_START}\nold numbers\n{EVAL_END}\n\n## Limitations\n")
    res = _results()
    written = E.write_report(res, model_dir, results=tmp_path / "docs" / "results.md")
    assert sorted(p.name for p in written) == ["MODEL_CARD.md", "evaluation.json", "results.md"]
    assert json.loads((model_dir / "evaluation.json").read_text()) == json.loads(json.dumps(res))
    page = (tmp_path / "docs" / "results.md").read_text()
    assert page.startswith("# Results") and "| (A) emotion-matched retrieval |" in page
    assert "tempo (1 pairs)" in page
    text = card.read_text()
    assert "old numbers" not in text and "| (A) emotion-matched retrieval |" in text
    assert text.startswith("# Card") and text.endswith("## Limitations\n")
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary left


def test_write_report_leaves_nothing_when_one_output_cannot_be_written(tmp_path):
    results = tmp_path / "docs" / "results.md"
    with pytest.raises(OutputError):
        E.write_report(_results(), tmp_path / "no-such-model", results=results)
    assert not results.exists() and not list(results.parent.iterdir())


def test_write_report_leaves_a_card_without_markers_alone(tmp_path):
    (tmp_path / "MODEL_CARD.md").write_text("# Hand-written card\n")
    written = E.write_report(_results(), tmp_path, results=tmp_path / "results.md")
    assert "MODEL_CARD.md" not in [p.name for p in written]
    assert (tmp_path / "MODEL_CARD.md").read_text() == "# Hand-written card\n"


def test_write_report_keeps_the_hand_written_parts_of_the_results_page(tmp_path):
    """docs/results.md holds hand-written sections (held-out music, model selection, older
    models) around the two parts evaluate writes: a new evaluation replaces only those."""
    results = tmp_path / "results.md"
    (r0, r1), (p0, p1) = E.RESULTS_MARKERS, E.PAPER_MARKERS
    results.write_text(f"# Results\n\nHand intro.\n\n{r0}\nold table\n{r1}\n\n## Held-out (by hand)\n\n"
                       f"{p0}\nold paper\n{p1}\n\n## Model v1 (by hand)\n")
    E.write_report(_results(), tmp_path, results=results)
    page = results.read_text()
    assert "old table" not in page and "old paper" not in page
    assert "Hand intro." in page and "## Held-out (by hand)" in page
    assert page.endswith("## Model v1 (by hand)\n")
    assert page.index("| (A) emotion-matched retrieval |") < page.index("## Held-out (by hand)")
    assert page.index("## Held-out (by hand)") < page.index("## Comparison with the paper")
    assert "Produced by `python -m training.evaluate" in page
