"""JSON with comments: register maps are edited by people, who need to say why a value is what it is."""

from __future__ import annotations

import json
from typing import Any


def strip_comments(text: str) -> str:
    """Drop `//` line comments and `/* */` block comments that are outside strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated /* comment")
            # keep line count so json error positions still point at the right line
            out.append("\n" * text.count("\n", i, end))
            i = end + 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def loads(text: str) -> Any:
    return json.loads(strip_comments(text))
