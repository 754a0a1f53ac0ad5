"""music2palette: listen to music, answer with colour.

>>> import m2p
>>> m2p.palette("song.mp3")              # whole-piece palette          # doctest: +SKIP
>>> m2p.palette_track("song.mp3")        # one palette per window       # doctest: +SKIP
>>> m2p.palettes("song.mp3", n=5)        # five different palettes      # doctest: +SKIP

The public names are loaded lazily (module ``__getattr__``, PEP 562), so ``import m2p`` does
not import torch or NumPy; the first use of a name imports what it needs.

``m2p.palette`` is the function; the value types live in ``m2p.palette_types`` (also
exported as ``m2p.Palette`` and ``m2p.PaletteTrack``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> (module, attribute in it; None means the module itself).
# Adding a public name is one line here.
_LAZY: dict[str, tuple[str, str | None]] = {
    # --- core -------------------------------------------------------------------------------
    "palette": ("m2p.api", "palette"),
    "palette_track": ("m2p.api", "palette_track"),
    "palettes": ("m2p.api", "palettes"),
    "Palette": ("m2p.palette_types", "Palette"),
    "PaletteTrack": ("m2p.palette_types", "PaletteTrack"),
    "PaletteStream": ("m2p.inference.live", "PaletteStream"),
    "live": ("m2p.inference.live", "live"),
    "errors": ("m2p.errors", None),
    # --- a whole library ------------------------------------------------------------------
    "batch": ("m2p.library.batch", "batch"),
    "match": ("m2p.hooks.front_doors", "match"),
    # --- integrations: front doors that load the adapter plugins on first use -------------
    "plugins": ("m2p.hooks.manager", "plugins"),
    "style": ("m2p.hooks.front_doors", "style"),
    "register_colormaps": ("m2p.hooks.front_doors", "register_colormaps"),
    "altair": ("m2p.hooks.front_doors", "altair"),
    "animate_colors": ("m2p.hooks.front_doors", "animate_colors"),
    "video": ("m2p.hooks.front_doors", "video"),
    "plotly": ("m2p.hooks.front_doors", "plotly"),
    "bokeh": ("m2p.hooks.front_doors", "bokeh"),
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # static analysers and IDEs see the real objects
    from m2p import errors  # noqa: F401
    from m2p.api import palette, palette_track, palettes  # noqa: F401
    from m2p.library.batch import batch  # noqa: F401
    from m2p.inference.live import PaletteStream, live  # noqa: F401
    from m2p.palette_types import Palette, PaletteTrack  # noqa: F401

    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        module_name, attribute = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
    else:
        raise AttributeError(f"module 'm2p' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("music2palette")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"
