"""The frame stream (m2p.features.stream): each frame computed once, windows cut from it equal to
the windows analysed alone, in any block size and chunking, in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p.features.frames import FEATURE_BLOCKS, FRAME_DIM, HOP_LENGTH, extract_features, feature_extractor
from m2p.features.stream import MIN_WINDOW_SAMPLES, FrameStream, edge_segments

SR = 22050

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def music(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Notes every 0.2 s over a little noise, with a loud passage (the 80 dB floors differ
    between windows) and a silent one; float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = 0.01 * rng.standard_normal(n)
    for start in range(0, n, SR // 5):
        seg = slice(start, min(n, start + SR // 5))
        f = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        y[seg] += 0.2 * np.exp(-6 * (t[seg] - t[start])) * np.sin(2 * np.pi * f * t[seg])
    y[int(1.5 * SR): int(2.0 * SR)] *= 8.0
    y[int(3.0 * SR): int(3.4 * SR)] = 0.0
    return (y / np.abs(y).max() * 0.9).astype(np.float32)


def cut_windows(y: np.ndarray, starts: list[int], window: int, *, block: int, chunk: int = 2048):
    """Push ``y`` in blocks, then cut every window; (B, T, 539) window features."""
    stream = FrameStream("cpu", chunk_frames=chunk)
    for i in range(0, len(y), block):
        stream.push(y[i:i + block])
    heads, tails = zip(*(edge_segments(y[s:s + window]) for s in starts))
    rows = stream.cut(starts, 1 + window // HOP_LENGTH, torch.from_numpy(np.stack(heads + tails)))
    return feature_extractor("cpu").window_features(rows)


@pytest.mark.parametrize("block,chunk", [(44100, 2048), (700, 2048), (30000, 7), (5 * SR, 3)])
def test_windows_cut_from_the_stream_equal_windows_analysed_alone(block, chunk):
    y = music(5.0)
    window = int(2.3 * SR)  # not a whole number of frames: the tail edge frames see zeros
    starts = [0, 512, 10 * 512, 37 * 512, (len(y) - window) // 512 * 512]
    got = cut_windows(y, starts, window, block=block, chunk=chunk)
    alone = extract_features(torch.from_numpy(np.stack([y[s:s + window] for s in starts])))
    assert got.shape == alone.shape == (len(starts), 1 + window // 512, 539)
    # Same frames from the same samples: equal up to float rounding of different batch shapes
    # (the tolerances of tests/test_features.py, much tighter in practice).
    for name, cols in FEATURE_BLOCKS.items():
        torch.testing.assert_close(got[..., cols], alone[..., cols], atol=1e-3, rtol=1e-4, msg=name)


def test_edge_frames_are_the_windows_own():
    # Loud audio right before and after the window: frames cut without recomputing the edges
    # would hear it; the window alone hears zeros there.
    y = music(3.0)
    y[: 4 * 512] = 0.9
    y[4 * 512 + 8 * 512:] = -0.9
    window = 8 * 512
    got = cut_windows(y, [4 * 512], window, block=1000)
    alone = extract_features(torch.from_numpy(y[4 * 512: 4 * 512 + window]))[None]
    torch.testing.assert_close(got, alone, atol=1e-3, rtol=1e-4)


def test_memory_is_bounded_and_forgotten_frames_cannot_be_cut():
    y = music(6.0)
    stream = FrameStream("cpu", chunk_frames=100)
    kept = []
    for i in range(0, len(y), 4410):
        stream.push(y[i:i + 4410])
        stream.forget_before(stream.n_samples - SR)  # a caller needing the last second only
        kept.append(stream.frames.shape[0])
        assert len(stream.context) < 2048 + 512
    assert max(kept) <= SR // 512 + 4410 // 512 + 2
    assert stream.next_frame == (len(y) - 1024) // 512 + 1  # every frame whose samples are in
    heads, tails = edge_segments(y[:4096])
    edges = torch.from_numpy(np.stack([heads, tails]))
    with pytest.raises(ValueError, match="not in the stream"):
        stream.cut([0], 9, edges)
    with pytest.raises(ValueError, match="frame grid"):
        stream.cut([100], 9, edges)


def test_frames_wait_for_their_last_sample():
    stream = FrameStream("cpu")
    stream.push(np.zeros(1023, np.float32))
    assert stream.next_frame == 0  # frame 0 spans samples -1024..1023
    stream.push(np.zeros(1, np.float32))
    assert stream.next_frame == 1 and stream.frames.shape == (1, FRAME_DIM)


def test_edge_segments_shapes_and_short_windows():
    head, tail = edge_segments(np.arange(MIN_WINDOW_SAMPLES, dtype=np.float32))
    assert head.shape == tail.shape == (2560,)
    assert (head[:1024] == 0).all() and head[1024] == 0.0 and head[-1] == 1535.0
    assert tail[0] == 0.0 and tail[1535] == 1535.0 and (tail[1536:] == 0).all()
    with pytest.raises(ValueError, match="shorter"):
        edge_segments(np.zeros(MIN_WINDOW_SAMPLES - 1, np.float32))
