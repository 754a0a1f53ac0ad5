"""``m2p.animate_colors``: a palette track's colours as a function of time, for FuncAnimation."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from m2p.colour.convert_np import as_srgb
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common


def animate_colors(track: Any, *, order: str | None = "legible", n: int | None = None,
                   background: Any = None, min_contrast: float | None = None,
                   min_distance: float | None = None) -> "TrackColors":
    """Colours of a :class:`~m2p.palette_types.PaletteTrack` at any time ``t`` (seconds).

    The colours follow the legibility rule of :mod:`m2p.colour.legibility`, at every time:
    each has contrast >= 3:1 on ``background``, at most two are near-black (near-white on a
    dark background) and every pair is 20 CIEDE2000 apart also for colour-blind viewers. Each
    colour keeps one hue for the whole track (viewers follow a bar by its colour); the music
    moves its lightness and chroma within what keeps those rules.

    Example
    -------
    >>> colors = m2p.animate_colors(track)                                # doctest: +SKIP
    >>> bars = ax.bar(range(5), heights)                                  # doctest: +SKIP
    >>> anim = FuncAnimation(fig, colors.updater(bars), frames=colors.frames(fps=10))  # doctest: +SKIP

    Parameters
    ----------
    track
        A palette track.
    order
        ``"legible"``: the order of :func:`m2p.style`'s cycle (adjacent colours far apart,
        from the whole-piece palette); ``None``: the palette's slot order.
    n
        Number of colours; default the whole-piece palette's length.
    background
        The axes background the colours land on (hex or sRGB); default Matplotlib's
        ``axes.facecolor`` in force (so a dark :func:`m2p.style` gets dark-legible colours),
        white without Matplotlib.
    min_contrast, min_distance
        As for :func:`m2p.style`.

    Returns
    -------
    TrackColors
    """
    return TrackColors(track, order=order, n=n, background=background,
                       min_contrast=min_contrast, min_distance=min_distance)


class TrackColors:
    """Callable ``t -> list of '#rrggbb'`` over a palette track, with FuncAnimation helpers
    (see :func:`animate_colors`).

    Times outside ``[0, track.duration]`` raise :class:`~m2p.errors.TrackError`.
    """

    def __init__(self, track: Any, *, order: str | None = "legible", n: int | None = None,
                 background: Any = None, min_contrast: float | None = None,
                 min_distance: float | None = None) -> None:
        from m2p.colour.legibility import TrackColors as LegibleTrack

        self.track = track
        self.duration = float(track.duration)
        self.background = _axes_background() if background is None else background
        self.colours = LegibleTrack(track, n, background=self.background, order=order,
                                    min_contrast=min_contrast, min_distance=min_distance)

    def __call__(self, t: float) -> list[str]:
        """Hex colours in force at ``t`` seconds."""
        _common.track_at(self.track, t)  # the one range check (TrackError outside the track)
        return self.colours.hex(t)

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


def _axes_background() -> Any:
    """Matplotlib's ``axes.facecolor`` in force (white without Matplotlib or for "none")."""
    try:
        import matplotlib as mpl
        from matplotlib.colors import to_rgb
    except ImportError:
        return "#ffffff"
    try:
        return to_rgb(mpl.rcParams["axes.facecolor"])
    except ValueError:
        return "#ffffff"


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
