"""Inference: audio -> sliding windows -> features -> model -> aligned palettes.

One streaming pass over the audio (:func:`m2p.audio.decode.stream`), in named stages
(:class:`PaletteEngine`): source -> frames (each feature frame computed once over the
stream, :mod:`m2p.features.stream`) -> windows (each window's frame rows cut from the stream;
the window stage of :mod:`m2p.features.frames`) -> encode -> decode -> align -> result, a batch of
windows at a time on the chosen device. Memory stays bounded: only the samples and frames the
pending windows still need are kept, plus one batch of windows.

Frame grid
    Windows are cut on the 512-sample frame grid: a window whose start is off the grid is
    analysed from the grid point before it (at most 511 samples, 23 ms, earlier); its span and
    time are unchanged. The end-aligned tail window, and a clip shorter than one window, are
    analysed alone from their exact samples. See ``docs/decisions.md`` for the effect.

Window layout (:func:`window_spans`)
    Windows of ``window`` seconds start at 0, ``hop``, ``2 hop``...; when the last of them
    ends before the audio does, one more window aligned with the end of the audio covers the
    tail. A clip shorter than one window gives a single window holding all of it; a clip
    shorter than :data:`MIN_AUDIO_SECONDS` raises :class:`~m2p.errors.AudioTooShortError`.

Noise and coherence in time
    The model takes a Gaussian noise vector added to its music embedding (that is where the
    diversity of palettes comes from). Exactly *one* noise vector is drawn per call, from
    ``seed`` on the CPU, and shared by every window and by the whole-piece palette: the track
    changes only where the music changes, not because each window got a different draw. The
    draw happens on the CPU so a seed means the same noise on every device; results are
    reproducible for the same input, seed, model and device.

Slot alignment
    Neighbouring palettes are matched colour to colour with the Hungarian algorithm
    (:func:`m2p.colour.assignment.linear_sum_assignment`) on CIEDE2000 differences, and each palette
    is reordered so a colour keeps its slot over time (the order of the first palette is the
    decoder's). Slots are positions; a shorter palette fills the first slots, and slots that
    come back are matched to the colours they last had (see :func:`align_palettes`).

Whole-piece palette
    The mean over windows of the music embedding and of the encoder memory (patch tokens,
    position by position) is decoded once, with the same noise; its emotion is the mean of the
    windows' emotions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from m2p.errors import AudioTooShortError, InvalidArgumentError

if TYPE_CHECKING:
    import torch

    from m2p.model.network import MusicEncoding, Music2Palette
    from m2p.palette_types import Palette, PaletteTrack

__all__ = [
    "MIN_AUDIO_SECONDS",
    "MIN_HOP_SECONDS",
    "MAX_WINDOWS",
    "DEFAULT_WINDOW",
    "DEFAULT_HOP",
    "DEFAULT_BATCH_SIZE",
    "DIVERSITY_NOISE",
    "window_spans",
    "resolve_model",
    "run_inference",
    "InferenceResult",
    "align_palettes",
    "window_layout",
    "PaletteEngine",
    "WindowPalette",
    "alternative_numbers",
]

#: Shortest audio the model is asked to hear, in seconds.
MIN_AUDIO_SECONDS = 1.0
#: Smallest hop between window starts, seconds. Below this neighbouring windows differ by a
#: few feature frames (23 ms each), so the track gains nothing but run time.
MIN_HOP_SECONDS = 0.05
#: Most windows one call analyses (about 14 hours at the default hop); more is refused before
#: any work with the hop that would fit, so no argument can make a run without limit.
MAX_WINDOWS = 20_000
#: Default analysis window, seconds.
DEFAULT_WINDOW = 10.0
#: Default hop between window starts, seconds.
DEFAULT_HOP = 2.5
#: Default number of windows per model batch.
DEFAULT_BATCH_SIZE = 16
#: Noise scale used by ``palettes(n=...)`` when the model's own default is 0 (no diversity).
DIVERSITY_NOISE = 0.5

# Blocks read from the audio stream: small enough to keep memory low, large enough that the
# per-block overhead (resampling context, Python) is negligible.
_STREAM_BLOCK_SECONDS = 10.0
# Whole-piece palettes decoded per model call by palettes(n): bounds memory for any n.
_DECODE_ROWS = 64
# Mid grey, substituted by the never-NaN guard for a colour the decoder failed to produce.
_GREY = (50.0, 0.0, 0.0)
#: Time constant, s, of the smoothing of a family-choosing model's family scores (and of a
#: length-keyed model's length keys) along a track: the palette family and length follow
#: changes of the music, not near-ties between neighbouring windows.
_FAMILY_SMOOTHING_SECONDS = 7.5
#: Time constant, s, of the smoothing of the music embedding the decoder hears along a track:
#: the same music heard at another phase of the window (a loop, a steady groove) moved the
#: palette by up to 19 CIEDE2000 between neighbouring windows without it (docs/decisions.md).
_EMBEDDING_SMOOTHING_SECONDS = 7.5
#: Margin, nats, by which another palette family's smoothed score must beat the family in use
#: before a track switches to it: near-ties flipped a looped excerpt between two families.
_FAMILY_SWITCH_MARGIN = 0.2


@dataclass(frozen=True)
class InferenceResult:
    """What :func:`run_inference` returns.

    Attributes
    ----------
    track
        The :class:`~m2p.palette_types.PaletteTrack` for the first seed (None when per-window
        palettes were not asked for).
    overall
        One whole-piece :class:`~m2p.palette_types.Palette` per seed, in seed order.
    duration
        Audio length in seconds (after resampling to 22,050 Hz).
    """

    track: "PaletteTrack | None"
    overall: tuple["Palette", ...]
    duration: float


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def window_spans(n_samples: int, *, window_samples: int, hop_samples: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, end)`` of the analysis windows over ``n_samples`` samples.

    Windows start at 0, ``hop_samples``, ... while they fit; if the last one ends before
    ``n_samples`` a final window ``[n_samples - window_samples, n_samples)`` is added. Fewer
    samples than one window give the single span ``[0, n_samples)``. The streaming pass of
    :func:`run_inference` produces exactly these spans.
    """
    if n_samples <= 0:
        return []
    if n_samples <= window_samples:
        return [(0, n_samples)]
    spans = [(s, s + window_samples) for s in range(0, n_samples - window_samples + 1, hop_samples)]
    if spans[-1][1] < n_samples:
        spans.append((n_samples - window_samples, n_samples))
    return spans


