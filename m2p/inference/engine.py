"""The palette engine: audio -> windows -> features -> encode -> decode -> aligned palettes.

One streaming pass over the audio (:func:`m2p.audio.decode.stream`, at the rate the model's
encoder hears), in named stages (:class:`PaletteEngine`): source -> frames (each feature frame
computed once over the stream when the encoder offers a frame stream,
:mod:`m2p.features.stream` for the shipped one) -> windows (:mod:`m2p.inference.windows`) ->
encode -> decode (the one decode policy, :mod:`m2p.model.decoding`) -> align
(:class:`m2p.colour.assignment.SlotAligner`) -> result, a batch of windows at a time on the
chosen device. Memory stays bounded: only the samples and frames the pending windows still
need are kept, plus one batch of windows. Along a track the embedding and the family scores
are smoothed causally (:mod:`m2p.inference.track_state`).

The input is opened and probed once per call (:func:`m2p.audio.sources.open_source`); the
window-count check, the progress bar's total and the stream all use that one opened source.

Noise and coherence in time
    The model takes a Gaussian noise vector added to its music embedding (that is where the
    diversity of palettes comes from). Exactly *one* noise vector is drawn per seed and call,
    from the seed on the CPU, and shared by every window and by the whole-piece palette: the
    track changes only where the music changes, not because each window got a different draw.
    The draw happens on the CPU so a seed means the same noise on every device; results are
    reproducible for the same input, seed, model and device.

Slot alignment
    Neighbouring palettes are matched colour to colour with the Hungarian algorithm on
    CIEDE2000 differences, and each palette is reordered so a colour keeps its slot over time
    (:func:`m2p.colour.assignment.align_palettes`).

Whole-piece palette
    The mean over windows of the music embedding and of the encoder memory (patch tokens,
    position by position) is decoded once per seed, with the seed's noise; its emotion is the
    mean of the windows' emotions.

Rhythm (issue 26)
    With ``rhythm="offline"`` the engine feeds the same blocks to the rhythm's own 16 kHz frame
    stream (:class:`m2p.rhythm.mel_stream.MelStream`: log-mel and chroma, resampled from the
    encoder's rate), keeps what :mod:`m2p.rhythm` needs (:class:`m2p.rhythm.frames.RhythmFrames`,
    a few kB per second) and :meth:`PaletteEngine.rhythm` finds the beats, downbeats, tempo and
    sections at the end; with ``"online"`` a causal tracker
    (:class:`m2p.rhythm.online.OnlineBeatTracker`) announces beats as the stream goes
    (:meth:`PaletteEngine.take_beats`). No second pass over the audio either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from m2p.errors import AudioTooShortError, InvalidArgumentError
from m2p.inference.windows import (
    DEFAULT_HOP,
    DEFAULT_WINDOW,
    MAX_WINDOWS,
    MIN_AUDIO_SECONDS,
    Windower,
    check_window_count,
    window_layout,
    window_spans,
)

if TYPE_CHECKING:
    import torch

    from m2p.audio.sources import Source
    from m2p.model.encoder import MusicEncoding
    from m2p.model.network import Music2Palette
    from m2p.palette_types import Palette, PaletteTrack
    from m2p.rhythm.online import BeatEvent
    from m2p.rhythm.rhythm_types import Rhythm

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DIVERSITY_NOISE",
    "resolve_model",
    "run_inference",
    "InferenceResult",
    "PaletteEngine",
    "WindowPalette",
]

#: Default number of windows per model batch.
DEFAULT_BATCH_SIZE = 16
#: Noise scale used by ``palettes(n=...)`` when the model's own default is 0 (no diversity).
DIVERSITY_NOISE = 0.5

# Blocks read from the audio stream: small enough to keep memory low, large enough that the
# per-block overhead (resampling context, Python) is negligible.
_STREAM_BLOCK_SECONDS = 10.0
# Output samples (16 kHz) per resampling segment of a live rhythm's frame stream (20 ms).
_LIVE_RHYTHM_SEGMENT = 320


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
        Audio length in seconds (after resampling to the encoder's rate).
    """

    track: "PaletteTrack | None"
    overall: tuple["Palette", ...]
    duration: float


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


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
    opened: "Source | None" = None,
    rhythm: bool = True,
    drops: bool = False,
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
        Show a progress bar (on stderr, :mod:`m2p._internal.progress`) counting windows.
    alternatives
        For a family-choosing model, the alternative number of each seed (0 = the family most
        characteristic of the music; ``Music2Palette.music_offsets``); default: the seeds.
        Ignored (all 0) when ``noise_scale`` is 0.
    opened
        ``source`` already opened by :func:`m2p.audio.sources.open_source` (a caller that
        checked it first); None opens it here. Either way it is opened once.
    rhythm
        Find the track's rhythm (False: ``track.rhythm`` is None; a library run that does not
        need it saves its cost, ``docs/performance.md``).
    drops
        Also mark builds and drops in the track's rhythm.

    Notes
    -----
    The track (``per_window``) carries the music's rhythm (:mod:`m2p.rhythm`), found in the
    same pass from the same decoded blocks (:class:`m2p.rhythm.mel_stream.MelStream`).
    """
    from m2p.audio.decode import stream
    from m2p.audio.prefetch import prefetch
    from m2p.audio.sources import open_source
    from m2p.palette_types import PaletteTrack

    audio = opened if opened is not None else open_source(source, sample_rate)
    rate = model.input.sample_rate
    window_samples, hop_samples = window_layout(window, hop, model.input)
    name = _source_name(source)
    expected = int(round(audio.info.duration * rate))
    check_window_count(audio.info.duration, sample_rate=rate, window_samples=window_samples,
                       hop_samples=hop_samples, source=name)
    engine = PaletteEngine(model, device=device, seeds=seeds, noise_scale=noise_scale,
                           window_samples=window_samples, hop_samples=hop_samples,
                           batch_size=batch_size, per_window=per_window,
                           alternatives=alternatives,
                           rhythm="offline" if per_window and rhythm else None)
    windows: list[WindowPalette] = []
    shown = 0  # windows counted on the progress bar
    # Decoding runs a few blocks ahead in a thread, overlapping the analysis of earlier ones.
    blocks = prefetch(stream(audio, block_seconds=_STREAM_BLOCK_SECONDS, target_rate=rate))
    bar = _progress_bar(name, expected, window_samples, hop_samples, progress)
    try:
        for block in blocks:
            done = engine.feed(block)
            windows.extend(done)
            bar.update(engine.decoded - shown)
            shown = engine.decoded
            if engine.emitted > MAX_WINDOWS:  # the header under-stated the length
                raise InvalidArgumentError(
                    f"more than {MAX_WINDOWS} windows at hop {hop_samples / rate:g} s; "
                    "use a longer hop", source=name)
        n_samples = engine.n_samples
        if n_samples < MIN_AUDIO_SECONDS * rate:
            raise AudioTooShortError(
                f"audio is {n_samples / rate:.2f} s long; at least "
                f"{MIN_AUDIO_SECONDS:g} s is needed",
                source=name,
            )
        windows.extend(engine.finish())
        bar.update(engine.decoded - shown)
        overall = engine.overall()
    finally:
        blocks.close()  # stops a decoder subprocess at once when we fail midway
        bar.close()

    duration = n_samples / rate
    track = None
    if per_window:
        track = PaletteTrack(
            times=np.asarray([w.time for w in windows]),
            palettes=tuple(w.palette for w in windows),
            # The lengths actually used: rounded to whole samples (and the hop floor).
            window=window_samples / rate if n_samples >= window_samples else window,
            hop=hop_samples / rate,
            duration=duration,
            source=_source_name(source),
            seed=int(seeds[0]),
            overall=overall[0],
            rhythm=engine.rhythm(duration, drops=drops),
        )
    return InferenceResult(track=track, overall=overall, duration=duration)


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

    Feed it mono float32 blocks at the rate the model's encoder hears
    (``model.input.sample_rate``; :func:`m2p.audio.decode.stream` for a file, a live source for
    :mod:`m2p.inference.live`); each window is cut as soon as its samples are in
    (:class:`~m2p.inference.windows.Windower`), encoded and decoded in batches, and its palette
    aligned with the previous one. :func:`run_inference` and
    :class:`m2p.inference.live.PaletteStream` are thin loops around it, so a live stream gives
    the offline track's palettes.

    Parameters
    ----------
    model, device
        From :func:`resolve_model`.
    seeds, noise_scale, alternatives, per_window
        As in :func:`run_inference`.
    window_samples, hop_samples
        From :func:`~m2p.inference.windows.window_layout` (samples at the encoder's rate).
    batch_size
        Windows per model batch: :meth:`feed` waits until this many are complete, unless
        ``flush=True``.
    shared_frames
        Compute each feature frame once over the stream and cut the windows from it (the
        encoder's ``frame_stream``, :mod:`m2p.features.stream` for the shipped one) when the
        hop is a whole number of the encoder's frames (always with ``window_layout``), which
        gives the same features as each window alone; other hops, encoders without a frame
        stream, and False analyse every window alone from its exact samples (the reference
        path, about 3x slower at 4x overlap).
    rhythm
        None; ``"offline"``: keep what :meth:`rhythm` needs to find beats and sections at the
        end; ``"online"``: track beats causally, read with :meth:`take_beats`. Both read the
        rhythm's own 16 kHz frames (:class:`m2p.rhythm.mel_stream.MelStream`), computed from
        the blocks fed here.
    """

    def __init__(self, model: "Music2Palette", *, device: "torch.device", seeds: Sequence[int],
                 noise_scale: float, window_samples: int, hop_samples: int,
                 batch_size: int = DEFAULT_BATCH_SIZE, per_window: bool = True,
                 alternatives: Sequence[int] | None = None, shared_frames: bool = True,
                 rhythm: str | None = None) -> None:
        from m2p.colour.assignment import SlotAligner
        from m2p.inference.track_state import (
            EMBEDDING_SMOOTHING_SECONDS,
            EncodingSum,
            FamilyChoice,
            ScoreSmoother,
        )
        from m2p.model.decoding import DecodePlan, DecodingOptions

        self.model, self.device = model, device
        self.sample_rate = model.input.sample_rate
        grid = model.input.hop_length
        self.batch_size, self.per_window = int(batch_size), bool(per_window)
        options = DecodingOptions(
            seeds=tuple(int(s) for s in seeds), noise_scale=float(noise_scale),
            alternatives=None if alternatives is None else tuple(alternatives))
        self.plan = DecodePlan(model, options, device)
        # Windows long enough to have interior frames are cut from one frame stream on the
        # encoder's frame grid (each frame computed once), but only when every window starts
        # on that grid (the hop a whole number of frames): then the features and palettes are
        # those of each window analysed alone. Off the grid a shift of up to 23 ms moved palettes
        # by up to 9.7 CIEDE2000 on a real song (docs/decisions.md), so such hops take the exact
        # per-window path.
        frames = None
        if shared_frames and hop_samples % grid == 0:
            frames = model.encoder.frame_stream(device)  # None: the encoder has none
        if frames is not None and window_samples < frames.min_window_samples:
            frames = None
        self.frames = frames
        self.windower = Windower(window_samples, hop_samples,
                                 grid=grid if self.frames is not None else 1)
        hop_seconds = hop_samples / self.sample_rate
        self.summary = EncodingSum()
        self.families = FamilyChoice(hop_seconds)
        self.embeddings = ScoreSmoother(hop_seconds, EMBEDDING_SMOOTHING_SECONDS)
        self.aligner = SlotAligner()
        self.pending: list[_Pending] = []
        self.decoded = 0
        self._music, self._rhythm = self._rhythm_state(rhythm)
        self._beats: list[BeatEvent] = []

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
        self._rhythm_update(block)
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
        out = self._run_batch() if self.pending else []
        if self._music is not None and not self._music.finished:  # the rhythm's last frames
            self._music.finish()
            self._rhythm_update(None)
        return out

    def rhythm(self, duration: float, *, drops: bool = False) -> "Rhythm | None":
        """The rhythm of the whole stream (``rhythm="offline"``; call after :meth:`finish`), or
        None without one.

        Parameters
        ----------
        duration
            Length of the audio, s.
        drops
            Also look for builds and drops.
        """
        from m2p.rhythm.analysis import analyze
        from m2p.rhythm.frames import RhythmFrames

        if not isinstance(self._rhythm, RhythmFrames) or duration <= 0:
            return None
        return analyze(self._rhythm, duration, drops=drops)

    @property
    def next_beat(self) -> float | None:
        """The predicted time, s, of the next beat (``rhythm="online"``, once the tracker has
        locked on; None otherwise): a display with its own latency can act ahead of it."""
        return getattr(self._rhythm, "next_beat", None)

    def take_beats(self) -> "list[BeatEvent]":
        """The beats announced since the last call (``rhythm="online"``; empty otherwise), in
        time order, each a :class:`m2p.rhythm.online.BeatEvent`."""
        beats, self._beats = self._beats, []
        return beats

    def overall(self) -> "tuple[Palette, ...]":
        """One whole-piece palette per seed, from the windows seen so far (at least one)."""
        from m2p.model.decoding import ROWS_PER_CALL
        from m2p.palette_types import Palette

        with _inference(self.model):
            lch, lengths = self.plan.decode(self.summary.mean(), rows_per_call=ROWS_PER_CALL)
        emotion, va = self.summary.mean_emotion()
        return tuple(Palette(lch[i][: int(lengths[i])], emotion, va) for i in range(len(lch)))

    def _rhythm_state(self, mode: str | None) -> tuple[Any, Any]:
        """(the rhythm's 16 kHz frame stream, the offline kept frames or the online tracker);
        Nones without a rhythm."""
        if mode is None:
            return None, None
        if mode not in ("offline", "online"):
            raise InvalidArgumentError(f"rhythm must be None, 'offline' or 'online', got {mode!r}")
        from m2p.rhythm.mel_stream import MelStream

        if mode == "offline":
            from m2p.rhythm.frames import RhythmFrames

            return MelStream(self.sample_rate), RhythmFrames()
        from m2p.rhythm.online import OnlineBeatTracker

        # Live: small resampling segments (about 20 ms), so frames lag the input little.
        return MelStream(self.sample_rate, segment_out=_LIVE_RHYTHM_SEGMENT), OnlineBeatTracker()

    def _rhythm_update(self, block: np.ndarray | None) -> None:
        """Push the block to the rhythm's frame stream and read the frames it added (then let
        the stream forget them: the rhythm has kept what it needs)."""
        if self._music is None:
            return
        if block is not None:
            self._music.push(block)
        events = self._rhythm.update(self._music)
        if events:
            self._beats.extend(events)
        self._music.forget_before(self._music.n_samples)

    def _pend(self, start: int, samples: np.ndarray) -> "_Pending":
        """What a complete window needs until its batch runs (not its whole samples when it is
        cut from the frame stream: only what its edge frames need)."""
        if self.frames is None:
            return _Pending(start, len(samples), start, samples=samples)
        return _Pending(start, len(samples), start - start % self.windower.grid,
                        edges=self.frames.edges(samples))

    def _forget(self) -> None:
        """Let the frame stream drop the frames no pending or future window needs."""
        if self.frames is not None:
            starts = [p.analysis_start for p in self.pending] + [self.windower.buffer_start]
            self.frames.forget_before(min(starts))

    def _features(self, pending: "list[_Pending]") -> "torch.Tensor":
        """(B, T, feature_dim) raw features of pending windows of equal length: cut from the
        frame stream, or (windows handed out with their samples) analysed alone."""
        import torch

        alone = [i for i, p in enumerate(pending) if p.samples is not None]
        cut = [i for i, p in enumerate(pending) if p.samples is None]
        parts = []
        if alone:
            waves = torch.from_numpy(np.stack([pending[i].samples for i in alone])).to(self.device)
            parts.append(self.model.encoder.features(waves))
        if cut:
            assert self.frames is not None
            parts.append(self.frames.window_features([pending[i].analysis_start for i in cut],
                                                     pending[cut[0]].length,
                                                     [pending[i].edges for i in cut]))
        features = torch.cat(parts) if len(parts) > 1 else parts[0]
        order = alone + cut  # rows of ``features`` -> positions in ``pending``
        if order != sorted(order):
            features = features[torch.from_numpy(np.argsort(order))]
        return features

    def _run_batch(self) -> "list[WindowPalette]":
        from m2p.inference.track_state import finite_array
        from m2p.palette_types import Palette

        pending, self.pending = self.pending, []
        out: list[WindowPalette] = []
        rate = self.sample_rate
        with _inference(self.model):
            encoding = _encode(self.model, self._features(pending))
            self.summary.add(encoding)
            if self.per_window:
                smoothed = self.embeddings.update(encoding.embedding)
                heard = dataclasses.replace(encoding, embedding=smoothed)
                # A track decodes its first seed, with its family choice along the track.
                lch, lengths = self.plan.decode(heard, seeds=slice(0, 1),
                                                family_filter=self.families.update)
                emotion = finite_array(encoding.emotion)
                va = finite_array(encoding.valence_arousal)
                for i, p in enumerate(pending):
                    colours = self.aligner.align(lch[i, : int(lengths[i])])
                    out.append(WindowPalette(p.start / rate, (p.start + p.length) / rate,
                                             Palette(colours, emotion[i], va[i])))
        self.decoded += len(pending)
        return out


