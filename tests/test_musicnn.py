"""The torch musicnn port (m2p.model.musicnn) against TensorFlow musicnn 0.1.0's own outputs.

The fixture ``tests/data/musicnn_reference.npz`` was written by ``training/convert_musicnn.py``
(musicnn 0.1.0, TensorFlow 2.15.1 in tf.compat.v1 mode, librosa 0.9.2, numpy 1.26; versions in
its ``meta_json``) from the bundled example ``examples/savino_caribbean_excerpt.ogg``: musicnn's
float16 power mel of four of the eight 3 s patches and, per model, the TF sigmoid tag scores and
embedding of those patches.

Tolerances
----------
* Log-mel: musicnn rounds the power mel to float16. Float32 rounding differences between
  librosa and torch.stft can move a value across a float16 rounding boundary, i.e. by one
  float16 step (relative spacing at most 2**-10), which moves ``log10(10000 p + 1)`` by at most
  ``log10(1 + 2**-10) = 4.2e-4``. So: max abs difference <= 5e-4 (measured 4.1e-4: one such
  flip in 72k values), mean <= 1e-5.
* Network on identical input: only float32 summation order differs (oneDNN in TF vs torch), so
  differences are ~1e-6 (measured <= 2.8e-6 on tags, <= 1e-5 on embeddings of magnitude ~3);
  1e-4 leaves headroom and still catches any layout or name mistake, which shows as >= 1e-2.
* End to end (file -> tags): the float16 flips above pass through the network; 1e-3 on tags.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from m2p.model import musicnn as M
from m2p.errors import InvalidArgumentError, ModelNotFoundError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "musicnn_reference.npz"
EXAMPLE = ROOT / "examples" / "savino_caribbean_excerpt.ogg"

MEL_MAX_TOL = 5e-4
MEL_MEAN_TOL = 1e-5
NET_TOL = 1e-4
END_TO_END_TAG_TOL = 1e-3


def _available(name: str) -> bool:
    try:
        M.find_musicnn_weights(name)
    except ModelNotFoundError:
        return False
    return True


SHIPPED = [name for name in M.MODELS if _available(name)]


@pytest.fixture(scope="module")
def ref() -> dict:
    data = np.load(FIXTURE)
    out = {key: data[key] for key in data.files}
    out["meta"] = json.loads(str(out.pop("meta_json")))
    # musicnn's input patches, exactly as its extractor computed them (float32 ops on float16 power).
    out["mel"] = np.log10(10000 * out["mel_power_f16"].astype(np.float32) + 1)
    return out


@pytest.fixture(scope="module")
def wave16() -> np.ndarray:
    from m2p.audio.decode import load

    return M.resample_to_16k(load(EXAMPLE))


@pytest.fixture(scope="module")
def tagger() -> M.MusicnnTagger:
    if not SHIPPED:
        pytest.skip("no musicnn weights in model/musicnn")
    return M.load_musicnn(M.DEFAULT_MODEL if M.DEFAULT_MODEL in SHIPPED else SHIPPED[0])


def test_at_least_the_default_variant_is_shipped() -> None:
    assert M.DEFAULT_MODEL in SHIPPED


def test_front_end_reproduces_musicnn_patches(ref: dict, wave16: np.ndarray, tagger: M.MusicnnTagger) -> None:
    assert len(wave16) == ref["meta"]["n_samples_16k"]
    patches = tagger.patches(wave16)
    assert patches.shape == (ref["meta"]["n_patches"], M.PATCH_FRAMES, M.N_MELS)
    assert tagger.mel(wave16).shape == (ref["meta"]["n_frames"], M.N_MELS)
    diff = np.abs(patches[ref["patch_index"]].numpy() - ref["mel"])
    assert diff.max() <= MEL_MAX_TOL, diff.max()
    assert diff.mean() <= MEL_MEAN_TOL, diff.mean()


@pytest.mark.parametrize("name", SHIPPED)
def test_network_reproduces_tensorflow(ref: dict, name: str) -> None:
    tagger = M.load_musicnn(name)
    tags, embedding = tagger(torch.from_numpy(ref["mel"]))
    want_tags, want_emb = ref[f"{name}.tags"], ref[f"{name}.embedding"]
    assert tags.shape == want_tags.shape == (len(ref["patch_index"]), 50)
    assert embedding.shape == want_emb.shape == (len(ref["patch_index"]), tagger.embedding_dim)
    assert np.abs(tags.numpy() - want_tags).max() <= NET_TOL
    assert np.abs(embedding.numpy() - want_emb).max() <= NET_TOL
    # What a user reads off: the same top-5 tags, in the same order, for every patch.
    top = lambda t: np.argsort(-np.asarray(t), axis=1)[:, :5]  # noqa: E731
    np.testing.assert_array_equal(top(tags.numpy()), top(want_tags))


@pytest.mark.parametrize("name", SHIPPED)
def test_tag_names_match_the_converted_checkpoint(name: str) -> None:
    from safetensors import safe_open

    with safe_open(str(M.find_musicnn_weights(name)), framework="pt") as f:
        labels = json.loads(f.metadata()["tags"])  # musicnn's configuration.py, at conversion
    assert tuple(labels) == M.MODELS[name][1] == M.load_musicnn(name).tags
    assert len(set(labels)) == 50


def test_file_to_tags_end_to_end(ref: dict, tagger: M.MusicnnTagger) -> None:
    out = tagger.tag_audio(EXAMPLE)
    assert out.tags.shape == (ref["meta"]["n_patches"], 50)
    assert out.embedding.shape == (ref["meta"]["n_patches"], tagger.embedding_dim)
    assert out.tag_names == tagger.tags
    np.testing.assert_allclose(out.times, np.arange(len(out.times)) * M.PATCH_SECONDS)
    diff = np.abs(out.tags[ref["patch_index"]].numpy() - ref[f"{tagger.name}.tags"])
    assert diff.max() <= END_TO_END_TAG_TOL, diff.max()


def test_tags_are_probabilities_and_deterministic(wave16: np.ndarray, tagger: M.MusicnnTagger) -> None:
    patches = tagger.patches(wave16)
    with torch.no_grad():
        a = tagger(patches)
        b = tagger(patches)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert bool(((a[0] >= 0) & (a[0] <= 1)).all())
    assert torch.isfinite(a[1]).all()


def test_batch_and_single_patch_agree(wave16: np.ndarray, tagger: M.MusicnnTagger) -> None:
    patches = tagger.patches(wave16)[:3]
    with torch.no_grad():
        tags, emb = tagger(patches)
        for i in range(3):
            t1, e1 = tagger(patches[i])  # one (187, 96) patch
            assert t1.shape == (50,) and e1.shape == (tagger.embedding_dim,)
            torch.testing.assert_close(t1, tags[i], atol=1e-5, rtol=0)
            torch.testing.assert_close(e1, emb[i], atol=1e-5, rtol=0)


def test_array_at_22050_equals_file(tagger: M.MusicnnTagger) -> None:
    from m2p.audio.decode import SAMPLE_RATE, load

    wave = load(EXAMPLE, max_seconds=7.0)
    from_array = M.tag_audio(wave, SAMPLE_RATE, model=tagger.name)
    from_tensor = tagger.tag_audio(torch.from_numpy(wave), SAMPLE_RATE)
    assert from_array.tags.shape == (2, 50)  # 7 s -> two whole 3 s patches
    torch.testing.assert_close(from_array.tags, from_tensor.tags)


def test_short_audio_is_padded_to_one_patch_and_silence_is_valid(tagger: M.MusicnnTagger) -> None:
    out = tagger.tag_audio(np.zeros(8000, np.float32), 16000)  # 0.5 s of silence
    assert out.tags.shape == (1, 50)
    assert bool(((out.tags >= 0) & (out.tags <= 1)).all())
    assert tagger.patches(np.zeros(100, np.float32)).shape == (1, M.PATCH_FRAMES, M.N_MELS)


def test_hop_selects_fewer_or_overlapping_patches(wave16: np.ndarray, tagger: M.MusicnnTagger) -> None:
    full = tagger.patches(wave16)
    sparse = tagger.patches(wave16, hop=2 * M.PATCH_FRAMES)
    assert sparse.shape[0] == (full.shape[0] + 1) // 2
    torch.testing.assert_close(sparse, full[::2])
    assert tagger.patches(wave16, hop=M.PATCH_FRAMES // 2).shape[0] > full.shape[0]


def test_eval_shortcut_equals_the_plain_layer_order(ref: dict) -> None:
    """``_ConvReluBN.pooled`` (pool first, then ReLU and batch norm) == TF's order, in eval mode."""
    for name in SHIPPED:
        net = M.load_musicnn(name).net
        blocks = [m for m in net.modules() if isinstance(m, M._ConvReluBN)]
        assert any(bool((b.bn.weight < 0).any()) for b in blocks)  # the min-pool branch is used
        x = torch.from_numpy(ref["mel"][:2])
        with torch.no_grad():
            fast = net(x)
            try:
                for b in blocks:
                    b.training = True  # plain path; the batch norms themselves stay in eval mode
                plain = net(x)
            finally:
                for b in blocks:
                    b.training = False
        torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)


def test_loader_is_cached_and_names_are_checked() -> None:
    assert M.load_musicnn(SHIPPED[0]) is M.load_musicnn(SHIPPED[0], device="cpu")
    with pytest.raises(InvalidArgumentError, match="MTT_musicnn"):
        M.load_musicnn("MSD_musicnn_big")
    assert M.TAGS == M.MODELS[M.DEFAULT_MODEL][1] and len(M.TAGS) == 50


def test_resample_to_16k_matches_scipy() -> None:
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    y = M.resample_to_16k(x)
    assert y.dtype == np.float32 and y.shape == (16000,)
    np.testing.assert_allclose(y, resample_poly(x.astype(np.float64), 320, 441), atol=1e-6)
    t = M.resample_to_16k(torch.from_numpy(x))
    assert isinstance(t, torch.Tensor) and torch.equal(t, torch.from_numpy(y))


def test_runtime_package_never_imports_tensorflow() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+tensorflow\b", re.MULTILINE)
    offenders = [p for p in (ROOT / "m2p").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