def resolve_model(model: Any, device: Any) -> tuple["Music2Palette", "torch.device"]:
    """Turn the ``model=`` and ``device=`` arguments of the API into a model and a device.

    Parameters
    ----------
    model
        A :class:`~m2p.model.network.Music2Palette` instance, a model directory (str or PathLike),
        or None for the shipped weights (:func:`m2p.model.weights.load_model`).
    device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a
        ``torch.device``. For a model instance, ``"auto"`` means the device it is already on;
        any other device moves the instance there (``nn.Module.to`` works in place).

    Raises
    ------
    ModelNotFoundError, ModelFormatError
        From :func:`m2p.model.weights.load_model`.
    TypeError
        ``model`` is none of the accepted kinds.
    """
    from m2p.model.network import Music2Palette
    from m2p.model.weights import load_model, resolve_device

    if isinstance(model, Music2Palette):
        if isinstance(device, str) and device.strip().lower() == "auto":
            return model, _module_device(model)
        target = resolve_device(device)
        if _module_device(model) != target:
            model.to(target)
        return model, target
    if model is None or isinstance(model, (str, os.PathLike)):
        target = resolve_device(device)
        return load_model(model, device=target), target
    raise TypeError(
        f"model must be a Music2Palette, a model directory or None, got {type(model).__name__}"
    )


