"""Kubernetes API stand-in for tests and the lab (see server.py for the paths, world.py for worlds).

Python: ``KubeAPIServer(world, host="127.0.0.1", port=0, tls=False | (cert, key)).start() -> url``,
``.set_world(world)``, ``.stop()``. CLI: ``python -m lab.kubeapi --listen ADDR:PORT --world FILE.json``.
Writes: server-side apply and managedFields in apply.py; the world file's lock in store.py.
"""

from lab.kubeapi.server import KubeAPIServer, World, route
from lab.kubeapi.world import build_world, kubeconfig, set_speaker_ready

__all__ = ["KubeAPIServer", "World", "build_world", "kubeconfig", "route", "set_speaker_ready"]
