"""Typed errors raised by music2palette.

Every error a user can cause (a bad file, a missing model, a bad argument) is an
:class:`M2PError`, so ``except m2p.errors.M2PError`` catches them all, and the CLI turns
each into one readable line and a non-zero exit status.
"""

from __future__ import annotations

from os import PathLike


class M2PError(Exception):
    """Base class of all music2palette errors.

    Parameters
    ----------
    reason
        One line saying what is wrong.
    source
        The file (or other input) the error is about, if any; it is put in front of the message.
    """

    def __init__(self, reason: str, *, source: str | PathLike[str] | None = None) -> None:
        self.reason = reason
        self.source = None if source is None else str(source)
        super().__init__(f"{self.source}: {reason}" if self.source else reason)


class InvalidArgumentError(M2PError, ValueError):
    """An argument is out of its documented range (a negative window, n < 1, a bad hex code...)."""


class AudioError(M2PError):
    """Base class for problems with an audio input."""


class AudioFileNotFoundError(AudioError, FileNotFoundError):
    """The audio file does not exist."""


class AudioDecodeError(AudioError):
    """The input exists but could not be decoded as audio (empty, not audio, truncated...)."""


class AudioTooShortError(AudioError):
    """The audio is shorter than the minimum the model can hear (about one second)."""


class InvalidAudioError(AudioError):
    """Decoded samples are unusable: NaN/inf everywhere, wrong shape, bad sample rate."""


class ModelNotFoundError(M2PError):
    """No model weights were found where they were looked for."""


class ModelFormatError(M2PError):
    """Model files exist but do not match the expected config or tensor layout."""


class DeviceError(M2PError):
    """A torch device is unknown, not supported, or not available on this machine (``"cuda"``
    without a GPU, an index past the last GPU, ``"mps"`` where torch has no MPS)."""


class TrackError(M2PError):
    """A palette-track query is out of range or malformed (for example ``at=`` past the end)."""


class PluginError(M2PError):
    """A plugin could not be loaded or does not provide what was asked for."""


class MissingExtraError(M2PError, ModuleNotFoundError):
    """An optional package a feature needs is not installed; the message names the package and
    the install command of the extra that brings it (``pip install "music2palette[video]"``).
    Also a :class:`ModuleNotFoundError` (so an ``ImportError``): code that catches an import
    failure keeps working. ``name`` is the missing module (import name), ``extra`` the extra."""

    def __init__(self, reason: str, *, name: str, extra: str,
                 source: str | PathLike[str] | None = None) -> None:
        super().__init__(reason, source=source)
        self.name = name
        self.extra = extra


class OutputError(M2PError):
    """An output file cannot be written (missing or read-only folder, not a regular file, disk
    full, or it would overwrite an input); nothing is left under the requested name."""


class VideoError(M2PError):
    """A video input or output problem (unreadable, no encoder, unwritable path...)."""


class M2PWarning(UserWarning):
    """Base class of the warnings music2palette gives (``warnings.simplefilter`` them by type)."""


class DistinctColorsWarning(M2PWarning):
    """Fewer colours than asked for keep the requested distance: the result is the best the
    search found, and the message says how far apart its colours are."""


class NameCollisionWarning(M2PWarning):
    """A registered name (a colormap ``m2p.<stem>``) is re-bound to a different palette; the
    message names it and suggests ``name=``."""


class PluginWarning(M2PWarning):
    """An adapter (plugin) could not be loaded, or registers a name another one already has;
    the message names the adapter and the reason (``m2p plugins`` lists them too)."""


__all__ = [
    "M2PError",
    "M2PWarning",
    "DistinctColorsWarning",
    "NameCollisionWarning",
    "PluginWarning",
    "InvalidArgumentError",
    "AudioError",
    "AudioFileNotFoundError",
    "AudioDecodeError",
    "AudioTooShortError",
    "InvalidAudioError",
    "ModelNotFoundError",
    "ModelFormatError",
    "DeviceError",
    "TrackError",
    "PluginError",
    "MissingExtraError",
    "OutputError",
    "VideoError",
]
