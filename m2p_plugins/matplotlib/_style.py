"""``m2p.style``: an rcParams dictionary coloured by a song, for ``plt.style.use``."""

from __future__ import annotations

from typing import Any

from m2p.colour import legibility
from m2p_plugins import _common
from m2p_plugins.matplotlib._colormaps import colormap_names, hyphenated_alias, register_palette

TEXT_CONTRAST = legibility.TEXT_CONTRAST
"""Minimum WCAG 2 contrast of text against the figure and axes backgrounds (AA)."""


_TEXT_KEYS = ("text.color", "axes.labelcolor", "axes.titlecolor", "xtick.color", "ytick.color",
              "xtick.labelcolor", "ytick.labelcolor", "legend.labelcolor")


def style(source: Any, *, at: float | None = None, dark: bool = False, model: Any = None,
          seed: int = 0, n: int | None = None, min_distance: float | None = None,
          min_contrast: float | None = None, name: str | None = None, register: bool = True,
          **inference_kwargs: Any) -> dict[str, Any]:
    """rcParams dictionary carrying a song's palette: ``plt.style.use(m2p.style("song.mp3"))``.

    Parameters
    ----------
    source
        Audio path (inference runs once per file content; see :mod:`m2p.cache`), NumPy samples
        (with ``sample_rate=``), a :class:`~m2p.palette_types.Palette` or a
        :class:`~m2p.palette_types.PaletteTrack` (used as is: no second inference).
    at
        Seconds: use the palette in force at that time instead of the whole-piece palette.
        Outside ``[0, duration]`` raises :class:`~m2p.errors.TrackError`.
    dark
        Dark variant: figure and axes backgrounds are the palette's darkest colour taken down to
        L* <= 7 and 10, and text and tick colours are a light tint of the palette with WCAG contrast
        >= 4.5:1 on both backgrounds.
    model, seed, **inference_kwargs
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track` for audio inputs.
    n
        Colours in the cycle; default ``max(len(palette), 8)``, so an 8-series plot never
        repeats a colour (8 is the most that stay 20 CIEDE2000 apart for colour-blind readers
        on a chart background; more come as far apart as they can, with a warning). The
        palette's colours come first, then new ones of the same mood
        (:meth:`m2p.palette_types.Palette.take`; the legibility rule of
        :mod:`m2p.colour.legibility`).
    min_distance
        Smallest CIEDE2000 between any two cycle colours in normal vision and under simulated
        deuteranopia and protanopia; default 20. 0 keeps the palette's colours (moved in
        lightness only where the contrast needs it).
    min_contrast
        Minimum WCAG contrast of the cycle colours against the axes background, on light and
        dark styles alike. Default 3.0 (WCAG 2.1 non-text contrast for lines and markers),
        reached by moving lightness only, never by piling colours into near-black (at most
        two below L* 20, or above L* 90 on the dark style); raise it for stricter needs, 1
        turns it off.
    name
        Stem of the registered colormaps (``m2p.<name>``) instead of one from the file name;
        use it when two files share a name (every Frets on Fire track is ``song.ogg``).
    register
        Register the song's colormaps (``m2p.<stem>``...) and set ``image.cmap`` to the
        sequential one. With ``False`` the dictionary has no ``image.cmap`` entry.

    Returns
    -------
    dict
        rcParams: ``axes.prop_cycle`` (``n`` colours: the palette in legible order, adjacent
        colours far apart in CIEDE2000, grown and made legible as above), ``image.cmap``, face,
        edge, grid and text colours. ``text.usetex`` is never set.

    Warns
    -----
    m2p.errors.DistinctColorsWarning
        ``n`` colours cannot keep ``min_distance`` (the cycle is as distinct as it can be).
    m2p.errors.NameCollisionWarning
        The colormap name was bound to a different palette (see ``name``).
    """
    from cycler import cycler

    palette, stem = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                            **inference_kwargs)
    look = legibility.chart_look(palette, dark=dark, n=n, min_distance=min_distance,
                                 min_contrast=min_contrast)
    cycle, figure_bg, axes_bg = list(look.cycle), look.figure_bg, look.axes_bg
    text, edge, grid = look.text, look.edge, look.grid
    rc: dict[str, Any] = {
        "axes.prop_cycle": cycler(color=cycle),
        "patch.facecolor": cycle[0],
        "figure.facecolor": figure_bg,
        "axes.facecolor": axes_bg,
        "savefig.facecolor": figure_bg,
        "savefig.edgecolor": figure_bg,
        "axes.edgecolor": edge,
        "grid.color": grid,
        "legend.facecolor": axes_bg,
        "legend.edgecolor": grid,
        "boxplot.flierprops.markeredgecolor": text,
    }
    rc.update({key: text for key in _TEXT_KEYS})
    if register:
        alias = hyphenated_alias(source, stem) if name is None else None
        stem = stem if name is None else name
        register_palette(palette, stem=stem, origin=source)
        if alias is not None:
            register_palette(palette, stem=alias, origin=source)
        rc["image.cmap"] = colormap_names(stem.strip())["sequential"]
    return rc
