"""JSON with comments (and trailing commas), as people edit configuration and register maps.

JSON5 is the well-kept superset that allows both; json5 raises ValueError with line and column.
"""

from __future__ import annotations

from typing import Any

import json5


def loads(text: str) -> Any:
    return json5.loads(text)
