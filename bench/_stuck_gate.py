"""edgekit's router CLI with a gate that never ends: it prints ``STUCK-IN-GATE`` once the commit-confirm
is done and then waits forever, so a benchmark can SIGKILL edgekit at exactly that moment (the state a
crash, a lost laptop or a cut network leaves behind). Everything before the gate is edgekit's own code.

    python -m bench._stuck_gate deploy --cluster prd ...
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from tasks.router import apply, main


def _stuck(*args: Any, **kwargs: Any) -> list[Any]:
    print("STUCK-IN-GATE", file=sys.stderr, flush=True)
    threading.Event().wait()
    return []


if __name__ == "__main__":
    apply.gate = _stuck  # type: ignore[assignment]
    sys.exit(main(sys.argv[1:]))
