"""``m2p.animate_colors``: a palette track's colours as a function of time, for FuncAnimation."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from m2p.colour.convert_np import as_srgb, hex_to_lch
from m2p.colour.legibility import legible_order
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common


def animate_colors(track: Any, *, order: str | Sequence[int] | None = "legible") -> "TrackColors":
    """Colours of a :class:`~m2p.palette_types.PaletteTrack` at any time ``t`` (seconds).

    Example
    -------
    >>> colors = m2p.animate_colors(track)                                # doctest: +SKIP
    >>> bars = ax.bar(range(5), heights)                                  # doctest: +SKIP
    >>> anim = FuncAnimation(fig, colors.updater(bars), frames=colors.frames(fps=10))  # doctest: +SKIP

    Parameters
    ----------
    track
        A palette track (slots aligned over time, so colour ``i`` changes smoothly).
    order
        ``"legible"``: the slot order of :func:`m2p.style` (adjacent colours far apart, computed
        once from the whole-piece palette so it does not jump between frames); ``None``: slot
        order; or an explicit permutation.

    Returns
    -------
    TrackColors
    """
    return TrackColors(track, order=order)


class TrackColors:
    """Callable ``t -> list of '#rrggbb'`` over a palette track, with FuncAnimation helpers.

    Times outside ``[0, track.duration]`` raise :class:`~m2p.errors.TrackError`.
    """

    def __init__(self, track: Any, *, order: str | Sequence[int] | None = "legible") -> None:
        self.track = track
        self.duration = float(track.duration)
        if order == "legible":
            self.order: list[int] | None = legible_order(hex_to_lch(track.overall.hex))
        elif order is None:
            self.order = None
        else:
            self.order = [int(i) for i in order]

    def __call__(self, t: float) -> list[str]:
        """Hex colours in force at ``t`` seconds (in this object's order)."""
        hexes = list(_common.track_at(self.track, t).hex)
        if self.order is None:
            return hexes
        first = [i for i in self.order if i < len(hexes)]
        return [hexes[i] for i in first] + [h for i, h in enumerate(hexes) if i not in first]

    def rgba(self, t: float) -> np.ndarray:
        """(n, 4) RGBA floats in [0, 1] at ``t`` seconds."""
        rgb = np.array([as_srgb(h) for h in self(t)])
        return np.column_stack([rgb, np.ones(len(rgb))])

    def frames(self, fps: float = 25.0) -> np.ndarray:
        """Frame times ``0, 1/fps, ...`` up to the end of the track, for ``frames=``."""
        if fps <= 0:
            raise InvalidArgumentError(f"fps must be positive, got {fps}")
        n = int(np.floor(self.duration * fps + 1e-9)) + 1
        return np.arange(n) / float(fps)

    def updater(self, artists: Any, *, fps: float | None = None) -> Callable[[Any], list[Any]]:
        """A ``func`` for :class:`~matplotlib.animation.FuncAnimation` recolouring ``artists``.

        Artist ``k`` gets colour ``k mod n``. The returned function takes a frame time in
        seconds (use :meth:`frames`) or, when ``fps`` is given, a frame index, and returns the
        artists (so ``blit=True`` works).
        """
        items = list(artists)

        def update(frame: Any) -> list[Any]:
            t = float(frame) / fps if fps else float(frame)
            colours = self(t)
            for k, artist in enumerate(items):
                _set_colour(artist, colours[k % len(colours)])
            return items

        return update


def _set_colour(artist: Any, colour: str) -> None:
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(artist, Line2D):
        artist.set_color(colour)
    elif isinstance(artist, (Patch, Collection)):
        artist.set_facecolor(colour)
    elif hasattr(artist, "set_color"):
        artist.set_color(colour)
    else:
        raise TypeError(f"cannot colour a {type(artist).__name__}")
