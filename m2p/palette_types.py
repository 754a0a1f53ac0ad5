"""The value types users get back: :class:`Palette` and :class:`PaletteTrack`.

Both are immutable (frozen dataclasses holding read-only NumPy arrays), validated on
construction (no NaN or infinity ever gets in), comparable with ``==`` and hashable.

Colours are stored in CIELCh (D65): L in [0, 100], C >= 0, h in degrees [0, 360). Display
forms (``.hex``, ``.rgb``) are gamut-mapped into sRGB by reducing chroma at constant lightness
and hue (:func:`m2p.colour.gamut.gamut_map_lch`).

Building, viewing, growing (:meth:`Palette.take`), serialising and rendering them needs only
NumPy (and Pillow for pictures): torch is never imported.

Note on names: ``m2p.palette`` is the *function* that makes a palette from music; import the
value types as ``from m2p.palette_types import Palette, PaletteTrack`` (or ``m2p.Palette``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain
from dataclasses import dataclass, field
from functools import cached_property
from os import PathLike
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from m2p.colour.convert_np import hex_to_lch, lab_to_lch, lch_to_lab, rgb8_to_hex
from m2p.colour.emotion import EMOTIONS, N_EMOTIONS, palette_emotion, palette_valence_arousal
from m2p.colour.gamut import lch_to_rgb8
from m2p.errors import InvalidArgumentError, TrackError

if TYPE_CHECKING:
    from m2p.rhythm.rhythm_types import Rhythm

__all__ = ["MAX_SAMPLE_TIMES", "MAX_TRACK_PALETTES", "Palette", "PaletteTrack", "TRACK_FORMAT",
           "TRACK_FORMAT_VERSION", "TrackSamples"]

#: ``"format"`` value of a palette-track JSON document.
TRACK_FORMAT = "music2palette.track"
#: Version of the palette-track JSON layout written by :meth:`PaletteTrack.to_json` for a track
#: with a rhythm (version 2 adds the ``"rhythm"`` key; a track without one is still written as
#: version 1, which every reader reads). Versions 1 and 2 are read.
TRACK_FORMAT_VERSION = 2


#: Most colours a palette may hold. The model emits 3 to 8; the cap keeps a hostile document
#: (a 5,000-colour "palette") from costing quadratic alignment and rendering time.
MAX_COLORS = 64
#: Largest palette-track JSON file :meth:`PaletteTrack.load_json` reads, in bytes (a 24-hour
#: track at the default hop is about 15 MB).
MAX_JSON_BYTES = 64 * 1024 * 1024
#: Most palettes a palette-track document may hold: twice the 20,000 windows m2p analyses per
#: track. A hostile document at the cap (one-colour palettes without emotions, the slowest
#: kind) loads in about 15 s on a 2-core machine (docs/reliability.md); 1,000,000 took 7 min.
MAX_TRACK_PALETTES = 40_000
#: Most times one :meth:`PaletteTrack.sample` call reads (an hour of video at 240 frames per
#: second is 864,000); the result alone is about 260 bytes per time.
MAX_SAMPLE_TIMES = 1_000_000
# Times interpolated at once inside sample(): bounds its temporaries (about 2 KB per time).
_SAMPLE_CHUNK = 65_536

# Below this chroma a colour is practically grey and its hue carries no information, so hue
# interpolation takes the hue of the other end instead of sweeping through the wheel.
_ACHROMATIC_CHROMA = 1.0
# Float slack accepted on L and C bounds before clipping (decoders and interpolation round).
_RANGE_SLACK = 1e-6


class TrackSamples(NamedTuple):
    """A palette track read at many times (:meth:`PaletteTrack.sample`)."""

    lch: np.ndarray
    """(Q, max_colors, 3) CIELCh; entries past ``counts[q]`` are zero."""
    counts: np.ndarray
    """(Q,) number of colours at each time."""
    emotion: np.ndarray
    """(Q, 8) emotion distributions."""
    valence_arousal: np.ndarray
    """(Q, 2) valence-arousal."""


# ----------------------------------------------------------------------------------------------
# Palette
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Palette:
    """An immutable colour palette with the emotion it goes with.

    Parameters
    ----------
    lch
        (n, 3) colours in CIELCh: L in [0, 100], C >= 0, h in degrees (any value; stored
        modulo 360). n >= 1.
    emotion
        (8,) emotion weights in the order of :data:`m2p.colour.emotion.EMOTIONS` (excited, happy,
        content, calm, depressed, sad, afraid, angry). For palettes made from music this is
        the model's prediction for the music; when omitted it is computed from the colours by
        the colour-emotion model (:func:`m2p.colour.emotion.palette_emotion`).
    valence_arousal
        (2,) valence and arousal in [-1, 1]; computed from the colours when omitted
        (:func:`m2p.colour.emotion.palette_valence_arousal`).

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) Wrong shapes, NaN or infinity, L outside [0, 100], negative C, more than
        :data:`MAX_COLORS` colours, or valence-arousal outside [-1, 1].

    Examples
    --------
    >>> p = Palette.from_hex(["#1d3557", "#e63946", "#f1faee"])
    >>> p.hex
    ('#1d3557', '#e63946', '#f1faee')
    """

    lch: np.ndarray
    emotion: np.ndarray = field(default=None)  # type: ignore[assignment]
    valence_arousal: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        lch = _validated_lch(self.lch)
        emotion, va = self.emotion, self.valence_arousal
        if emotion is None or va is None:  # what the colours themselves express
            emotion = palette_emotion(lch) if emotion is None else emotion
            va = palette_valence_arousal(lch) if va is None else va
        object.__setattr__(self, "lch", _frozen(lch))
        object.__setattr__(self, "emotion", _frozen(_validated_vector(emotion, N_EMOTIONS, "emotion")))
        va = _validated_vector(va, 2, "valence_arousal")
        if np.any(np.abs(va) > 1.0 + _RANGE_SLACK):
            raise InvalidArgumentError(f"valence_arousal must lie in [-1, 1], got {va.tolist()}")
        object.__setattr__(self, "valence_arousal", _frozen(np.clip(va, -1.0, 1.0)))

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def from_hex(
        cls,
        hexes: Sequence[str],
        *,
        emotion: Sequence[float] | np.ndarray | None = None,
        valence_arousal: Sequence[float] | np.ndarray | None = None,
    ) -> "Palette":
        """Make a palette from hex strings (``'#rrggbb'``, ``'rrggbb'`` or ``'#rgb'``)."""
        return cls(hex_to_lch(list(hexes)), emotion, valence_arousal)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Palette":
        """Inverse of :meth:`to_dict`; ``"lch"`` wins over ``"hex"`` when both are present.

        Raises
        ------
        m2p.errors.InvalidArgumentError
            (A ``ValueError``.) The mapping does not describe a valid palette.
        """
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(f"a palette must be a JSON object, got {type(data).__name__}")
        if "lch" in data:
            lch = _numbers(data["lch"], "lch", depth=2)
        elif "hex" in data:
            if isinstance(data["hex"], str) or not isinstance(data["hex"], Sequence):
                raise InvalidArgumentError(f"hex must be a list of colour codes, got "
                                           f"{_clip_text(repr(data['hex']), 60)}")
            lch = hex_to_lch(list(data["hex"]))
        else:
            raise InvalidArgumentError("a palette needs 'lch' or 'hex' colours")
        emotion = data.get("emotion")
        if isinstance(emotion, Mapping):
            unknown = sorted(str(k) for k in emotion if k not in EMOTIONS)
            if unknown:
                raise InvalidArgumentError(f"emotion has unknown names {_clip_text(str(unknown), 80)}; "
                                           f"expected some of {', '.join(EMOTIONS)}")
            emotion = [_number(emotion.get(name, 0.0), f"emotion {name!r}") for name in EMOTIONS]
        elif emotion is not None:
            emotion = _numbers(emotion, "emotion", depth=1)
        va = data.get("valence_arousal")
        return cls(lch, emotion, None if va is None else _numbers(va, "valence_arousal", depth=1))

    # -- views ----------------------------------------------------------------------------

    @cached_property
    def hex(self) -> tuple[str, ...]:
        """Lower-case ``'#rrggbb'`` sRGB codes of the (gamut-mapped) colours."""
        return tuple(rgb8_to_hex(self.rgb8))

    @cached_property
    def rgb8(self) -> np.ndarray:
        """(n, 3) uint8 sRGB code values of the gamut-mapped colours (read-only)."""
        return _frozen(lch_to_rgb8(np.array(self.lch)).reshape(-1, 3))

    @property
    def rgb(self) -> np.ndarray:
        """(n, 3) float sRGB in [0, 1]: :attr:`rgb8` / 255, so it matches :attr:`hex` exactly."""
        return _frozen(self.rgb8.astype(np.float64) / 255.0)

    @property
    def dominant_emotion(self) -> str:
        """Name of the largest entry of :attr:`emotion`."""
        return EMOTIONS[int(np.argmax(self.emotion))]

    def __len__(self) -> int:
        return int(self.lch.shape[0])

    def __iter__(self) -> Iterator[str]:
        """Iterate over the hex codes."""
        return iter(self.hex)

    def __getitem__(self, index: int) -> str:
        """The hex code of colour ``index``."""
        return self.hex[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Palette):
            return NotImplemented
        return (
            np.array_equal(self.lch, other.lch)
            and np.array_equal(self.emotion, other.emotion)
            and np.array_equal(self.valence_arousal, other.valence_arousal)
        )

    def __hash__(self) -> int:
        return hash((self.lch.tobytes(), self.emotion.tobytes(), self.valence_arousal.tobytes()))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild through the constructor so unpickled copies are validated and read-only.
        return (Palette, (np.array(self.lch), np.array(self.emotion), np.array(self.valence_arousal)))

    def __repr__(self) -> str:
        return f"Palette({' '.join(self.hex)}, mood={self.dominant_emotion})"

    def _repr_html_(self) -> str:
        from m2p.exporters.render import palette_html

        return palette_html(self)

    def to_ansi(self) -> str:
        """The palette as true-colour terminal swatches, one line (ANSI 24-bit escapes)."""
        from m2p.exporters.render import ansi_swatches

        return ansi_swatches(self)

    # -- more colours ---------------------------------------------------------------------

    def take(self, n: int, *, min_distance: float | None = None,
             min_contrast: float | None = None, background: Any = "#ffffff",
             lightness: tuple[float, float] | None = None) -> "Palette":
        """``n`` distinct colours grown from this palette, legible on ``background`` and safe
        for colour-blind readers: the legibility rule of :mod:`m2p.colour.legibility`.

        The palette's own colours come first (in order, each moved in lightness only: to reach
        the contrast, or where it must to stay distinct), then new colours of the same mood:
        hues, lightness and chroma around the palette's, widening hue only when those cannot
        be told apart. **Every colour has WCAG contrast >= ``min_contrast`` (default 3:1)
        against ``background`` (default white), at most two are near-black (near-white on a
        dark background), and every pair is at least ``min_distance`` CIEDE2000 apart (default
        20) in normal vision and under simulated deuteranopia and protanopia** (Machado et al.
        2009, severity 1.0), measured on the 8-bit colours of :attr:`hex`. Deterministic. See
        :func:`m2p.colour.legibility.legible_colors`.

        Parameters
        ----------
        n
            Number of colours, 1 to 64 (fewer than ``len(self)`` takes the first ``n``). Up to
            8 keep 20 CIEDE2000 on a chart background; more come as far apart as they can.
        min_distance
            Smallest CIEDE2000 between any two colours; default
            :data:`m2p.colour.distinct.DEFAULT_MIN_DISTANCE` (20). 0 keeps the palette's
            colours (moved in lightness only where the contrast needs it).
        min_contrast
            WCAG contrast against ``background``; default 3 (WCAG 2.1 non-text contrast, for
            lines, markers and bars); 1 for none (with ``min_distance=0``: the palette's
            colours exactly).
        background
            Hex code or sRGB triple the colours will be drawn on (``"#ffffff"``; give the dark
            background of a dark plot).
        lightness
            An extra ``(low, high)`` CIELAB L* range every colour stays in.

        Returns
        -------
        Palette
            ``n`` colours, with this palette's emotion and valence-arousal.

        Warns
        -----
        m2p.errors.DistinctColorsWarning
            ``n`` is too many to keep ``min_distance`` legibly: the ``n`` colours returned are
            as far apart as the search could make them, and the warning says how far that is.

        Raises
        ------
        m2p.errors.InvalidArgumentError
            ``n`` outside [1, 64], a negative ``min_distance``, a contrast no colour reaches on
            ``background`` or an empty lightness range.

        Examples
        --------
        >>> p = Palette.from_hex(["#1d3557", "#e63946", "#a8dadc"])
        >>> len(p.take(8))
        8
        """
        from m2p.colour.legibility import legible_colors

        found = legible_colors(self.lch, n, background=background, min_contrast=min_contrast,
                               min_distance=min_distance, lightness=lightness)
        return Palette(found.lch, self.emotion, self.valence_arousal)

    # -- export ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``hex``, ``lch`` ([[L, C, h], ...]), ``emotion`` (name -> weight),
        ``valence_arousal`` ([v, a])."""
        return {
            "hex": list(self.hex),
            "lch": self.lch.tolist(),
            "emotion": {name: float(w) for name, w in zip(EMOTIONS, self.emotion)},
            "valence_arousal": self.valence_arousal.tolist(),
        }

    def save_png(self, path: str | PathLike[str], *, swatch_size: int = 120, labels: bool = True) -> None:
        """Write the palette as a PNG strip of square swatches (hex labels underneath).

        Parameters
        ----------
        path
            Output file (written as PNG whatever the extension).
        swatch_size
            Width and height of each swatch in pixels.
        labels
            Print each colour's hex code under its swatch.
        """
        from m2p.exporters.render import palette_strip, save_image

        save_image(palette_strip(self, swatch_size=swatch_size, labels=labels), path)


