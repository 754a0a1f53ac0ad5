"""A whole music library: ``m2p.batch`` into one parquet table (``local``, and the Ray engine
in ``ray``), and its static gallery page (``gallery``)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "batch": "m2p.library.local",
    "read_library": "m2p.library.local",
})
