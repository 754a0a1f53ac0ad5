"""Video adapter: grade footage and photos to music, export ``.cube`` LUTs, race bar charts.

Reached as ``m2p.video`` (``import m2p; m2p.video.MusicGrade(...)``) or through the plugin
registry (``m2p.hooks.manager.get("video")``). Names are loaded lazily (PEP 562): importing this
package imports neither MoviePy, Matplotlib nor torch. Its subcommands (``m2p grade``,
``recolor``, ``race``, ``match``) are added by :func:`register_commands`, their code in
:mod:`m2p_plugins.video.cli`; its LUT formats of ``m2p export`` (``cube``, ``3dl``,
``haldclut``) by :func:`register_formats`, their code in :mod:`m2p_plugins.video.export`. Both
are imported only when used.

Public names
------------
``MusicGrade``
    MoviePy 2 effect grading each frame toward the palette in force at its time.
``grade_video(video, music, output, ...)``
    The whole job: grade, mux the music, write atomically (``m2p grade``).
``recolor(photo, music, output, ...)``, ``recolor_image(image, palette, ...)``
    Still images (``m2p recolor``).
``export_lut(music, output, format="cube"|"3dl"|"haldclut", sections=...)``,
``export_cube(music, output, ...)``, ``grade_lut(...)``
    The grade as standard LUT files (``m2p export --format cube|3dl|haldclut``); the swatch
    formats of the same command are the core's :mod:`m2p.exporters.swatches`.
``bar_chart_race(csv_or_frame, music, output, ...)``, ``BarChartRace``
    Palette-coloured bar-chart race with the music as soundtrack (``m2p race``).
``match(footage, library, ...)``, ``footage_palettes``
    A library's tracks ranked for a picture or a video (``m2p match``, ``m2p.match``).
``LutTrack``, ``lut_track``, ``FrameGrader``, ``transfer_lut``, ``dominant_colors``,
``match_palettes``, ``apply_lut``, ``apply_lut_torch``, ``expand_lut``, ``identity_lut``,
``read_cube``, ``write_cube``, ``write_3dl``, ``write_haldclut``, ``resample_lut``
    The building blocks.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from typing import Any, Callable

from m2p.hooks.specs import hookimpl

_LAZY: dict[str, str] = {
    "MusicGrade": "m2p_plugins.video.grade",
    "grade_video": "m2p_plugins.video.grade",
    "source_palette": "m2p_plugins.video.grade",
    "recolor": "m2p_plugins.video.recolor",
    "recolor_image": "m2p_plugins.video.recolor",
    "export_cube": "m2p_plugins.video.export",
    "grade_lut": "m2p_plugins.video.recolor",
    "export_lut": "m2p_plugins.video.export",
    "bar_chart_race": "m2p_plugins.video.race",
    "BarChartRace": "m2p_plugins.video.race",
    "read_wide_csv": "m2p_plugins.video.race",
    "LutTrack": "m2p_plugins.video.timeline",
    "lut_track": "m2p_plugins.video.timeline",
    "FrameGrader": "m2p_plugins.video.timeline",
    "transfer_lut": "m2p_plugins.video.transfer",
    "dominant_colors": "m2p_plugins.video.transfer",
    "dominant_colours": "m2p_plugins.video.transfer",  # deprecated spelling
    "match_palettes": "m2p_plugins.video.transfer",
    "apply_lut": "m2p_plugins.video.lut",
    "apply_lut_torch": "m2p_plugins.video.lut",
    "expand_lut": "m2p_plugins.video.lut",
    "identity_lut": "m2p_plugins.video.lut",
    "read_cube": "m2p_plugins.video.lut",
    "resample_lut": "m2p_plugins.video.lut",
    "write_3dl": "m2p_plugins.video.lut",
    "write_cube": "m2p_plugins.video.lut",
    "write_haldclut": "m2p_plugins.video.lut",
    "match": "m2p_plugins.video.matching",
    "footage_palettes": "m2p_plugins.video.matching",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """This package's module type: a public name that is also a submodule's name keeps the
    public object. Importing ``m2p_plugins.video.recolor`` (as ``export_cube`` and ``match``
    do) makes Python bind the submodule to the package attribute ``recolor``, which made
    ``m2p.video.recolor(...)`` a module ("'module' object is not callable"); that binding is
    skipped, so ``recolor`` stays the function (the submodule is in ``sys.modules``, and
    ``from m2p_plugins.video.recolor import ...`` works as before)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (name in _LAZY and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


_COMMANDS: tuple[tuple[str, str], ...] = (
    ("grade", "Colour-grade a video to music."),
    ("recolor", "Recolour an image to music."),
    ("race", "Bar-chart race coloured by music."),
    ("match", "Rank a music library for a picture or a video."),
)

LUT_FORMATS: dict[str, tuple[str, str, str | None]] = {
    "cube": (".cube", "3-D LUT, 33 nodes (ffmpeg lut3d, Resolve, Premiere, OBS)", None),
    "3dl": (".3dl", "3-D LUT, 17 nodes, 12-bit (Lustre, Flame, ffmpeg lut3d)", None),
    "haldclut": (".png", "512 x 512 Hald CLUT picture (ffmpeg haldclut, G'MIC)",
                 "{stem}_hald{suffix}"),
}
"""The LUT export formats: name -> (suffix, description, default output name)."""


@hookimpl
def register_commands(register: Any) -> None:
    """Add ``m2p grade``, ``m2p recolor``, ``m2p race`` and ``m2p match``."""
    for name, text in _COMMANDS:
        register(name, _later("m2p_plugins.video.cli", f"configure_{name}"), help=text)


@hookimpl
def register_formats(register: Any) -> None:
    """Add the LUT formats ``cube``, ``3dl`` and ``haldclut`` to ``m2p export``."""
    for name in LUT_FORMATS:
        writer, fields = lut_registration(name)
        register(name, writer, **fields)


def lut_registration(name: str) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The writer and the :class:`~m2p.exporters.formats.ExportFormat` fields of the LUT format
    ``name``; the writer (:func:`m2p_plugins.video.export.write_lut`) and the options' checks
    are imported when first called."""
    from m2p.exporters.formats import FormatOption

    suffix, description, default_output = LUT_FORMATS[name]
    options = (
        FormatOption("strength", _later("m2p.cli.args", "unit_interval"),
                     "how far the reference's colours move: 0 = unchanged, 0.6 (default) "
                     "about 8 CIEDE2000 on average, 1 about 14", "S",
                     check=_later("m2p_plugins.video.transfer", "check_strength")),
        FormatOption("reference", str, "footage the LUT is tuned for (default: a neutral "
                     "split-tone)", "IMAGE_OR_VIDEO"),
        FormatOption("size", _later("m2p_plugins.video.cli", "lut_size"),
                     "LUT nodes per axis of the computed grade, 2 to 65 (default 33)", "N",
                     check=_later("m2p_plugins.video.lut", "check_lut_size")),
    )
    writer = functools.partial(_later("m2p_plugins.video.export", "write_lut"), name)
    return writer, dict(suffix=suffix, description=description, sections=False, options=options,
                        family="LUT formats", default_output=default_output)


def _later(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported on the first call (registering must stay cheap: commands,
    formats and ``m2p.match`` load their code only when used)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


@hookimpl
def m2p_register(register: Any) -> None:
    """Register the ``video`` namespace (this package; its names load on first use)."""
    register("video", sys.modules[__name__],
             description="MusicGrade effect, grade_video, recolor, .cube export, bar_chart_race")
    register("match", _later("m2p_plugins.video.matching", "match"),
             description="m2p.match: rank library tracks for an image or video")