# ----------------------------------------------------------------------------------------------
# PaletteTrack
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class PaletteTrack:
    """Palettes over time: one per analysis window, colour slots aligned across windows.

    Parameters
    ----------
    times
        (T,) window centres in seconds, strictly increasing, within [0, duration].
    palettes
        T palettes; slot ``k`` of one palette and slot ``k`` of the next are the same "voice"
        (aligned by colour similarity during inference), so they can be interpolated.
    window, hop
        Analysis window length and hop in seconds (> 0).
    duration
        Length of the audio in seconds (> 0).
    source
        Where the audio came from (a path as given), or None.
    seed
        Seed of the noise draw used for every window, or None.
    overall
        The whole-piece palette. When omitted it is summarised from the track: for each slot
        the mean colour in CIELAB over the windows that have it, with the most common palette
        length, and the mean emotion.
    rhythm
        The music's beats, downbeats, tempo over time and sections
        (:class:`~m2p.rhythm.rhythm_types.Rhythm`, found in the same pass over the audio by
        :func:`m2p.palette_track`), or None (a track made without it, or read from a version 1
        document). Its duration must be the track's.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        (A ``ValueError``.) Inconsistent or non-finite values.
    """

    times: np.ndarray
    palettes: tuple[Palette, ...]
    window: float
    hop: float
    duration: float
    source: str | None = None
    seed: int | None = None
    overall: Palette = field(default=None)  # type: ignore[assignment]
    rhythm: "Rhythm | None" = None

    def __post_init__(self) -> None:
        times = np.array(self.times, dtype=np.float64, copy=True).reshape(-1)
        palettes = tuple(self.palettes)
        if len(times) == 0:
            raise InvalidArgumentError("a palette track needs at least one palette")
        if len(palettes) != len(times):
            raise InvalidArgumentError(f"{len(times)} times but {len(palettes)} palettes")
        if not all(isinstance(p, Palette) for p in palettes):
            raise InvalidArgumentError("palettes must be Palette instances")
        for name in ("window", "hop", "duration"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise InvalidArgumentError(f"{name} must be a positive number of seconds, got {value!r}")
            object.__setattr__(self, name, value)
        if not np.all(np.isfinite(times)):
            raise InvalidArgumentError("times contain NaN or infinity")
        if np.any(np.diff(times) <= 0):
            raise InvalidArgumentError("times must be strictly increasing")
        if times[0] < -_RANGE_SLACK or times[-1] > self.duration + _RANGE_SLACK:
            raise InvalidArgumentError(f"times must lie within [0, duration={self.duration}]")
        if self.seed is not None:
            object.__setattr__(self, "seed", int(self.seed))
        if self.source is not None:
            object.__setattr__(self, "source", str(self.source))
        object.__setattr__(self, "times", _frozen(np.clip(times, 0.0, self.duration)))
        object.__setattr__(self, "palettes", palettes)
        overall = self.overall if self.overall is not None else _summarise(palettes)
        if not isinstance(overall, Palette):
            raise InvalidArgumentError("overall must be a Palette")
        object.__setattr__(self, "overall", overall)
        if self.rhythm is not None:
            from m2p.rhythm.rhythm_types import Rhythm

            if not isinstance(self.rhythm, Rhythm):
                raise InvalidArgumentError("rhythm must be a Rhythm or None")
            if not math.isclose(self.rhythm.duration, self.duration, rel_tol=1e-9, abs_tol=1e-6):
                raise InvalidArgumentError(
                    f"rhythm lasts {self.rhythm.duration:g} s but the track {self.duration:g} s")

    # -- sequence protocol ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.palettes)

    def __iter__(self) -> Iterator[Palette]:
        return iter(self.palettes)

    def __getitem__(self, index: int) -> Palette:
        return self.palettes[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PaletteTrack):
            return NotImplemented
        return (
            np.array_equal(self.times, other.times)
            and self.palettes == other.palettes
            and (self.window, self.hop, self.duration, self.source, self.seed)
            == (other.window, other.hop, other.duration, other.source, other.seed)
            and self.overall == other.overall
            and self.rhythm == other.rhythm
        )

    def __hash__(self) -> int:
        return hash((self.times.tobytes(), self.palettes, self.duration, self.overall))

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            PaletteTrack,
            (np.array(self.times), self.palettes, self.window, self.hop, self.duration,
             self.source, self.seed, self.overall, self.rhythm),
        )

    # -- arrays ---------------------------------------------------------------------------

    @property
    def max_colors(self) -> int:
        """The largest palette length in the track."""
        return max(len(p) for p in self.palettes)

    @property
    def emotions(self) -> np.ndarray:
        """(T, 8) emotion of each window (see :data:`m2p.colour.emotion.EMOTIONS`)."""
        return _frozen(np.stack([p.emotion for p in self.palettes]))

    @property
    def valence_arousal(self) -> np.ndarray:
        """(T, 2) valence and arousal of each window, in [-1, 1]."""
        return _frozen(np.stack([p.valence_arousal for p in self.palettes]))

    # -- queries --------------------------------------------------------------------------

    def at(self, t: float, *, sync: str | None = None, glide: bool = False) -> Palette:
        """The palette in force at ``t`` seconds, interpolated between neighbouring windows.

        Between two window centres each matched colour slot moves in CIELCh: L and C
        linearly, h along the shorter arc of the hue circle (a near-grey end, C < 1, takes the
        other end's hue so greys do not sweep through the wheel). Emotion and valence-arousal
        move linearly. Before the first centre the first palette holds; after the last centre
        the last palette holds.

        When neighbouring palettes differ in length, the slots both have interpolate and the
        palette has as many colours as the *nearer* window (the earlier one at exactly
        halfway); its extra slots are that window's colours unchanged.

        With ``sync``, the palette changes on the music's clock instead
        (:mod:`m2p.rhythm.sync`): between two consecutive beats, downbeats or section
        boundaries it holds the smooth palette of that span's middle, and at the event it
        switches (or, with ``glide``, glides over one beat from the event on).

        Parameters
        ----------
        t
            Time in seconds, within [0, duration].
        sync
            None (the smooth glide), ``"beat"``, ``"downbeat"`` or ``"section"``.
        glide
            With ``sync``: glide over one beat after each event instead of switching at once.

        Raises
        ------
        TrackError
            ``t`` is NaN, not a number, or outside [0, duration]; ``sync`` on a track without
            a rhythm.
        InvalidArgumentError
            An unknown ``sync``.
        """
        try:
            value = float(t)
        except (TypeError, ValueError, OverflowError):  # 10**400 is no float either
            raise TrackError(f"time must be a number of seconds, got {_clip_text(repr(t), 60)}",
                             source=self.source) from None
        if not (0.0 <= value <= self.duration):  # also False for NaN
            raise TrackError(
                f"time {t!r} s is outside the track [0, {self.duration:.6g}] s", source=self.source
            )
        lch, counts, emotion, va = self._synced(np.array([value]), sync, glide)
        return Palette(lch[0, : counts[0]], emotion[0], va[0])

    def sample(self, times: Any, *, sync: str | None = None, glide: bool = False) -> "TrackSamples":
        """:meth:`at` for many times at once, as arrays (no :class:`Palette` objects made).

        Parameters
        ----------
        times
            Array-like of seconds, each within [0, duration].
        sync, glide
            As in :meth:`at`.

        Returns
        -------
        TrackSamples
            ``(lch, counts, emotion, valence_arousal)``: ``lch`` is (Q, max_colors, 3) with
            the entries past ``counts[q]`` zero, ``counts`` (Q,) the palette lengths, then
            (Q, 8) and (Q, 2). Row q equals ``at(times[q], sync=sync, glide=glide)``.

        Raises
        ------
        TrackError
            A time is NaN, infinite, not a number or outside [0, duration], or more than
            :data:`MAX_SAMPLE_TIMES` times are asked for (memory stays bounded: about 260
            bytes per time for the result, the work done in chunks).
        """
        size = getattr(times, "size", None)
        if size is None and hasattr(times, "__len__") and not isinstance(times, (str, bytes)):
            size = len(times)
        if isinstance(size, (int, np.integer)) and size > MAX_SAMPLE_TIMES:
            raise TrackError(f"{int(size):,} times asked for; sample at most {MAX_SAMPLE_TIMES:,} "
                             "per call (split the times)", source=self.source)
        try:
            query = np.asarray(times, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError, OverflowError):
            raise TrackError(f"times must be numbers of seconds, got {_clip_text(repr(times))}",
                             source=self.source) from None
        if query.size > MAX_SAMPLE_TIMES:
            raise TrackError(f"{query.size:,} times asked for; sample at most "
                             f"{MAX_SAMPLE_TIMES:,} per call (split the times)", source=self.source)
        if not np.all((query >= 0.0) & (query <= self.duration)):  # also False for NaN
            raise TrackError(f"times must lie within the track [0, {self.duration:.6g}] s",
                             source=self.source)
        if query.size <= _SAMPLE_CHUNK:
            return TrackSamples(*self._synced(query, sync, glide))
        # In chunks: the interpolation's temporaries are several times the result's size.
        n_max = self.max_colors
        lch = np.empty((query.size, n_max, 3))
        counts = np.empty(query.size, dtype=np.int64)
        emotion, va = np.empty((query.size, N_EMOTIONS)), np.empty((query.size, 2))
        for start in range(0, query.size, _SAMPLE_CHUNK):
            part = slice(start, start + _SAMPLE_CHUNK)
            lch[part], counts[part], emotion[part], va[part] = self._synced(query[part], sync, glide)
        return TrackSamples(lch, counts, emotion, va)

    @property
    def beats(self) -> np.ndarray:
        """(B,) beat times, s (empty for a track without a rhythm)."""
        return self.rhythm.beats if self.rhythm is not None else _frozen(np.zeros(0))

    @property
    def downbeats(self) -> np.ndarray:
        """(D,) downbeat times, s (empty for a track without a rhythm)."""
        return self.rhythm.downbeats if self.rhythm is not None else _frozen(np.zeros(0))

    @property
    def sections(self) -> np.ndarray:
        """(S,) section boundaries, s (empty for a track without a rhythm)."""
        return self.rhythm.sections if self.rhythm is not None else _frozen(np.zeros(0))

    def _synced(self, query: np.ndarray, sync: str | None,
                glide: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # at() and sample() on the music's clock (m2p.rhythm.sync); times already checked.
        if sync is None:
            return self._interpolate(query)
        from m2p.rhythm.rhythm_types import SYNC_EVENTS

        if sync not in SYNC_EVENTS:
            raise InvalidArgumentError(f"sync must be one of {', '.join(SYNC_EVENTS)} or None, "
                                       f"got {_clip_text(repr(sync))}")
        if self.rhythm is None:
            raise TrackError(f"sync={sync!r} needs the track's rhythm (beats, sections), which "
                             "this track does not carry; make it again with m2p.palette_track",
                             source=self.source)
        from m2p.rhythm.sync import hold_plan

        events = self.rhythm.events(sync)
        beat = 60.0 / np.maximum(np.asarray(self.rhythm.tempo_at(events), dtype=np.float64), 1e-3) \
            if self.rhythm.tempo_bpm.size else None
        time_a, time_b, fraction = hold_plan(events, self.duration, query, glide=bool(glide),
                                             beat_seconds=beat)
        a, b = self._interpolate(time_a), self._interpolate(time_b)
        return _mix(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], fraction)

    def _interpolate(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # The shared vectorised interpolation behind at() and sample(); times already checked.
        packed, lengths, emotions, vas = self._packed
        T = packed.shape[0]

        right = np.searchsorted(self.times, query, side="right")
        i0 = np.clip(right - 1, 0, T - 1)
        i1 = np.clip(right, 0, T - 1)
        span = self.times[i1] - self.times[i0]
        frac = np.where(span > 0, (query - self.times[i0]) / np.where(span > 0, span, 1.0), 0.0)
        frac = np.clip(frac, 0.0, 1.0)
        return _mix(packed[i0], packed[i1], lengths[i0], lengths[i1], emotions[i0], emotions[i1],
                    vas[i0], vas[i1], frac)

    @cached_property
    def _packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(T, max_colors, 3) zero-padded LCh, (T,) lengths, (T, 8) emotions, (T, 2) VA."""
        packed = np.zeros((len(self.palettes), self.max_colors, 3))
        for i, p in enumerate(self.palettes):
            packed[i, : len(p)] = p.lch
        lengths = np.array([len(p) for p in self.palettes])
        return packed, lengths, self.emotions, self.valence_arousal

    # -- export ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (see :meth:`to_json` for the layout)."""
        _fill_rgb8((self.overall, *self.palettes))
        out = {
            "format": TRACK_FORMAT,
            # Version 1 for a track without a rhythm: older readers still read it.
            "version": TRACK_FORMAT_VERSION if self.rhythm is not None else 1,
            "source": self.source,
            "seed": self.seed,
            "duration": self.duration,
            "window": self.window,
            "hop": self.hop,
            "times": self.times.tolist(),
            "overall": self.overall.to_dict(),
            "palettes": [p.to_dict() for p in self.palettes],
        }
        if self.rhythm is not None:
            out["rhythm"] = self.rhythm.to_dict()
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise as JSON.

        Layout (version 1)::

            {"format": "music2palette.track", "version": 1, "source": str | null,
             "seed": int | null, "duration": s, "window": s, "hop": s,
             "times": [s, ...], "overall": PALETTE, "palettes": [PALETTE, ...]}

        where ``PALETTE`` is :meth:`Palette.to_dict` (``hex`` is informative; ``lch`` is
        authoritative and stored at full float precision, so the round trip is exact).
        Version 2 (a track with a rhythm) adds ``"rhythm": RHYTHM``,
        :meth:`m2p.rhythm.rhythm_types.Rhythm.to_dict` (beats, downbeats, tempo, sections,
        meter, drops, builds, duration); a track without one is written as version 1.
        """
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PaletteTrack":
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        TrackError
            Not a palette-track document, a newer format version, or invalid content.
        """
        if not isinstance(data, Mapping) or data.get("format") != TRACK_FORMAT:
            raise TrackError(f"not a palette track (expected \"format\": \"{TRACK_FORMAT}\")")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise TrackError(f"palette track has an invalid version {version!r}")
        if version > TRACK_FORMAT_VERSION:
            raise TrackError(
                f"palette track format version {version} is newer than this music2palette "
                f"reads ({TRACK_FORMAT_VERSION}); upgrade music2palette"
            )
        try:
            overall = data.get("overall")
            palettes = data["palettes"]
            if not isinstance(palettes, Sequence) or isinstance(palettes, str):
                raise TypeError(f"palettes must be a list, got {type(palettes).__name__}")
            if len(palettes) > MAX_TRACK_PALETTES:
                raise ValueError(f"{len(palettes):,} palettes; a palette track holds at most "
                                 f"{MAX_TRACK_PALETTES:,}")
            source, seed = data.get("source"), data.get("seed")
            if source is not None and not isinstance(source, str):
                raise TypeError(f"source must be text or null, got {type(source).__name__}")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                     or not 0 <= seed < 2**63):
                raise ValueError(f"seed must be an integer in [0, 2**63) or null, got "
                                 f"{_clip_text(repr(seed), 40)}")
            return cls(
                times=_numbers(data["times"], "times", depth=1),
                palettes=tuple(Palette.from_dict(p) for p in palettes),
                window=_number(data["window"], "window"),
                hop=_number(data["hop"], "hop"),
                duration=_number(data["duration"], "duration"),
                source=source,
                seed=seed,
                overall=None if overall is None else Palette.from_dict(overall),
                rhythm=_rhythm_from(data.get("rhythm") if version >= 2 else None, data["duration"]),
            )
        except RecursionError:
            raise TrackError("invalid palette track: values are nested too deeply") from None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise TrackError(f"invalid palette track: {_clip_text(detail)}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> "PaletteTrack":
        """Parse :meth:`to_json` output.

        Raises
        ------
        TrackError
            Not JSON, not a palette track, or a newer format version.
        """
        try:
            data = json.loads(text)
        except RecursionError:  # the C scanner recurses once per nesting level
            raise TrackError("palette track JSON is nested too deeply") from None
        except (TypeError, ValueError) as exc:
            raise TrackError(f"palette track is not valid JSON: {_clip_text(str(exc))}") from None
        return cls.from_dict(data)

    def save_json(self, path: str | PathLike[str], *, indent: int | None = 2) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8), atomically: an interrupted or failed
        write leaves the previous file (:func:`m2p._internal.outputs.atomic_output`).

        Raises
        ------
        OutputError
            The file cannot be written (the message names it).
        """
        from m2p._internal.outputs import atomic_output

        text = self.to_json(indent=indent) + "\n"
        with atomic_output(path) as tmp:
            tmp.write_text(text, encoding="utf-8")

    @classmethod
    def load_json(cls, path: str | PathLike[str]) -> "PaletteTrack":
        """Read a file written by :meth:`save_json`.

        Raises
        ------
        TrackError
            The file is missing, not a regular file (a FIFO, a device), unreadable, larger
            than :data:`MAX_JSON_BYTES`, or not a valid palette track (more than
            :data:`MAX_TRACK_PALETTES` palettes, a value of the wrong JSON type such as
            ``"hop": true``...); the message names the file.
        """
        from m2p._internal.inputs import read_regular

        # Only a regular file: a FIFO with no writer would block here for ever.
        data = read_regular(path, limit=MAX_JSON_BYTES, error=TrackError)
        if len(data) > MAX_JSON_BYTES:
            raise TrackError(f"file is larger than {MAX_JSON_BYTES >> 20} MB; not a palette track",
                             source=path)
        try:
            return cls.from_json(data)
        except TrackError as exc:
            raise TrackError(exc.reason, source=path) from None

    def save_png(self, path: str | PathLike[str], *, width: int | None = None, height: int = 220) -> None:
        """Write a timeline picture: time on x, each window's colours stacked on y.

        Columns are sampled with :meth:`at`, so colours glide between windows; a time axis
        with second ticks runs underneath and the whole-piece palette stands on the right.
        A track with a rhythm also shows, under the axis, its sections as bands, a tick at
        every beat (tall at downbeats) and its tempo, and a line across the colours at each
        section boundary (:func:`m2p.rhythm.timeline.add_rhythm_lane`).

        Parameters
        ----------
        path
            Output file (written as PNG whatever the extension).
        width
            Width of the timeline area in pixels; default scales with the duration
            (24 px per second, between 480 and 1600).
        height
            Height of the colour area in pixels.
        """
        from m2p.exporters.render import save_image, timeline_layout, track_timeline

        image = track_timeline(self, width=width, height=height)
        if self.rhythm is not None:
            from m2p.rhythm.timeline import add_rhythm_lane

            layout = timeline_layout(self.duration, width=width, height=height)
            image = add_rhythm_lane(image, self.rhythm, layout)
        save_image(image, path)

    def __repr__(self) -> str:
        where = f", source={self.source!r}" if self.source else ""
        return (
            f"PaletteTrack({len(self)} palettes over {self.duration:.1f} s, window={self.window:g} s, "
            f"hop={self.hop:g} s{where}, overall={' '.join(self.overall.hex)})"
        )

    def _repr_html_(self) -> str:
        from m2p.exporters.render import track_html

        return track_html(self)


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _rhythm_from(data: Any, duration: Any) -> "Rhythm | None":
    """The ``"rhythm"`` of a track document (None when absent)."""
    if data is None:
        return None
    from m2p.rhythm.rhythm_types import Rhythm

    return Rhythm.from_dict(data, duration=duration)


def _clip_text(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters (messages quote hostile input)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _mix(a: np.ndarray, b: np.ndarray, n0: np.ndarray, n1: np.ndarray, e0: np.ndarray,
         e1: np.ndarray, v0: np.ndarray, v1: np.ndarray,
         frac: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Palettes part way (``frac``, (Q,)) from ``a`` to ``b``: (Q, n_max, 3) zero-padded LCh with
    lengths ``n0``/``n1``, emotions ``e0``/``e1``, valence-arousal ``v0``/``v1`` (see
    :meth:`PaletteTrack.at` for the path)."""
    n_max = a.shape[1]
    f = frac[:, None]
    light = a[..., 0] + f * (b[..., 0] - a[..., 0])
    chroma = a[..., 1] + f * (b[..., 1] - a[..., 1])
    ha = np.where(a[..., 1] < _ACHROMATIC_CHROMA, b[..., 2], a[..., 2])
    hb = np.where(b[..., 1] < _ACHROMATIC_CHROMA, a[..., 2], b[..., 2])
    short_arc = (hb - ha + 180.0) % 360.0 - 180.0
    hue = (ha + f * short_arc) % 360.0
    mixed = np.stack([light, chroma, hue], axis=-1)

    nearer_is_first = frac <= 0.5
    counts = np.where(nearer_is_first, n0, n1)
    nearer = np.where(nearer_is_first[:, None, None], a, b)
    slot = np.arange(n_max)[None, :]
    both = slot < np.minimum(n0, n1)[:, None]
    out = np.where(both[..., None], mixed, nearer)
    out[slot >= counts[:, None]] = 0.0

    emotion = e0 + f * (e1 - e0)
    va = v0 + f * (v1 - v0)
    return out, counts, emotion, va


