"""``m2p.style``: an rcParams dictionary coloured by a song, for ``plt.style.use``."""

from __future__ import annotations

from typing import Any

from m2p_plugins import _common
from m2p_plugins._common import dark_backgrounds as _dark_backgrounds
from m2p_plugins._common import mix as _mix
from m2p_plugins._common import text_colour as _text_colour
from m2p_plugins.matplotlib._colormaps import colormap_names, register_colormaps

TEXT_CONTRAST = _common.TEXT_CONTRAST
"""Minimum WCAG 2 contrast of text against the figure and axes backgrounds (AA)."""

LINE_CONTRAST_DARK = 3.0
"""Minimum WCAG 2 (1.4.11 non-text) contrast of cycle colours on the dark background."""

_TEXT_KEYS = ("text.color", "axes.labelcolor", "axes.titlecolor", "xtick.color", "ytick.color",
              "xtick.labelcolor", "ytick.labelcolor", "legend.labelcolor")


def style(source: Any, *, at: float | None = None, dark: bool = False, model: Any = None,
          seed: int = 0, min_contrast: float | None = None, register: bool = True,
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
        L* <= 14, text and tick colours are a light tint of the palette with WCAG contrast
        >= 4.5:1 on both backgrounds, and cycle colours are lightened (same hue) just enough to
        reach 3:1 (WCAG 1.4.11).
    model, seed, **inference_kwargs
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track` for audio inputs.
    min_contrast
        Minimum contrast of the cycle colours against the axes background. Default: 3.0 for
        ``dark=True``, none for the light style (the cycle is the palette, exactly).
    register
        Register the song's colormaps (``m2p.<stem>``...) and set ``image.cmap`` to the
        sequential one. With ``False`` the dictionary has no ``image.cmap`` entry.

    Returns
    -------
    dict
        rcParams: ``axes.prop_cycle`` (the palette in legible order: adjacent colours far apart
        in CIEDE2000), ``image.cmap``, face, edge, grid and text colours. ``text.usetex`` is
        never set.
    """
    from cycler import cycler

    palette, stem = _common.resolve_palette(source, at=at, model=model, seed=seed,
                                            **inference_kwargs)
    lch = _common.palette_lch(palette)
    hexes = list(palette.hex)
    order = _common.legible_order(lch)
    cycle = [hexes[i] for i in order]
    cycle_lch = lch[order]

    if dark:
        figure_bg, axes_bg = _dark_backgrounds(lch)
        text = _text_colour(lch, (figure_bg, axes_bg), light_text=True)
        threshold = LINE_CONTRAST_DARK if min_contrast is None else min_contrast
    else:
        figure_bg = axes_bg = "#ffffff"
        text = _text_colour(lch, (figure_bg, axes_bg), light_text=False)
        threshold = 0.0 if min_contrast is None else min_contrast
    if threshold > 1.0:
        cycle = [c if _common.contrast_ratio(c, axes_bg) >= threshold
                 else _common.ensure_contrast(cycle_lch[k], axes_bg, threshold)
                 for k, c in enumerate(cycle)]

    edge = _mix(text, axes_bg, 0.75)
    grid = _mix(text, axes_bg, 0.3)
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
        register_colormaps(palette, name=stem)
        rc["image.cmap"] = colormap_names(stem)["sequential"]
    return rc
