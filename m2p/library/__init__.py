"""A whole music library: :func:`m2p.batch` into one parquet table (``batch``), run by an engine
chosen by name (``engines``: ``local``, a process pool; ``ray``, Ray Data) on the per-file work
every engine shares (``job``), journaled so a killed job resumes (``journal``); the table's
columns and reading it (``table``), and its static gallery page (``gallery``).

``m2p.batch`` is the function (``m2p.library.batch`` is its module).
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "read_library": "m2p.library.table",
    "row_track": "m2p.library.table",
    "write_gallery": "m2p.library.gallery",
})
