"""Lazy re-exports for packages (PEP 562), so that importing a package imports nothing heavy.

A package's ``__init__`` names what it re-exports and from which module; the first use of a
name imports that module. ``import m2p.colour`` therefore does not import torch, and
``m2p.colour.ciede2000`` does.

>>> from m2p._internal.lazy import attach
>>> __getattr__, __dir__, __all__ = attach("json", {"dumps": "json"})
>>> __getattr__("dumps")("ok")
'"ok"'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, names: Mapping[str, str | tuple[str, str | None]]
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Module ``__getattr__``, ``__dir__`` and ``__all__`` for lazy re-exports.

    Parameters
    ----------
    package
        The package's ``__name__`` (the error message names it).
    names
        Public name -> module that defines it (the attribute has the same name), or
        ``(module, attribute)``; an attribute of None re-exports the module itself.

    Returns
    -------
    __getattr__, __dir__, __all__
        Assign them at module level in the package's ``__init__``.
    """
    table = {name: (where, name) if isinstance(where, str) else where
             for name, where in names.items()}

    def __getattr__(name: str) -> Any:
        try:
            module_name, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name)
        return module if attribute is None else getattr(module, attribute)

    def __dir__() -> list[str]:
        return sorted(table)

    return __getattr__, __dir__, sorted(table)
