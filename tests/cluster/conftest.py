"""The cluster tests share helper modules (simulation, invariants, process harness) by plain import;
make that work whatever pytest import mode the project chooses."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
