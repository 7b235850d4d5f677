"""Packages whose ``__init__`` imports every submodule, imported lazily: a name is imported when first used.

The Kubernetes client's ``kubernetes/__init__.py`` imports ``kubernetes.client``, whose ``__init__`` imports
every API class (~60 modules) and every model (~700 modules): ~0.4 s of a run's start-up, while edgekit uses
three APIs and the few models their answers hold. ``lazy_packages("kubernetes", "kubernetes.client", ...)``
puts a module in ``sys.modules`` for each package that knows what the package's ``__init__`` would have
imported (its top-level ``from X import Y`` lines, read from the file) and imports ``X`` when ``Y`` is first
asked for; submodules import as usual (the module has the package's ``__path__``). So
``from kubernetes.client import CoreV1Api`` and the client's own ``getattr(kubernetes.client.models, "V1Node")``
work as before, importing only what they name. A package already imported, or not installed, is left alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path
from typing import Any

_FROM = re.compile(r"^from\s+([\w.]+)\s+import\s+(\w+)(?:\s+as\s+(\w+))?\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^(__\w+__)\s*=\s*['\"]([^'\"]*)['\"]\s*$")


class LazyPackage(types.ModuleType):
    """A package module whose exported names import on first use."""

    _lazy_names: dict[str, tuple[str, str | None]]

    def __getattr__(self, name: str) -> Any:
        target = self.__dict__.get("_lazy_names", {}).get(name)
        if target is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attr = target
        value = importlib.import_module(module) if attr is None else getattr(importlib.import_module(module), attr)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_lazy_names", {})))


def _exports(package: str, text: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    names: dict[str, tuple[str, str | None]] = {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        m = _FROM.match(line)
        if m:
            source, attr, alias = m.group(1), m.group(2), m.group(3)
            if source == "__future__":
                continue
            if source == ".":
                names[alias or attr] = (f"{package}.{attr}", None)
            elif source.startswith("."):
                names[alias or attr] = (package + source, attr)
            else:
                names[alias or attr] = (source, attr)
            continue
        m = _ASSIGN.match(line)
        if m:
            values[m.group(1)] = m.group(2)
    return names, values


def lazy_packages(*packages: str) -> None:
    """Make each package (parents first) a ``LazyPackage`` unless it is already imported or not installed."""
    for package in packages:
        if package in sys.modules:
            continue
        parent, _, child = package.rpartition(".")
        if parent and parent not in sys.modules:
            return  # its parent could not be made lazy: import the usual way
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None or spec.submodule_search_locations is None:
            return
        names, values = _exports(package, Path(spec.origin).read_text())
        module = LazyPackage(package)
        module.__spec__ = spec
        module.__file__ = spec.origin
        module.__path__ = list(spec.submodule_search_locations)
        module.__package__ = package
        module.__loader__ = spec.loader
        module._lazy_names = names
        for key, value in values.items():
            setattr(module, key, value)
        sys.modules[package] = module
        if parent:
            setattr(sys.modules[parent], child, module)
