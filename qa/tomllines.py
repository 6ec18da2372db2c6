"""Where each key of a TOML document is written: a small line scanner (pure).

``tomllib`` parses but forgets positions, so validation errors would not name a line.
This scanner walks the text once and maps dotted key paths to 1-based line numbers:
``[table]`` and ``[[array]]`` headers (array tables are indexed: ``faults.2.at_s``),
``key = value`` lines (dotted and quoted keys included), and the keys of one-line inline
tables (``seeks = [{at_s = 3, to_s = 9}]`` gives ``content.seeks.0.at_s``). Anything it
does not recognise (multi-line strings, arrays spread over lines) falls back to the
nearest enclosing key, which is still the right neighbourhood.
"""

from __future__ import annotations

import re

_KEY = r'(?:"[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[|\[)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"({_DOTTED})\s*=")


def _split(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(_KEY, dotted)]


def key_lines(text: str) -> dict[str, int]:
    """Dotted path (array items by index) -> line where that key or table is defined."""
    lines: dict[str, int] = {}
    counters: dict[str, int] = {}
    table: list[str] = []
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        elif in_multiline:
            continue
        header = _HEADER.match(raw)
        if header:
            path = _split(header.group(2))
            if header.group(1) == "[[":
                base = ".".join(path)
                index = counters.get(base, -1) + 1
                counters[base] = index
                path = path + [str(index)]
            table = path
            lines.setdefault(".".join(table), number)
            continue
        assign = _ASSIGN.match(raw)
        if not assign:
            continue
        key = table + _split(assign.group(1))
        lines.setdefault(".".join(key), number)
        _inline(assign.group(2), key, number, lines)
    return lines


def _inline(value: str, key: list[str], number: int, lines: dict[str, int]) -> None:
    """Keys inside one-line inline tables and arrays of inline tables."""
    path: list[str] = list(key)
    stack: list[tuple[str, int, bool]] = []  # (kind "[" or "{", item index, pushed a path part)
    pending: str | None = None
    i = 0
    while i < len(value):
        c = value[i]
        if c in "\"'":
            end = value.find(c, i + 1)
            i = len(value) if end < 0 else end + 1
            continue
        if c == "#":
            break
        if c == "[":
            path.append("0")
            stack.append(("[", 0, True))
        elif c == "{":
            pushed = pending is not None
            if pending is not None:
                path.append(pending)
                pending = None
            stack.append(("{", 0, pushed))
        elif c in "]}":
            if stack:
                _, _, pushed = stack.pop()
                if pushed and path:
                    path.pop()
        elif c == "," and stack and stack[-1][0] == "[":
            kind, item, pushed = stack[-1]
            stack[-1] = (kind, item + 1, pushed)
            path[-1] = str(item + 1)
        elif stack and stack[-1][0] == "{" and (i == 0 or value[i - 1] in " {,\t"):
            m = _INLINE_KEY.match(value, i)
            if m:
                sub = _split(m.group(1))
                lines.setdefault(".".join(path + sub), number)
                if value[m.end():].lstrip().startswith("{"):
                    pending = sub[-1]
                i = m.end()
                continue
        i += 1


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` or of its closest enclosing key that the scanner saw."""
    parts = path.split(".")
    while parts:
        found = lines.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None