def run_inference(
    source: Any,
    *,
    model: "Music2Palette",
    device: "torch.device",
    seeds: Sequence[int],
    noise_scale: float,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    per_window: bool = True,
    sample_rate: int | None = None,
    progress: bool = False,
    alternatives: Sequence[int] | None = None,
) -> InferenceResult:
    """Run the whole pipeline over one audio source (arguments already validated).

    Parameters
    ----------
    source
        Audio path, or a NumPy array with ``sample_rate``.
    model, device
        From :func:`resolve_model`.
    seeds
        One or more seeds; each gets its own noise vector and whole-piece palette. The track
        (when ``per_window``) uses the first.
    noise_scale
        Standard deviation of the embedding noise (0 = deterministic, seed irrelevant).
    window, hop
        Window length and hop in seconds.
    batch_size
        Windows per model batch.
    per_window
        Also decode and align one palette per window (a :class:`PaletteTrack`); False decodes
        only the whole-piece palette(s).
    sample_rate
        Sample rate of an array source, Hz.
    progress
        Show a tqdm progress bar (on stderr) counting windows.
    alternatives
        For a family-choosing model, the alternative number of each seed (0 = the family most
        characteristic of the music; ``Music2Palette.music_offsets``); default: the seeds.
        Ignored (all 0) when ``noise_scale`` is 0.
    """
    from m2p.audio.decode import SAMPLE_RATE, probe, stream
    from m2p.palette_types import PaletteTrack
    from m2p.audio.prefetch import prefetch

    window_samples, hop_samples = window_layout(window, hop)
    name = _source_name(source)
    _check_window_count(source, sample_rate, window_samples, hop_samples, probe)
    engine = PaletteEngine(model, device=device, seeds=seeds, noise_scale=noise_scale,
                           window_samples=window_samples, hop_samples=hop_samples,
                           batch_size=batch_size, per_window=per_window,
                           alternatives=alternatives)
    windows: list[WindowPalette] = []
    shown = 0  # windows counted on the progress bar
    # Decoding runs a few blocks ahead in a thread, overlapping the analysis of earlier ones.
    blocks = prefetch(stream(source, sample_rate=sample_rate, block_seconds=_STREAM_BLOCK_SECONDS))
    bar = _progress_bar(source, sample_rate, window_samples, hop_samples, progress, probe)
    try:
        for block in blocks:
            done = engine.feed(block)
            windows.extend(done)
            bar.update(engine.decoded - shown)
            shown = engine.decoded
            if engine.emitted > MAX_WINDOWS:  # the header under-stated the length
                raise InvalidArgumentError(
                    f"more than {MAX_WINDOWS} windows at hop {hop_samples / SAMPLE_RATE:g} s; "
                    "use a longer hop", source=name)
        n_samples = engine.n_samples
        if n_samples < MIN_AUDIO_SECONDS * SAMPLE_RATE:
            raise AudioTooShortError(
                f"audio is {n_samples / SAMPLE_RATE:.2f} s long; at least "
                f"{MIN_AUDIO_SECONDS:g} s is needed",
                source=name,
            )
        windows.extend(engine.finish())
        bar.update(engine.decoded - shown)
        overall = engine.overall()
    finally:
        blocks.close()  # stops a decoder subprocess at once when we fail midway
        bar.close()

    duration = n_samples / SAMPLE_RATE
    track = None
    if per_window:
        track = PaletteTrack(
            times=np.asarray([w.time for w in windows]),
            palettes=tuple(w.palette for w in windows),
            # The lengths actually used: rounded to whole samples (and the hop floor).
            window=window_samples / SAMPLE_RATE if n_samples >= window_samples else window,
            hop=hop_samples / SAMPLE_RATE,
            duration=duration,
            source=None if isinstance(source, np.ndarray) else os.fspath(source),
            seed=int(seeds[0]),
            overall=overall[0],
        )
    return InferenceResult(track=track, overall=overall, duration=duration)


def alternative_numbers(seeds: Sequence[int], noise_scale: float,
                        alternatives: Sequence[int] | None = None) -> list[int]:
    """The alternative number of each seed for a family-choosing model
    (``Music2Palette.music_offsets``): ``alternatives``, by default the seeds themselves, and
    0 for every seed when ``noise_scale`` is 0, because noise 0 is deterministic (the family
    most characteristic of the music, whatever the seed).
    """
    if not noise_scale > 0:
        return [0] * len(seeds)
    return [int(a) for a in (seeds if alternatives is None else alternatives)]


def window_layout(window: float, hop: float) -> tuple[int, int]:
    """Window and hop lengths in samples at 22,050 Hz. The hop is a whole number of 512-sample
    analysis frames (the nearest one, at least :data:`MIN_HOP_SECONDS`; 2.5 s -> 108 frames,
    2.5078 s), so every window starts on the frame grid and is cut from one frame stream."""
    from m2p.audio.decode import SAMPLE_RATE
    from m2p.features.frames import HOP_LENGTH

    window_samples = max(1, int(round(window * SAMPLE_RATE)))
    hop_frames = max(math.ceil(MIN_HOP_SECONDS * SAMPLE_RATE / HOP_LENGTH),
                     int(round(hop * SAMPLE_RATE / HOP_LENGTH)))
    return window_samples, hop_frames * HOP_LENGTH


@dataclass(frozen=True)
class WindowPalette:
    """The palette of one analysis window, as :class:`PaletteEngine` hands it out.

    Attributes
    ----------
    start, end
        Window bounds in seconds from the start of the audio.
    palette
        Its :class:`~m2p.palette_types.Palette`, colour slots aligned with the previous window's.
    """

    start: float
    end: float
    palette: "Palette"

    @property
    def time(self) -> float:
        """The window centre, s (the time a track gives this palette)."""
        return (self.start + self.end) / 2


