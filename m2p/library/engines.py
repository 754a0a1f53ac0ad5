"""The engines of :func:`m2p.batch` by name: each runs the per-file work (:mod:`m2p.library.job`)
somewhere and hands every finished row back as it comes.

An engine is a function ``run(todo, job, *, workers, sink)``: ``todo`` is a list of ``(path,
content hash)`` pairs, ``job`` the :class:`~m2p.library.job.Job`, ``workers`` how many workers
to use, and ``sink(row)`` is called in this process once per file, in any order. Finding the
files, skipping the done ones and writing the table (:mod:`m2p.library.journal`) are the same
for every engine. A new engine (a GPU batcher...) is a new module with that function and one
line in :data:`ENGINES`; it is imported only when chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

from m2p.errors import InvalidArgumentError

__all__ = ["ENGINES", "Engine", "engine"]


class Engine(NamedTuple):
    """Where an engine lives (``module:function``, imported when chosen) and its help line."""

    module: str
    function: str
    help: str


ENGINES: dict[str, Engine] = {
    "local": Engine("m2p.library.local", "run_local", "a process pool here (default)"),
    "ray": Engine("m2p.library.ray", "run_ray", "Ray Data (pip install 'music2palette[ray]'; "
                                                "$RAY_ADDRESS or a local cluster)"),
}
"""The engines by name, ``--engine`` of ``m2p batch`` and ``engine=`` of :func:`m2p.batch`."""


def engine(name: str) -> Callable[..., None]:
    """The run function of the engine ``name`` (its module imported now).

    Raises
    ------
    m2p.errors.InvalidArgumentError
        No engine of that name.
    """
    if name not in ENGINES:
        raise InvalidArgumentError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    where = ENGINES[name]
    return getattr(importlib.import_module(where.module), where.function)

