"""Convert the pretrained musicnn TensorFlow 1 checkpoints to safetensors for :mod:`m2p.model.musicnn`.

musicnn (PyPI ``musicnn`` 0.1.0, ISC licence, Jordi Pons / Music Technology Group, Universitat
Pompeu Fabra; Pons & Serra 2019) ships four TF1 checkpoints inside its wheel: ``MTT_musicnn``,
``MSD_musicnn``, ``MTT_vgg`` and ``MSD_vgg``. This script builds each model's graph with
``tf.compat.v1`` from musicnn's own ``models.py``, restores the checkpoint, reads every model
variable (Adam slots are ignored) and writes it, float32, under the torch names that
:class:`m2p.model.musicnn.MusicnnNet` / :class:`m2p.model.musicnn.VggNet` load directly. It also writes the
test fixture ``tests/data/musicnn_reference.npz``: musicnn's own log-mel patches of the bundled
example ``examples/savino_caribbean_excerpt.ogg`` and the TF model's sigmoid tag scores and
embedding for each converted model.

This is the only place TensorFlow is used; it never runs in the project venv. Make a throwaway
venv (Python 3.11)::

    python3.11 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" soundfile scipy safetensors \
        "librosa==0.9.2"
    /tmp/tfvenv/bin/pip install --no-deps musicnn==0.1.0

and run, from the repository root::

    /tmp/tfvenv/bin/python training/convert_musicnn.py

``numpy<2`` matters: musicnn computes ``10000 * mel.astype(float16)``, which numpy 1.x promotes
to float32 (numpy 2 keeps float16 and overflows). librosa 0.9.2 pads centred frames with zeros,
like every librosa since 0.9 (so like a fresh ``pip install musicnn``); librosa 0.6-0.8, used for
musicnn's training data, reflected, which only changes the first and last frame of a piece.

Audio path of the fixture (identical to what ``m2p.audio.decode.load`` + ``m2p.model.musicnn.resample_to_16k``
do, so the torch front end can be tested on the very same samples): soundfile float32 decode,
channel mean, ``scipy.signal.resample_poly`` 44,100 -> 22,050 Hz (1/2), then 22,050 -> 16,000 Hz
(320/441). musicnn's ``extractor.batch_data`` is then run unchanged except that its
``librosa.load`` returns those samples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from math import gcd
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg")
N_FRAMES = 187
N_MELS = 96
FIXTURE_PATCHES = (0, 3, 5, 7)
"""Which non-overlapping 3 s patches of the 25 s example go into the fixture (size < 200 KB)."""


# --------------------------------------------------------------------------- name mapping

def _conv2d(k: np.ndarray) -> np.ndarray:
    """TF conv2d kernel (kh, kw, in, out) -> torch Conv2d weight (out, in, kh, kw)."""
    return np.ascontiguousarray(k.transpose(3, 2, 0, 1))


def _conv1d_from_full_width(k: np.ndarray) -> np.ndarray:
    """TF kernel (7, F, 1, out) spanning the whole feature axis -> torch Conv1d (out, F, 7)."""
    assert k.shape[2] == 1, k.shape
    return np.ascontiguousarray(k[:, :, 0, :].transpose(2, 1, 0))


def _dense(k: np.ndarray) -> np.ndarray:
    """TF dense kernel (in, out) -> torch Linear weight (out, in)."""
    return np.ascontiguousarray(k.T)


def _bn(tf_name: str, torch_name: str) -> list[tuple[str, str, object]]:
    return [
        (f"{tf_name}/gamma", f"{torch_name}.weight", None),
        (f"{tf_name}/beta", f"{torch_name}.bias", None),
        (f"{tf_name}/moving_mean", f"{torch_name}.running_mean", None),
        (f"{tf_name}/moving_variance", f"{torch_name}.running_var", None),
    ]


def _bn_name(i: int) -> str:
    return "batch_normalization" if i == 0 else f"batch_normalization_{i}"


def _conv_name(i: int) -> str:
    return "conv2d" if i == 0 else f"conv2d_{i}"


def mapping(model: str) -> list[tuple[str, str, object]]:
    """(TF variable name, torch state-dict name, layout function or None) for ``model``.

    The TF names are the automatic ``tf.compat.v1.layers`` names, in the order musicnn's
    ``models.py`` creates the layers.
    """
    out: list[tuple[str, str, object]] = _bn(_bn_name(0), "input_bn")
    if model.endswith("_musicnn"):
        blocks = ["timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2"]
        for i, name in enumerate(blocks):  # conv2d_i + batch_normalization_{i+1}
            out += [(f"{_conv_name(i)}/kernel", f"{name}.conv.weight", _conv2d),
                    (f"{_conv_name(i)}/bias", f"{name}.conv.bias", None)]
            out += _bn(_bn_name(i + 1), f"{name}.bn")
        for j in range(3):  # mid-end: conv2d_5..7 + batch_normalization_6..8
            out += [(f"{_conv_name(5 + j)}/kernel", f"midend.{j}.conv.weight", _conv1d_from_full_width),
                    (f"{_conv_name(5 + j)}/bias", f"midend.{j}.conv.bias", None)]
            out += _bn(_bn_name(6 + j), f"midend.{j}.bn")
        out += _bn(_bn_name(9), "pool_bn")
        out += [("dense/kernel", "dense.weight", _dense), ("dense/bias", "dense.bias", None)]
        out += _bn(_bn_name(10), "dense_bn")
        out += [("dense_1/kernel", "out.weight", _dense), ("dense_1/bias", "out.bias", None)]
    elif model.endswith("_vgg"):
        for i in range(5):
            out += [(f"{i + 1}CNN/kernel", f"convs.{i}.conv.weight", _conv2d),
                    (f"{i + 1}CNN/bias", f"convs.{i}.conv.bias", None)]
            out += _bn(_bn_name(i + 1), f"convs.{i}.bn")
        out += [("dense/kernel", "out.weight", _dense), ("dense/bias", "out.bias", None)]
    else:
        raise ValueError(f"unknown model {model!r}")
    return out


# --------------------------------------------------------------------------- audio

def example_audio_16k(path: Path) -> np.ndarray:
    """Decode ``path`` exactly as m2p does (22,050 Hz), then resample to 16 kHz (320/441)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1, dtype=np.float64).astype(np.float32)
    g = gcd(rate, 22050)
    wave = mono
    if rate != 22050:
        wave = resample_poly(mono.astype(np.float64), 22050 // g, rate // g).astype(np.float32)
    return resample_poly(wave.astype(np.float64), 320, 441).astype(np.float32)


def musicnn_patches(wave_16k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run musicnn's own ``extractor.batch_data`` on ``wave_16k`` (its librosa.load patched).

    Returns the log-mel patches ``(n, 187, 96)``, the whole log-mel ``(frames, 96)`` and the
    float16 power mel ``(frames, 96)`` it was computed from: ``log10(10000 * p + 1)`` of the
    latter (in float32) equals the former exactly (checked), so the fixture stores only ``p``.
    """
    import librosa
    from musicnn import configuration as config
    from musicnn import extractor

    original = extractor.librosa.load
    extractor.librosa.load = lambda *_a, **_k: (wave_16k, 16000)
    try:
        n_frames = librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
        assert n_frames == N_FRAMES, n_frames
        batch, spectrogram = extractor.batch_data("<patched>", n_frames, n_frames)
    finally:
        extractor.librosa.load = original
    power = librosa.feature.melspectrogram(y=wave_16k, sr=16000, hop_length=config.FFT_HOP,
                                           n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
    power16 = power.astype(np.float16)
    again = np.log10(10000 * power16.astype(np.float32) + 1)
    if not np.array_equal(again, spectrogram):
        raise RuntimeError("musicnn's log-mel is not log10(10000 * float16 power + 1)")
    return batch, spectrogram, power16


# --------------------------------------------------------------------------- TF

def convert(model: str, patches: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """Restore ``model``; return (torch tensors, TF outputs on ``patches``, notes)."""
    import musicnn
    import tensorflow as tf
    from musicnn import configuration, models

    tf.compat.v1.disable_eager_execution()
    labels = configuration.MTT_LABELS if model.startswith("MTT") else configuration.MSD_LABELS
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        outs = models.define_model(x, is_training, model, len(labels))
        y = tf.nn.sigmoid(outs[0])
    if model.endswith("_vgg"):
        embedding = tf.compat.v1.layers.flatten(outs[5])  # pool5, NHWC order: (B, 2*1*128)
    else:
        embedding = outs[8]  # penultimate: batch-normalised 200-unit dense layer
    sess = tf.compat.v1.Session()
    sess.run(tf.compat.v1.global_variables_initializer())
    saver = tf.compat.v1.train.Saver()
    saver.restore(sess, os.path.join(os.path.dirname(musicnn.__file__), model) + "/")

    variables = {v.name[: -len(":0")]: v for v in tf.compat.v1.global_variables()}
    values = {name: sess.run(v) for name, v in variables.items()}
    tensors: dict[str, np.ndarray] = {}
    used = set()
    for tf_name, torch_name, layout in mapping(model):
        value = np.asarray(values[tf_name], dtype=np.float32)
        tensors[torch_name] = layout(value) if layout else np.ascontiguousarray(value)
        used.add(tf_name)
    unused = sorted(set(values) - used)
    if unused:
        raise RuntimeError(f"{model}: TF variables not converted: {unused}")

    feed = {x: patches.astype(np.float32), is_training: False}
    t0 = time.perf_counter()
    tags, emb = sess.run([y, embedding], feed_dict=feed)
    tf_seconds = time.perf_counter() - t0

    # How much would float16 storage change the tag scores? (Answer recorded, float32 shipped.)
    for name, v in variables.items():
        v.load(values[name].astype(np.float16).astype(np.float32), sess)
    tags16, emb16 = sess.run([y, embedding], feed_dict=feed)
    sess.close()
    notes = {
        "n_parameters": int(sum(t.size for t in tensors.values())),
        "fp16_weights_max_abs_tag_diff": float(np.abs(tags16 - tags).max()),
        "fp16_weights_max_abs_embedding_diff": float(np.abs(emb16 - emb).max()),
        "tf_seconds_for_fixture_patches": tf_seconds,
        "labels": list(labels),
    }
    return tensors, {"tags": tags.astype(np.float32), "embedding": emb.astype(np.float32)}, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--out", type=Path, default=ROOT / "model" / "musicnn")
    parser.add_argument("--fixture", type=Path, default=ROOT / "tests" / "data" / "musicnn_reference.npz")
    parser.add_argument("--audio", type=Path, default=ROOT / "examples" / "savino_caribbean_excerpt.ogg")
    args = parser.parse_args(argv)

    import librosa
    import musicnn  # noqa: F401
    import scipy
    import soundfile
    import tensorflow as tf
    from importlib.metadata import version
    from safetensors.numpy import save_file

    wave = example_audio_16k(args.audio)
    batch, spectrogram, power16 = musicnn_patches(wave)
    picks = [i for i in FIXTURE_PATCHES if i < len(batch)]
    mel = batch[picks]
    mel_power = np.stack([power16[i * N_FRAMES:(i + 1) * N_FRAMES] for i in picks])
    assert np.array_equal(np.log10(10000 * mel_power.astype(np.float32) + 1), mel)

    versions = {
        "musicnn": version("musicnn"),
        "tensorflow": tf.__version__,
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__,
        "python": platform.python_version(),
    }
    meta = {
        "audio": str(args.audio.relative_to(ROOT)) if args.audio.is_relative_to(ROOT) else str(args.audio),
        "audio_path": "soundfile float32, channel mean, resample_poly 44100->22050 (1/2), 22050->16000 (320/441)",
        "n_samples_16k": int(len(wave)),
        "n_frames": int(spectrogram.shape[0]),
        "n_patches": int(len(batch)),
        "patch_index": picks,
        "versions": versions,
        "command": "/tmp/tfvenv/bin/python training/convert_musicnn.py",
        "models": {},
    }
    fixture: dict[str, np.ndarray] = {
        # musicnn's input patches are log10(10000 * mel_power.astype(float32) + 1), exactly.
        "mel_power_f16": mel_power,
        "patch_index": np.asarray(picks, dtype=np.int64),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        tensors, outputs, notes = convert(model, mel)
        labels = notes.pop("labels")
        meta["models"][model] = notes
        st_meta = {
            "format": "pt",
            "source": f"musicnn {versions['musicnn']} checkpoint {model} (ISC licence, Jordi Pons, MTG-UPF)",
            "converted_with": json.dumps({k: versions[k] for k in ("tensorflow", "numpy", "python")}),
            "architecture": "musicnn" if model.endswith("_musicnn") else "vgg",
            "tags": json.dumps(labels),
        }
        target = args.out / f"{model}.safetensors"
        save_file(tensors, str(target), metadata=st_meta)
        target.chmod(0o644)
        fixture[f"{model}.tags"] = outputs["tags"]
        fixture[f"{model}.embedding"] = outputs["embedding"]
        print(f"{model}: {notes['n_parameters']:,} parameters, fp16 weights would change tags by "
              f"<= {notes['fp16_weights_max_abs_tag_diff']:.2e}", file=sys.stderr)
    fixture["meta_json"] = np.asarray(json.dumps(meta, indent=1))
    args.fixture.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.fixture, **fixture)
    print(json.dumps(meta, indent=1))
    print(f"fixture {args.fixture}: {args.fixture.stat().st_size / 1024:.0f} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
