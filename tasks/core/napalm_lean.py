"""Load NAPALM without every driver it ships: for edgekit's own programs, whose only driver is this one.

``import napalm`` runs ``napalm/__init__.py``, which imports all of NAPALM's drivers (EOS, IOS, IOS-XR,
JunOS, NX-OS and their client libraries: ~0.4 s of start-up) before ``napalm.base`` is usable, and
nornir_napalm's connection plugin does ``from napalm import get_network_driver``. ``without_drivers()``
puts a ``napalm`` package in ``sys.modules`` first whose submodules are NAPALM's own (same ``__path__``)
and whose attributes (``get_network_driver``, ``SUPPORTED_DRIVERS``, ``__version__``, a driver package
such as ``napalm.ios``) load on first use. ``get_network_driver("edgekit_vyos")`` then finds
``napalm_edgekit_vyos`` as it would otherwise (``napalm_<name>``). A no-op when ``napalm`` is imported already.

Only edgekit's command-line entry points call it; a library user's process keeps NAPALM as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


def without_drivers() -> None:
    """Install the lean ``napalm`` package unless NAPALM is imported already (or not installed)."""
    if "napalm" in sys.modules:
        return
    spec = importlib.util.find_spec("napalm")
    if spec is None or spec.submodule_search_locations is None:
        return
    module = types.ModuleType("napalm", "NAPALM without its bundled drivers imported up front (edgekit)")
    module.__path__ = list(spec.submodule_search_locations)
    module.__file__ = spec.origin

    def __getattr__(name: str) -> Any:  # PEP 562: attributes load on first use
        if name in ("get_network_driver", "SUPPORTED_DRIVERS"):
            value: Any = getattr(
                importlib.import_module("napalm.base" if name[0] == "g" else "napalm._SUPPORTED_DRIVERS"), name
            )
        elif name == "__version__":
            from importlib.metadata import version

            value = version("napalm")
        elif name.startswith("__"):
            raise AttributeError(name)
        else:
            try:
                value = importlib.import_module(f"napalm.{name}")
            except ModuleNotFoundError:
                raise AttributeError(f"module 'napalm' has no attribute {name!r}") from None
        setattr(module, name, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["napalm"] = module
