"""Song colormaps registered in ``matplotlib.colormaps`` under stable ``m2p.<stem>`` names."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from m2p._internal.warn import warn
from m2p.colour.convert_np import hex_to_lch
from m2p.colour.legibility import legible_order
from m2p.colour.ramps import diverging_ramp, sequential_ramp
from m2p.errors import InvalidArgumentError, NameCollisionWarning
from m2p_plugins import _common

KINDS = ("sequential", "diverging", "qualitative")
"""Colormap kinds made for each palette."""

_SUFFIX = {"sequential": "", "diverging": "_diverging", "qualitative": "_qualitative"}


def register_colormaps(source: Any, *, at: float | None = None, model: Any = None, seed: int = 0,
                       name: str | None = None, **inference_kwargs: Any) -> dict[str, Any]:
    """Build the song's colormaps and register them in ``matplotlib.colormaps``.

    Names (``<stem>`` is ``name``, or made from the file's name)::

        m2p.<stem>               sequential, dark to light, monotonic L* (CIELAB)
        m2p.<stem>_diverging     two of the palette's hues, apart also for colour-blind
                                 readers, light centre
        m2p.<stem>_qualitative   ListedColormap of the palette in legible order

    each with a reversed ``..._r`` twin.

    **The naming rule.** The stem is the file's name without its suffix, accents folded to
    their letters, lower-cased, and every run of characters other than letters and digits
    (spaces, hyphens, dots...) turned into one ``_``; ``at=`` adds ``_t<seconds>``
    (``_t30``, ``_t12p5`` for 12.5 s). So ``battle-epic.ogg`` registers ``m2p.battle_epic``,
    ``Ünicode Çafé.ogg`` ``m2p.unicode_cafe``. A name with hyphens is also registered as it is
    spelled, as an alias: ``m2p.battle-epic`` (and ``m2p.battle-epic_diverging``...) is the
    same colormap. Registering the same palette again is silent;
    registering a *different* palette under a name already taken replaces the maps and warns
    (:class:`~m2p.errors.NameCollisionWarning`): two files called ``song.ogg`` in different
    folders would otherwise silently share ``m2p.song``; give one of them ``name=``. A built-in
    Matplotlib map is never replaced.

    Parameters
    ----------
    source
        Audio path, Palette or PaletteTrack (see :func:`m2p_plugins._common.palette_and_stem`).
    at, model, seed, **inference_kwargs
        As for :func:`m2p.style`.
    name
        Stem to use instead of the one derived from the source (any non-empty text; Matplotlib
        accepts Unicode colormap names). Stems derived from file names keep accented letters
        readable: "Ünicode Çafé.ogg" gives ``m2p.unicode_cafe``.

    Returns
    -------
    dict
        ``{registered name: Colormap}``, six entries.

    Warns
    -----
    m2p.errors.NameCollisionWarning
        The name was bound to a different palette and is re-bound to this one.
    """
    palette, stem = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                            **inference_kwargs)
    if name is not None:
        return register_palette(palette, stem=name, origin=source)
    maps = register_palette(palette, stem=stem, origin=source)
    alias = hyphenated_alias(source, stem)
    if alias is not None:
        maps.update(register_palette(palette, stem=alias, origin=source))
    return maps


def hyphenated_alias(source: Any, stem: str) -> str | None:
    """The stem as the file spells it with hyphens (``battle-epic`` for ``battle_epic``),
    or ``None`` when the file's name has no hyphen (see the naming rule of
    :func:`register_colormaps`)."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    from pathlib import Path

    raw = Path(os.fspath(source)).stem
    if "-" not in raw:
        return None
    parts = [_common.readable_stem(part) for part in raw.split("-")]
    alias = "-".join(p for p in parts if p)
    base = _common.readable_stem(raw) or ""
    if not alias or alias == base or not stem.startswith(base):
        return None
    return alias + stem[len(base):]  # keeps the _t<seconds> suffix


def register_palette(palette: Any, *, stem: str, origin: Any = None) -> dict[str, Any]:
    """Register the six colormaps of ``palette`` under ``m2p.<stem>``; see
    :func:`register_colormaps` (``origin``: what the palette came from, for the warning)."""
    import matplotlib as mpl

    if not isinstance(stem, str) or not stem.strip():
        raise InvalidArgumentError(f"name must be non-empty text, got {stem!r}")
    cmaps = make_colormaps(palette, stem=stem.strip())
    taken = [n for n, c in cmaps.items() if n in mpl.colormaps and not _same(mpl.colormaps[n], c)]
    if taken:
        where = (f" by {os.fspath(origin)!r}" if isinstance(origin, (str, os.PathLike))
                 else "")
        warn(f"colormap {taken[0]!r} was registered for a different palette; it is now "
             f"re-bound{where}. Pass name= to m2p.style or m2p.register_colormaps to keep both "
             "(e.g. name='album_song').", NameCollisionWarning)
    for cmap_name, cmap in cmaps.items():
        _register_one(mpl.colormaps, cmap_name, cmap)
    return cmaps


def make_colormaps(palette: Any, *, stem: str) -> dict[str, Any]:
    """The six colormaps of a :class:`~m2p.palette_types.Palette` without registering them."""
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap

    lch = hex_to_lch(palette.hex)
    names = colormap_names(stem)
    order = legible_order(lch)
    hexes = [list(palette.hex)[i] for i in order]
    maps = {
        names["sequential"]: LinearSegmentedColormap.from_list(
            names["sequential"], sequential_ramp(lch), N=256),
        names["diverging"]: LinearSegmentedColormap.from_list(
            names["diverging"], diverging_ramp(lch), N=256),
        names["qualitative"]: ListedColormap(hexes, name=names["qualitative"]),
    }
    out: dict[str, Any] = {}
    for cmap_name, cmap in maps.items():
        out[cmap_name] = cmap
        out[cmap_name + "_r"] = cmap.reversed(name=cmap_name + "_r")
    return out


def colormap_names(stem: str) -> dict[str, str]:
    """``{kind: name}`` of the (forward) colormaps for ``stem``."""
    return {kind: f"m2p.{stem}{_SUFFIX[kind]}" for kind in KINDS}


def _register_one(registry: Any, name: str, cmap: Any) -> None:
    if name in registry:
        existing = registry[name]
        if _same(existing, cmap):
            return
        if not name.startswith("m2p."):
            raise InvalidArgumentError(f"refusing to replace the non-m2p colormap {name!r}")
        registry.unregister(name)
    registry.register(cmap, name=name)


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or a.N != b.N:
        return False
    x = np.linspace(0.0, 1.0, a.N)
    return bool(np.allclose(a(x), b(x), atol=1e-9))