class PaletteEngine:
    """The stages after the audio source, one pass: windows -> encode -> decode -> align.

    Feed it mono float32 blocks at 22,050 Hz (:func:`m2p.audio.decode.stream` for a file, a live
    source for :mod:`m2p.inference.live`); each window is cut as soon as its samples are in
    (:class:`_Windower`), encoded and decoded in batches, and its palette aligned with the
    previous one. :func:`run_inference` and :class:`m2p.inference.live.PaletteStream` are thin loops around
    it, so a live stream gives the offline track's palettes.

    Parameters
    ----------
    model, device
        From :func:`resolve_model`.
    seeds, noise_scale, alternatives, per_window
        As in :func:`run_inference`.
    window_samples, hop_samples
        From :func:`window_layout`.
    batch_size
        Windows per model batch: :meth:`feed` waits until this many are complete, unless
        ``flush=True``.
    shared_frames
        Compute each feature frame once over the stream and cut the windows from it
        (:mod:`m2p.features.stream`) when the hop is a whole number of 512-sample frames (always
        with :func:`window_layout`), which gives the same features as each window alone;
        other hops, and False, analyse every window alone from its exact samples (the
        reference path, about 3x slower at 4x overlap).
    """

    def __init__(self, model: "Music2Palette", *, device: "torch.device", seeds: Sequence[int],
                 noise_scale: float, window_samples: int, hop_samples: int,
                 batch_size: int = DEFAULT_BATCH_SIZE, per_window: bool = True,
                 alternatives: Sequence[int] | None = None, shared_frames: bool = True) -> None:
        import torch

        from m2p.audio.decode import SAMPLE_RATE
        from m2p.features.frames import HOP_LENGTH
        from m2p.features.stream import MIN_WINDOW_SAMPLES, FrameStream

        self.model, self.device = model, device
        self.seeds = [int(s) for s in seeds]
        self.batch_size, self.per_window = int(batch_size), bool(per_window)
        # One noise vector per seed, shared by every window (a steady passage keeps its palette).
        with torch.no_grad():
            self.noises = model.noise_for(self.seeds, float(noise_scale)).to(device)
        self.quantiles = model.stop_quantiles(self.seeds, float(noise_scale)).to(device)
        self.alternatives = alternative_numbers(self.seeds, noise_scale, alternatives)
        # Windows long enough to have interior frames are cut from one frame stream on the
        # 512-sample frame grid (each frame computed once), but only when every window starts
        # on that grid (the hop a whole number of frames): then the features and palettes are
        # those of each window analysed alone. Off the grid a shift of up to 23 ms moved palettes
        # by up to 9.7 CIEDE2000 on a real song (docs/decisions.md), so such hops take the exact
        # per-window path.
        shared = (shared_frames and window_samples >= MIN_WINDOW_SAMPLES
                  and hop_samples % HOP_LENGTH == 0)
        self.frames = FrameStream(device) if shared else None
        self.windower = _Windower(window_samples, hop_samples,
                                  grid=HOP_LENGTH if self.frames is not None else 1)
        self.summary = _EncodingSum()
        self.families = _FamilyChoice(hop_samples / SAMPLE_RATE)
        self.embeddings = _ScoreSmoother(hop_samples / SAMPLE_RATE, _EMBEDDING_SMOOTHING_SECONDS)
        self.aligner = _SlotAligner()
        self.pending: list[_Pending] = []
        self.decoded = 0

    @property
    def n_samples(self) -> int:
        """Samples fed so far."""
        return self.windower.n_samples

    @property
    def emitted(self) -> int:
        """Windows cut so far."""
        return self.windower.emitted

    def feed(self, block: np.ndarray, *, flush: bool = False) -> "list[WindowPalette]":
        """Add samples; return the palettes of the windows decoded by this call (in time
        order; empty when ``per_window`` is False). With ``flush``, every complete window is
        decoded now instead of waiting for a full batch (live use)."""
        out: list[WindowPalette] = []
        block = np.asarray(block, dtype=np.float32)
        if self.frames is not None:  # frames first: the windows below are cut from them
            self.frames.push(block)
        for start, samples in self.windower.feed(block):
            self.pending.append(self._pend(start, samples))
            if len(self.pending) >= self.batch_size:
                out.extend(self._run_batch())
        if flush and self.pending:
            out.extend(self._run_batch())
        self._forget()
        return out

    def finish(self) -> "list[WindowPalette]":
        """The end of the stream: decode the tail window and anything still pending."""
        # The tail window (or a clip shorter than one window) is analysed alone, from its
        # exact samples: one window, and it stays aligned with the end of the audio.
        self.pending.extend(_Pending(start, len(samples), start, samples=samples)
                            for start, samples in self.windower.finish())
        return self._run_batch() if self.pending else []

    def overall(self) -> "tuple[Palette, ...]":
        """One whole-piece palette per seed, from the windows seen so far (at least one)."""
        from m2p.palette_types import Palette

        with _inference(self.model):
            summary, model = self.summary, self.model
            embedding = summary.mean(batch=1).embedding
            scores = model.component_scores(embedding)
            noises = self.noises + model.music_offsets(scores, self.alternatives)[0]
            keys = model.length_keys(embedding)
            quantiles = model.keyed_quantiles(
                self.quantiles, None if keys is None else keys.expand(len(self.seeds)))
            lch, lengths = _decode_overall(model, summary, noises, quantiles)
        emotion, va = summary.mean_emotion()
        return tuple(Palette(lch[i][: int(lengths[i])], emotion, va) for i in range(len(self.seeds)))

    def _pend(self, start: int, samples: np.ndarray) -> "_Pending":
        """What a complete window needs until its batch runs (not its whole samples when it is
        cut from the frame stream: only its edge segments)."""
        from m2p.features.frames import HOP_LENGTH
        from m2p.features.stream import edge_segments

        if self.frames is None:
            return _Pending(start, len(samples), start, samples=samples)
        head, tail = edge_segments(samples)
        return _Pending(start, len(samples), start - start % HOP_LENGTH, head=head, tail=tail)

    def _forget(self) -> None:
        """Let the frame stream drop the frames no pending or future window needs."""
        if self.frames is not None:
            starts = [p.analysis_start for p in self.pending] + [self.windower.buffer_start]
            self.frames.forget_before(min(starts))

    def _features(self, pending: "list[_Pending]") -> "torch.Tensor":
        """(B, T, 539) raw features of pending windows of equal length: cut from the frame
        stream, or (windows handed out with their samples) analysed alone."""
        import torch

        from m2p.features.frames import extract_features, feature_extractor, frames_for_samples

        alone = [i for i, p in enumerate(pending) if p.samples is not None]
        cut = [i for i, p in enumerate(pending) if p.samples is None]
        parts = []
        if alone:
            waves = torch.from_numpy(np.stack([pending[i].samples for i in alone])).to(self.device)
            parts.append(extract_features(waves))
        if cut:
            assert self.frames is not None
            edges = [pending[i].head for i in cut] + [pending[i].tail for i in cut]
            rows = self.frames.cut([pending[i].analysis_start for i in cut],
                                   frames_for_samples(pending[cut[0]].length),
                                   torch.from_numpy(np.stack(edges)))
            parts.append(feature_extractor(self.device).window_features(rows))
        features = torch.cat(parts) if len(parts) > 1 else parts[0]
        order = alone + cut  # rows of ``features`` -> positions in ``pending``
        if order != sorted(order):
            features = features[torch.from_numpy(np.argsort(order))]
        return features

    def _run_batch(self) -> "list[WindowPalette]":
        from m2p.audio.decode import SAMPLE_RATE
        from m2p.palette_types import Palette

        pending, self.pending = self.pending, []
        out: list[WindowPalette] = []
        with _inference(self.model):
            model = self.model
            encoding = _encode(model, self._features(pending))
            self.summary.add(encoding)
            if self.per_window:
                heard = dataclasses.replace(encoding, embedding=self.embeddings.update(encoding.embedding))
                scores = self.families.update(model.component_scores(heard.embedding))
                noise = self.noises[0:1] + model.music_offsets(scores, self.alternatives[:1])[:, 0]
                quantiles = model.keyed_quantiles(self.quantiles[0:1].expand(len(pending)),
                                                  model.length_keys(heard.embedding))
                lch, lengths = _decode(model, heard, noise.expand(len(pending), -1), quantiles)
                emotion = _finite(encoding.emotion)
                va = _finite(encoding.valence_arousal)
                for i, p in enumerate(pending):
                    colours = self.aligner.align(lch[i, : int(lengths[i])])
                    out.append(WindowPalette(p.start / SAMPLE_RATE, (p.start + p.length) / SAMPLE_RATE,
                                             Palette(colours, emotion[i], va[i])))
        self.decoded += len(pending)
        return out


