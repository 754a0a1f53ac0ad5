"""The rhythm of a piece as a value: beats, downbeats, tempo over time, sections, drops.

:class:`Rhythm` is what :func:`m2p.rhythm.analysis.analyze` returns and what a
:class:`~m2p.palette_types.PaletteTrack` carries (``track.rhythm``); immutable (read-only
NumPy arrays), validated on construction, NumPy only, JSON round trip exact.

>>> r = Rhythm(beats=[0.5, 1.0, 1.5, 2.0], downbeats=[0.5, 2.0], tempo_times=[0.5, 2.0],
...            tempo_bpm=[120.0, 120.0], sections=[1.2], duration=3.0, meter=3)
>>> Rhythm.from_dict(r.to_dict()) == r
True
>>> r.events("downbeat").tolist()
[0.5, 2.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from m2p._internal.checks import number
from m2p.errors import InvalidArgumentError

__all__ = ["Rhythm", "SYNC_EVENTS", "check_sync"]

#: What a palette may change on: ``track.at(t, sync=...)``.
SYNC_EVENTS = ("beat", "downbeat", "section")
# Most events of one kind a document may hold (a 24-hour piece at 300 BPM has 432,000 beats).
_MAX_EVENTS = 500_000


def check_sync(sync: Any) -> None:
    """Refuse an unknown ``sync`` before any work: None or one of :data:`SYNC_EVENTS`.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Naming the accepted values.
    """
    if sync is not None and (not isinstance(sync, str) or sync not in SYNC_EVENTS):
        raise InvalidArgumentError(f"sync must be one of {', '.join(SYNC_EVENTS)} or None, "
                                   f"got {sync!r}")


@dataclass(frozen=True, eq=False, repr=False)
class Rhythm:
    """Beats, downbeats, tempo and sections of a piece (all times in seconds from its start).

    Parameters
    ----------
    beats
        (B,) beat times, strictly increasing, within [0, duration].
    downbeats
        (D,) the beats that start a bar (a subset of ``beats``).
    tempo_times, tempo_bpm
        (K,) tempo over time: at ``tempo_times[k]`` the beat goes at ``tempo_bpm[k]`` beats per
        minute (> 0).
    sections
        (S,) section boundaries: the times where a new section starts, strictly increasing,
        inside (0, duration) (the piece's start and end are not listed).
    duration
        Length of the piece, s (> 0).
    meter
        Beats per bar (2, 3 or 4), or 0 when unknown.
    drops
        (P,) times of drops (a sudden return after a build), empty unless asked for.
    builds
        (P, 2) start and end times of the builds before the drops.
    """

    beats: np.ndarray
    downbeats: np.ndarray
    tempo_times: np.ndarray
    tempo_bpm: np.ndarray
    sections: np.ndarray
    duration: float
    meter: int = 0
    drops: np.ndarray = field(default=None)  # type: ignore[assignment]
    builds: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        duration = number(self.duration, "duration")
        if not duration > 0:
            raise InvalidArgumentError(f"duration must be positive, got {duration!r}")
        object.__setattr__(self, "duration", duration)
        meter = self.meter
        if isinstance(meter, bool) or not isinstance(meter, (int, np.integer)) or meter not in (0, 2, 3, 4):
            raise InvalidArgumentError(f"meter must be 0, 2, 3 or 4, got {meter!r}")
        object.__setattr__(self, "meter", int(meter))
        for name in ("beats", "downbeats", "sections", "drops"):
            value = getattr(self, name)
            events = _times(np.zeros(0) if value is None else value, name, duration)
            object.__setattr__(self, name, events)
        if self.sections.size and (self.sections[0] <= 0 or self.sections[-1] >= duration):
            raise InvalidArgumentError("sections must lie strictly inside (0, duration)")
        if not np.all(np.isin(self.downbeats, self.beats)):
            raise InvalidArgumentError("downbeats must be beats")
        tempo_times = _times(self.tempo_times, "tempo_times", duration)
        bpm = _array(self.tempo_bpm, "tempo_bpm")
        if bpm.shape != tempo_times.shape:
            raise InvalidArgumentError(f"{len(tempo_times)} tempo_times but {len(bpm)} tempo_bpm")
        if np.any(bpm <= 0):
            raise InvalidArgumentError("tempo_bpm must be positive")
        object.__setattr__(self, "tempo_times", tempo_times)
        object.__setattr__(self, "tempo_bpm", _frozen(bpm))
        builds = np.zeros((0, 2)) if self.builds is None else _array(self.builds, "builds", 2)
        if builds.size and (np.any(builds[:, 1] < builds[:, 0]) or builds.min() < 0
                            or builds.max() > duration):
            raise InvalidArgumentError("builds must be (start, end) pairs within [0, duration]")
        object.__setattr__(self, "builds", _frozen(builds.reshape(-1, 2)))

    # -- queries --------------------------------------------------------------------------

    @property
    def bpm(self) -> float:
        """The main tempo, BPM: the median of :attr:`tempo_bpm` (0 when there is none)."""
        return float(np.median(self.tempo_bpm)) if self.tempo_bpm.size else 0.0

    def events(self, kind: str) -> np.ndarray:
        """Times of one kind of event: ``"beat"``, ``"downbeat"`` or ``"section"``."""
        if kind == "beat":
            return self.beats
        if kind == "downbeat":
            return self.downbeats
        if kind == "section":
            return self.sections
        raise InvalidArgumentError(f"sync must be one of {', '.join(SYNC_EVENTS)} or None, got {kind!r}")

    def tempo_at(self, t: float | np.ndarray) -> np.ndarray | float:
        """Tempo, BPM, at time(s) ``t`` (linear between the tempo points, held beyond)."""
        if not self.tempo_bpm.size:
            return np.zeros_like(np.asarray(t, dtype=np.float64)) if np.ndim(t) else 0.0
        out = np.interp(np.asarray(t, dtype=np.float64), self.tempo_times, self.tempo_bpm)
        return float(out) if np.ndim(out) == 0 else out

    def shifted(self, seconds: float) -> "Rhythm":
        """The same rhythm ``seconds`` (>= 0) later: every time plus ``seconds``, the duration
        too (a passage's rhythm placed at its time in the whole piece)."""
        seconds = number(seconds, "seconds")
        if not seconds >= 0:
            raise InvalidArgumentError(f"seconds must be >= 0, got {seconds!r}")
        tempo_times = self.tempo_times + seconds
        return Rhythm(beats=self.beats + seconds, downbeats=self.downbeats + seconds,
                      tempo_times=tempo_times, tempo_bpm=self.tempo_bpm,
                      sections=self.sections + seconds, duration=self.duration + seconds,
                      meter=self.meter, drops=self.drops + seconds, builds=self.builds + seconds)

    # -- comparison -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rhythm):
            return NotImplemented
        return all(np.array_equal(getattr(self, name), getattr(other, name))
                   for name in ("beats", "downbeats", "tempo_times", "tempo_bpm", "sections",
                                "drops", "builds")) \
            and (self.duration, self.meter) == (other.duration, other.meter)

    def __hash__(self) -> int:
        return hash((self.beats.tobytes(), self.sections.tobytes(), self.duration, self.meter))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Rhythm, (np.array(self.beats), np.array(self.downbeats), np.array(self.tempo_times),
                         np.array(self.tempo_bpm), np.array(self.sections), self.duration,
                         self.meter, np.array(self.drops), np.array(self.builds)))

    def __repr__(self) -> str:
        return (f"Rhythm({len(self.beats)} beats at {self.bpm:.1f} BPM, meter {self.meter}, "
                f"{len(self.sections) + 1} sections over {self.duration:.1f} s)")

    # -- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``beats``, ``downbeats``, ``tempo`` (``{"times", "bpm"}``),
        ``sections``, ``meter``, ``drops``, ``builds`` (lists of seconds; full precision),
        ``duration``."""
        return {
            "beats": self.beats.tolist(),
            "downbeats": self.downbeats.tolist(),
            "tempo": {"times": self.tempo_times.tolist(), "bpm": self.tempo_bpm.tolist()},
            "sections": self.sections.tolist(),
            "meter": self.meter,
            "drops": self.drops.tolist(),
            "builds": self.builds.tolist(),
            "duration": self.duration,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, duration: float | None = None) -> "Rhythm":
        """Inverse of :meth:`to_dict` (``duration`` from the enclosing track when the mapping
        has none).

        Raises
        ------
        m2p.errors.InvalidArgumentError
            Not a valid rhythm.
        """
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(f"a rhythm must be a JSON object, got {type(data).__name__}")
        tempo = data.get("tempo", {})
        if not isinstance(tempo, Mapping):
            raise InvalidArgumentError("rhythm 'tempo' must be an object with 'times' and 'bpm'")
        try:
            return cls(beats=data["beats"], downbeats=data.get("downbeats", []),
                       tempo_times=tempo.get("times", []), tempo_bpm=tempo.get("bpm", []),
                       sections=data.get("sections", []),
                       duration=data.get("duration", duration), meter=data.get("meter", 0),
                       drops=data.get("drops", []), builds=data.get("builds") or None)
        except KeyError as exc:
            raise InvalidArgumentError(f"rhythm is missing {exc}") from None


def _array(values: Any, name: str, width: int | None = None) -> np.ndarray:
    if isinstance(values, (str, bytes, Mapping)):
        raise InvalidArgumentError(f"{name} must be a list of numbers")
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be a list of numbers") from None
    if width is None and arr.ndim != 1 and arr.size:
        raise InvalidArgumentError(f"{name} must be a flat list of numbers")
    if width is not None and arr.size and (arr.ndim != 2 or arr.shape[1] != width):
        raise InvalidArgumentError(f"{name} must be a list of {width}-number lists")
    if arr.size > _MAX_EVENTS:
        raise InvalidArgumentError(f"{name} holds more than {_MAX_EVENTS} values")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{name} contains NaN or infinity")
    return arr.reshape(-1) if width is None else arr.reshape(-1, width)


def _times(values: Any, name: str, duration: float) -> np.ndarray:
    arr = _array(values, name)
    if np.any(np.diff(arr) <= 0):
        raise InvalidArgumentError(f"{name} must be strictly increasing")
    if arr.size and (arr[0] < 0 or arr[-1] > duration):
        raise InvalidArgumentError(f"{name} must lie within [0, duration={duration:g}]")
    return _frozen(arr)


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out