def _fill_rgb8(palettes: Sequence[Palette]) -> None:
    """Compute :attr:`Palette.rgb8` of many palettes in one gamut-mapping call (one call per
    palette costs about 3 ms of small array operations: 0.3 s for the 90 windows of a 4-minute
    track, against 6 ms in one call)."""
    todo = [p for p in palettes if "rgb8" not in p.__dict__]
    if not todo:
        return
    rgb8 = lch_to_rgb8(np.concatenate([p.lch for p in todo])).reshape(-1, 3)
    ends = np.cumsum([len(p) for p in todo])[:-1]
    for palette, colours in zip(todo, np.split(rgb8, ends)):
        palette.__dict__["rgb8"] = _frozen(colours)  # the cached_property's own slot


def _number(value: Any, name: str) -> float:
    """A JSON number (``true`` is not one: Python would read it as 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be a number, got {_clip_text(repr(value), 60)}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidArgumentError(f"{name} is too large") from None


def _numbers(value: Any, name: str, *, depth: int) -> np.ndarray:
    """A JSON array of numbers (``depth`` 1) or of arrays of numbers (``depth`` 2) as float64;
    text, booleans and objects are refused with one line naming ``name``."""
    def walk(node: Any, level: int) -> Any:
        if level == 0:
            return _number(node, name)
        if isinstance(node, (str, bytes, Mapping)) or not isinstance(node, Sequence):
            raise InvalidArgumentError(f"{name} must be a list{' of lists' * (level - 1)} of "
                                       f"numbers, got {_clip_text(repr(node), 60)}")
        return [walk(item, level - 1) for item in node]

    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        return np.array(value, dtype=np.float64)
    # Fast path for what json.loads gives (type checks in C), the walk only to say what is wrong.
    if type(value) is list:
        items = value if depth == 1 else (list(chain.from_iterable(value))
                                          if set(map(type, value)) <= {list} else None)
        if items is not None and set(map(type, items)) <= {int, float}:
            try:
                return np.array(value, dtype=np.float64)
            except (ValueError, OverflowError):  # ragged rows, a huge integer: the walk says
                pass
    return np.array(walk(value, depth), dtype=np.float64)


def _frozen(array: np.ndarray) -> np.ndarray:
    """Return a read-only array (copied, so no outside view can change it)."""
    out = np.array(array, copy=True)
    out.setflags(write=False)
    return out


def _validated_lch(lch: Any) -> np.ndarray:
    try:
        arr = np.array(lch, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"palette colours must be numbers: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] < 1:
        raise InvalidArgumentError(f"palette colours must have shape (n >= 1, 3), got {arr.shape}")
    if arr.shape[0] > MAX_COLORS:
        raise InvalidArgumentError(f"a palette holds at most {MAX_COLORS} colours, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError("palette colours contain NaN or infinity")
    light, chroma = arr[:, 0], arr[:, 1]
    if np.any(light < -_RANGE_SLACK) or np.any(light > 100.0 + _RANGE_SLACK):
        raise InvalidArgumentError(f"lightness L must be in [0, 100], got {light.tolist()}")
    if np.any(chroma < -_RANGE_SLACK):
        raise InvalidArgumentError(f"chroma C must be >= 0, got {chroma.tolist()}")
    arr[:, 0] = np.clip(light, 0.0, 100.0)
    arr[:, 1] = np.maximum(chroma, 0.0)
    arr[:, 2] = np.mod(arr[:, 2], 360.0)
    arr[arr[:, 2] >= 360.0, 2] = 0.0  # mod of a tiny negative rounds up to 360
    return arr


def _validated_vector(values: Any, size: int, name: str) -> np.ndarray:
    try:
        arr = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{name} must be numbers: {exc}") from None
    if arr.shape != (size,):
        raise InvalidArgumentError(f"{name} must have {size} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{name} contains NaN or infinity")
    return arr


def _summarise(palettes: Sequence[Palette]) -> Palette:
    """Whole-piece palette from aligned window palettes (used when none is given)."""
    lengths = [len(p) for p in palettes]
    count = max(set(lengths), key=lambda n: (lengths.count(n), n))
    lab_sum = np.zeros((count, 3))
    seen = np.zeros(count)
    for p in palettes:
        k = min(len(p), count)
        lab_sum[:k] += lch_to_lab(p.lch[:k])
        seen[:k] += 1
    lch = lab_to_lch(lab_sum / seen[:, None])
    emotion = np.mean([p.emotion for p in palettes], axis=0)
    va = np.mean([p.valence_arousal for p in palettes], axis=0)
    return Palette(lch, emotion, va)