@dataclass(frozen=True)
class _Pending:
    """A complete window waiting for its batch: its span (``start``, ``length``, samples),
    the first sample of its analysis span (on the frame grid when cut from the frame stream),
    and either what its edge frames need (the frame stream's ``edges``) or, for a window
    analysed alone, its samples."""

    start: int
    length: int
    analysis_start: int
    edges: Any = None
    samples: np.ndarray | None = None


# ----------------------------------------------------------------------------------------------
# Helpers
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
    """Encode raw (B, T, feature_dim) features."""
    import torch

    # Guard: features are finite for finite audio, but a NaN must never reach a palette.
    features = torch.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)
    return model.encode(features, None)


def _module_device(model: "Music2Palette") -> "torch.device":
    import torch

    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def _source_name(source: Any) -> str | None:
    """The path a track names as its source; None for samples (arrays, lists)."""
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else None


def _progress_bar(name: str | None, n_samples: int, window_samples: int, hop_samples: int,
                  enabled: bool) -> Any:
    """A bar over windows (total from the probed length; :mod:`m2p._internal.progress`)."""
    from m2p._internal.progress import progress_bar

    total = len(window_spans(n_samples, window_samples=window_samples, hop_samples=hop_samples))
    return progress_bar(total=total or None, unit="window", enabled=enabled,
                        desc=os.path.basename(name or "audio"))
