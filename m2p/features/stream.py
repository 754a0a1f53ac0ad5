"""Frame stream: every feature frame of a sample stream computed once, windows cut from it.

The features (:mod:`m2p.features.frames`) split into a *frame stage*, what each 2048-sample frame
determines on its own (mel power in dB, chroma, tonnetz, contrast peaks and valleys, RMS, YIN
pitch; :meth:`~m2p.features.frames.FeatureExtractor.frame_features`), and a *window stage*, what
depends on the whole window (the 80 dB floors below the window's maxima and the tempogram;
:meth:`~m2p.features.frames.FeatureExtractor.window_features`). With windows overlapping four times
(10 s every 2.5 s) the frame stage was most of the work; here it runs once per frame of the
stream, and each window's frame-stage rows are cut from the stream.

Exactness
    A window analysed on the stream's frame grid (its first sample a multiple of 512) has the
    same frames as the window analysed alone, except the two frames at each end, whose
    2048-sample spans reach past the window: alone they see zeros there, in the stream the
    neighbouring audio. Those four frames are recomputed from the window's own samples with
    the zero padding (:meth:`FrameStream.cut`), so the result equals
    :func:`~m2p.features.frames.extract_features` of the window up to float rounding.

Memory
    Only the samples the next frames need (under 2048 plus the newest block) and the frames
    the caller still needs (:meth:`FrameStream.forget_before`) are kept; frames are computed
    in chunks of at most :data:`CHUNK_FRAMES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from m2p.features.frames import FRAME_DIM, HOP_LENGTH, N_FFT, feature_extractor, frames_for_samples

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["CHUNK_FRAMES", "EDGE_FRAMES", "MIN_WINDOW_SAMPLES", "FrameStream", "edge_segments"]

#: Most frames computed per call of the frame stage (about 47 s of audio; a few tens of MB).
CHUNK_FRAMES = 2048
#: Frames at each end of a window whose 2048-sample span reaches past the window.
EDGE_FRAMES = N_FFT // 2 // HOP_LENGTH
#: Shortest window cut from a stream: it must have interior frames between its edge frames
#: (shorter windows are analysed alone).
MIN_WINDOW_SAMPLES = 3 * HOP_LENGTH

_HALF = N_FFT // 2  # centred frames: frame i covers stream samples [512 i - 1024, 512 i + 1024)
# Samples of the padded window that the two edge frames at one end span: 512 + 2048.
_EDGE_SPAN = (EDGE_FRAMES - 1) * HOP_LENGTH + N_FFT


class FrameStream:
    """Frame-stage features of a mono 22,050 Hz stream, each frame computed once.

    Frame ``i`` is centred on stream sample ``512 i`` (zeros before the stream's start); it is
    computed as soon as its last sample has been pushed. This is the shared-frames path of the
    AST encoder (:meth:`m2p.model.encoder.AstEncoder.frame_stream`): the palette engine pushes
    the stream, keeps :meth:`edges` of each complete window and asks for
    :meth:`window_features` of a batch of them.

    Parameters
    ----------
    device
        Where the frame stage runs and the frames are kept.
    chunk_frames
        Most frames per call of the frame stage (bounds the memory of one call).
    """

    def __init__(self, device: "torch.device | str" = "cpu", *, chunk_frames: int = CHUNK_FRAMES) -> None:
        self.extractor = feature_extractor(device)
        self.device = torch.device(device)
        self.chunk_frames = max(1, int(chunk_frames))
        # Samples of the zero-padded stream (``_HALF`` zeros, then the stream) from index
        # ``context_start``: what the frames not yet computed still need.
        self.context = np.zeros(_HALF, np.float32)
        self.context_start = 0
        self.n_samples = 0
        self.next_frame = 0  # first frame not yet computed
        self.frames = torch.zeros(0, FRAME_DIM, device=self.device)  # frames first_frame...
        self.first_frame = 0

    #: Shortest window cut from the stream (:data:`MIN_WINDOW_SAMPLES`).
    min_window_samples = MIN_WINDOW_SAMPLES

    @staticmethod
    def edges(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What a complete window keeps until its batch runs: :func:`edge_segments`."""
        return edge_segments(samples)

    def window_features(self, starts: Sequence[int], window_samples: int,
                        edges: Sequence[tuple[np.ndarray, np.ndarray]]) -> "Tensor":
        """The 539 raw features of windows of equal length cut from the stream, equal to
        :func:`~m2p.features.frames.extract_features` of each window alone (float rounding).

        Parameters
        ----------
        starts
            First sample of each window (B,), multiples of 512 (see :meth:`cut`).
        window_samples
            Samples per window.
        edges
            :meth:`edges` of each window.

        Returns
        -------
        Tensor
            float32 ``(B, 1 + window_samples // 512, 539)``.
        """
        stacked = np.stack([head for head, _ in edges] + [tail for _, tail in edges])
        rows = self.cut(starts, frames_for_samples(window_samples), torch.from_numpy(stacked))
        return self.extractor.window_features(rows)

    def push(self, block: np.ndarray) -> None:
        """Add samples and compute every frame they complete.

        Parameters
        ----------
        block
            float32 ``(samples,)`` at 22,050 Hz, the continuation of the stream.
        """
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self.n_samples += len(block)
        buf = np.concatenate([self.context, block]) if len(block) else self.context
        # Frame i ends at padded index 512 i + 2048, i.e. stream sample 512 i + 1024.
        ready = max(0, (self.n_samples - _HALF) // HOP_LENGTH + 1) if self.n_samples >= _HALF else 0
        new = []
        while self.next_frame < ready:
            stop = min(ready, self.next_frame + self.chunk_frames)
            a = HOP_LENGTH * self.next_frame - self.context_start
            seg = buf[a : a + HOP_LENGTH * (stop - self.next_frame - 1) + N_FFT]
            x = torch.from_numpy(np.ascontiguousarray(seg))[None].to(self.device)
            new.append(self.extractor.frame_features(x, stop - self.next_frame)[0])
            self.next_frame = stop
        keep = HOP_LENGTH * self.next_frame - self.context_start
        self.context = buf[keep:].copy()  # a copy: the block's other samples can be freed
        self.context_start += keep
        if new:
            self.frames = torch.cat([self.frames, *new])

    def forget_before(self, sample: int) -> None:
        """Drop the frames centred before stream sample ``sample`` (no longer needed)."""
        first = max(self.first_frame, min(int(sample) // HOP_LENGTH, self.next_frame))
        if first > self.first_frame:
            self.frames = self.frames[first - self.first_frame :]
            self.first_frame = first

    def cut(self, starts: Sequence[int], n_frames: int, edges: "Tensor") -> "Tensor":
        """The frame-stage rows of windows of equal length, as if each were analysed alone.

        Parameters
        ----------
        starts
            First sample of each window (B,), multiples of 512; each window's interior frames
            already computed and not forgotten.
        n_frames
            Frames per window, ``1 + window_samples // 512`` (window at least
            :data:`MIN_WINDOW_SAMPLES` long).
        edges
            float32 ``(2 B, 2560)``: :func:`edge_segments` of each window, the B heads then
            the B tails.

        Returns
        -------
        Tensor
            float32 ``(B, n_frames, FRAME_DIM)``: interior frames copied from the stream, the
            ``EDGE_FRAMES`` frames at each end recomputed with the window's zero padding.
        """
        b, last = len(starts), n_frames - EDGE_FRAMES
        out = torch.empty(b, n_frames, FRAME_DIM, device=self.device)
        for k, start in enumerate(starts):
            if start % HOP_LENGTH:
                raise ValueError(f"window start {start} is not on the 512-sample frame grid")
            first = start // HOP_LENGTH
            if first < self.first_frame or first + last > self.next_frame:
                raise ValueError(f"the frames of the window at sample {start} are not in the stream")
            i0 = first - self.first_frame
            out[k, EDGE_FRAMES:last] = self.frames[i0 + EDGE_FRAMES : i0 + last]
        ends = self.extractor.frame_features(edges.to(self.device), EDGE_FRAMES)  # (2B, 2, FRAME_DIM)
        out[:, :EDGE_FRAMES] = ends[:b]
        out[:, last:] = ends[b:]
        return out


def edge_segments(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples the edge frames of a window span, zero-padded as the window alone is.

    Parameters
    ----------
    samples
        float32 ``(window_samples,)``, at least :data:`MIN_WINDOW_SAMPLES`.

    Returns
    -------
    head, tail
        float32 ``(2560,)`` each: frame ``j`` of a segment (``segment[512 j : 512 j + 2048]``)
        is frame ``j`` (head) or ``T - EDGE_FRAMES + j`` (tail) of the window, ``T`` its frame
        count; small enough to keep per pending window instead of the whole window.
    """
    n = len(samples)
    if n < MIN_WINDOW_SAMPLES:
        raise ValueError(f"a window of {n} samples is shorter than {MIN_WINDOW_SAMPLES}")
    head = np.zeros(_EDGE_SPAN, np.float32)
    head[_HALF:] = samples[: _EDGE_SPAN - _HALF]
    n_frames = 1 + n // HOP_LENGTH
    a = HOP_LENGTH * (n_frames - EDGE_FRAMES) - _HALF  # window sample where the tail span starts
    tail = np.zeros(_EDGE_SPAN, np.float32)
    tail[: n - a] = samples[a:]
    return head, tail