@dataclass(frozen=True)
class _Pending:
    """A complete window waiting for its batch: its span (``start``, ``length``, samples),
    the first sample of its analysis span (on the frame grid when cut from the frame stream),
    and either its edge segments (:func:`m2p.features.stream.edge_segments`) or, for a window
    analysed alone, its samples."""

    start: int
    length: int
    analysis_start: int
    head: np.ndarray | None = None
    tail: np.ndarray | None = None
    samples: np.ndarray | None = None


def align_palettes(palettes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Reorder each palette so that a colour keeps its slot (position) over time.

    Parameters
    ----------
    palettes
        CIELCh arrays (n_i, 3), in time order.

    Returns
    -------
    list of numpy.ndarray
        The same colours, reordered. The first palette keeps the decoder's order. For each
        later palette, every slot ``k`` it can fill is compared with the *reference* colour of
        that slot (the colour slot ``k`` had in the latest palette that had a slot ``k``),
        and colours are assigned to slots by the Hungarian algorithm on CIEDE2000
        differences; colours left over (a palette longer than any before) go last.

    Notes
    -----
    Slots are positions, because :meth:`PaletteTrack.at` interpolates slot ``k`` with slot
    ``k``. While neighbouring palettes have the same length this is plain neighbour matching.
    When a palette is shorter, its colours fill the first slots, matched against the previous
    palette's first slots; when the palette grows again, the reappearing slots are matched
    against the colours they last had, so a colour that disappears for a few windows comes
    back in its old place instead of wherever the decoder happened to emit it.
    """
    aligner = _SlotAligner()
    return [aligner.align(lch) for lch in palettes]


class _SlotAligner:
    """The state of :func:`align_palettes` between palettes (one palette at a time)."""

    def __init__(self) -> None:
        self.reference = np.zeros((0, 3))

    def align(self, lch: np.ndarray) -> np.ndarray:
        from m2p.colour.assignment import linear_sum_assignment

        colours = np.asarray(lch, dtype=np.float64)
        reference = self.reference
        slots = min(len(colours), len(reference))
        if slots:
            rows, cols = linear_sum_assignment(_alignment_cost(reference[:slots], colours))
            order = list(cols[np.argsort(rows)])
            taken = set(order)
            order += [j for j in range(len(colours)) if j not in taken]
            colours = colours[order]
        if len(colours) >= len(reference):
            self.reference = colours.copy()
        else:
            self.reference = np.concatenate([colours, reference[len(colours):]])
        return colours


# ----------------------------------------------------------------------------------------------
# Streaming windows
# ----------------------------------------------------------------------------------------------


class _Windower:
    """Cut a stream of sample blocks into the windows of :func:`window_spans`.

    Keeps only the samples that pending windows still need: from the next window start, or
    the last ``window`` samples (for a possible end-aligned tail window), whichever is earlier.

    With ``grid`` > 1 (the engine's 512-sample frame grid) the samples :meth:`feed` hands out
    with a window are those of its *analysis span*, ``window`` samples from the grid point at
    or before its start (``start - start % grid``); the spans themselves (and so the times of
    a track) are unchanged. :meth:`finish` hands out exact spans (those windows are analysed
    alone).
    """

    def __init__(self, window_samples: int, hop_samples: int, *, grid: int = 1) -> None:
        self.window = window_samples
        self.hop = hop_samples
        self.grid = max(1, int(grid))
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = 0  # absolute index of buffer[0]
        self.next_start = 0
        self.last_end = 0  # end of the last emitted window
        self.n_samples = 0
        self.emitted = 0

    def feed(self, block: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Add samples; yield ``(start, samples)`` for each window that is now complete."""
        self.buffer = np.concatenate([self.buffer, np.asarray(block, dtype=np.float32)])
        self.n_samples += len(block)
        ready = []
        while self.next_start + self.window <= self.n_samples:
            ready.append((self.next_start, self._span(self.next_start, self.window)))
            self.last_end = self.next_start + self.window
            self.next_start += self.hop
            self.emitted += 1
        keep_from = min(self.next_start, self.n_samples - self.window)
        keep_from -= keep_from % self.grid  # the analysis span starts at a grid point
        drop = max(0, keep_from - self.buffer_start)
        if drop:
            self.buffer = self.buffer[drop:].copy()
            self.buffer_start += drop
        return iter(ready)

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """The windows left at the end of the stream: the whole clip or the tail window."""
        n = self.n_samples
        if n == 0:
            return []
        if self.last_end == 0:  # shorter than one window: one window of what there is
            return [(0, self.buffer[: n].copy())]
        if self.last_end < n:  # its exact span: the tail window is analysed alone
            offset = n - self.window - self.buffer_start
            return [(n - self.window, self.buffer[offset:offset + self.window].copy())]
        return []

    def _span(self, start: int, length: int) -> np.ndarray:
        """A copy of the ``length`` samples of the analysis span of the window at ``start``."""
        offset = start - start % self.grid - self.buffer_start
        return self.buffer[offset:offset + length].copy()


# ----------------------------------------------------------------------------------------------
# Model steps
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _inference(model: "Music2Palette") -> Iterator[None]:
    """Dropout off and no autograd while inferring (a model handed in mid-training); its mode
    is restored after."""
    import torch

    was_training = model.training
    try:
        model.eval()
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def _encode(model: "Music2Palette", features: "torch.Tensor") -> "MusicEncoding":
    """Encode raw (B, T, 539) features."""
    import torch

    # Guard: features are finite for finite audio, but a NaN must never reach a palette.
    features = torch.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)
    return model.encode(features, None)


def _decode(
    model: "Music2Palette", encoding: "MusicEncoding", noise: "torch.Tensor",
    stop_quantile: "torch.Tensor",
) -> tuple[np.ndarray, np.ndarray]:
    """Decode with the given noise rows (B, d) added to the embedding and the stop quantiles
    (B,) (``Music2Palette.stop_quantiles``); gamut-mapped LCh."""
    import torch

    from m2p.colour.gamut import gamut_map_lch

    noisy = dataclasses.replace(encoding, embedding=encoding.embedding + noise.to(encoding.embedding.dtype))
    lch, lengths = model.generate(noisy, noise_scale=0.0, stop_quantile=stop_quantile)
    lch = gamut_map_lch(lch.to(torch.float64)).cpu().numpy()
    bad = ~np.isfinite(lch).all(axis=-1)
    if bad.any():  # guard only: never hand out NaN
        lch[bad] = _GREY
    return lch, lengths.cpu().numpy()


def _decode_overall(
    model: "Music2Palette", summary: "_EncodingSum", noises: "torch.Tensor",
    quantiles: "torch.Tensor",
) -> tuple[list[np.ndarray], list[int]]:
    """Decode the whole-piece palette once per noise row (and stop quantile), at most
    ``_DECODE_ROWS`` per call."""
    import torch

    lch: list[np.ndarray] = []
    lengths: list[int] = []
    for start in range(0, noises.shape[0], _DECODE_ROWS):
        rows = noises[start:start + _DECODE_ROWS]
        q = quantiles[start:start + _DECODE_ROWS]
        n = rows.shape[0]
        # Always a full batch of rows: the float rounding of the decoder's matrix products
        # depends on the batch size, and palettes(n=6)[:5] must equal palettes(n=5).
        pad = _DECODE_ROWS - n
        rows = torch.cat([rows, rows[-1:].expand(pad, -1)]) if pad else rows
        q = torch.cat([q, q[-1:].expand(pad)]) if pad else q
        part_lch, part_lengths = _decode(model, summary.mean(batch=_DECODE_ROWS), rows, q)
        part_lch, part_lengths = part_lch[:n], part_lengths[:n]
        lch.extend(part_lch)
        lengths.extend(int(n) for n in part_lengths)
    return lch, lengths


def _check_window_count(source, sample_rate, window_samples, hop_samples, probe) -> None:
    """Refuse a run that would analyse more than :data:`MAX_WINDOWS` windows (from the probe)."""
    from m2p.audio.decode import SAMPLE_RATE

    duration = probe(source, sample_rate=sample_rate).duration
    n = int(round(duration * SAMPLE_RATE))
    count = 1 if n <= window_samples else (n - window_samples) // hop_samples + 2
    if count > MAX_WINDOWS:
        need = (n - window_samples) / (MAX_WINDOWS - 1) / SAMPLE_RATE
        raise InvalidArgumentError(
            f"hop {hop_samples / SAMPLE_RATE:g} s gives {count} windows over {duration:.0f} s; "
            f"at most {MAX_WINDOWS} are analysed per call (use a hop of at least {need:.3g} s)",
            source=_source_name(source))


class _ScoreSmoother:
    """Exponential smoothing of per-window rows (B, K) (family scores, embeddings) over
    consecutive windows (causal, so a live stream gets the same choices as the offline track);
    passes None through."""

    def __init__(self, hop_seconds: float, time_constant: float = _FAMILY_SMOOTHING_SECONDS) -> None:
        self.keep = math.exp(-hop_seconds / time_constant)
        self.total: "torch.Tensor | None" = None  # sum of keep**age * row
        self.weight = 0.0  # sum of keep**age

    def update(self, scores: "torch.Tensor | None") -> "torch.Tensor | None":
        """Each row replaced by the weighted mean of the rows so far, weight ``keep ** age``
        (normalised, so the first windows are not pulled toward the very first one)."""
        if scores is None:
            return None
        out = scores.clone()
        for i in range(scores.shape[0]):
            row = scores[i]
            self.total = row if self.total is None else self.keep * self.total + row
            self.weight = self.keep * self.weight + 1.0
            out[i] = self.total / self.weight
        return out


class _FamilyChoice:
    """Smoothed family scores (B, K) along a track, with the family in use favoured by
    :data:`_FAMILY_SWITCH_MARGIN` (hysteresis: the default palette's family changes when the
    music changes, not at every near-tie); passes None through."""

    def __init__(self, hop_seconds: float) -> None:
        self.smoother = _ScoreSmoother(hop_seconds)
        self.current: int | None = None

    def update(self, scores: "torch.Tensor | None") -> "torch.Tensor | None":
        smoothed = self.smoother.update(scores)
        if smoothed is None:
            return None
        for i in range(smoothed.shape[0]):
            if self.current is not None:
                smoothed[i, self.current] += _FAMILY_SWITCH_MARGIN
            self.current = int(smoothed[i].argmax())
        return smoothed


class _EncodingSum:
    """Running sums of embeddings, memories and emotions over windows (bounded memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.embedding = self.memory = self.emotion = self.va = None

    def add(self, encoding: "MusicEncoding") -> None:
        emb = encoding.embedding.sum(0)
        mem = encoding.memory.sum(0)
        emo = _finite_tensor(encoding.emotion).sum(0)
        va = _finite_tensor(encoding.valence_arousal).sum(0)
        if self.count == 0:
            self.embedding, self.memory, self.emotion, self.va = emb, mem, emo, va
        else:
            # Every window has the same length (only a lone short clip differs), so the
            # memories have the same number of patches and add position by position.
            self.embedding, self.memory = self.embedding + emb, self.memory + mem
            self.emotion, self.va = self.emotion + emo, self.va + va
        self.count += encoding.embedding.shape[0]

    def mean(self, *, batch: int) -> "MusicEncoding":
        from m2p.model.network import MusicEncoding

        emb = (self.embedding / self.count).unsqueeze(0).expand(batch, -1)
        mem = (self.memory / self.count).unsqueeze(0).expand(batch, -1, -1)
        emotion = (self.emotion / self.count).unsqueeze(0).expand(batch, -1)
        va = (self.va / self.count).unsqueeze(0).expand(batch, -1)
        return MusicEncoding(
            embedding=emb, memory=mem, memory_mask=None, valence_arousal=va,
            emotion=emotion, emotion_logits=emotion.log(),
        )

    def mean_emotion(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            _finite(self.emotion / self.count),
            _finite(self.va / self.count),
        )


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _alignment_cost(a_lch: np.ndarray, b_lch: np.ndarray) -> np.ndarray:
    """(n_a, n_b) CIEDE2000 costs for the Hungarian alignment, never NaN (scipy rejects it)."""
    from m2p.colour.difference import ciede2000_matrix

    return np.nan_to_num(ciede2000_matrix(a_lch, b_lch), nan=1e6, posinf=1e6)


def _finite(tensor: "torch.Tensor") -> np.ndarray:
    return np.nan_to_num(tensor.detach().to("cpu").double().numpy(), nan=0.0, posinf=0.0, neginf=0.0)


def _finite_tensor(tensor: "torch.Tensor") -> "torch.Tensor":
    import torch

    return torch.nan_to_num(tensor.double(), nan=0.0, posinf=0.0, neginf=0.0)


def _module_device(model: "Music2Palette") -> "torch.device":
    import torch

    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def _source_name(source: Any) -> str | None:
    if isinstance(source, np.ndarray):
        return None
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else None


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(source, sample_rate, window_samples, hop_samples, enabled, probe):
    """A tqdm bar over windows (total from the probed duration), or a no-op."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    from m2p.audio.decode import SAMPLE_RATE

    total = None
    try:
        duration = probe(source, sample_rate=sample_rate).duration
        total = len(window_spans(int(round(duration * SAMPLE_RATE)),
                                 window_samples=window_samples, hop_samples=hop_samples)) or None
    except Exception:  # the stream reports the real error with its own message
        total = None
    label = os.path.basename(_source_name(source) or "audio")
    # delay: short files finish before the bar would appear, so only long ones show it.
    from m2p.exporters.render import bar_width

    return tqdm(total=total, unit="window", desc=label, delay=1.0, leave=False, **bar_width())
