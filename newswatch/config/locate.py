"""Line numbers for TOML key paths: tomllib gives no positions for values."""

from __future__ import annotations

import bisect
import re
import tomllib
from typing import Iterable


class Locator:
    """Maps key paths to 1-based line numbers by scanning TOML text already known to
    be valid. Table headers and `key =` lines are recorded, as are array elements and
    inline-table keys; an unknown path falls back to its nearest recorded parent."""

    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lines: dict[tuple, int] = {}
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        try:
            self._scan()
        except Exception:  # noqa: BLE001 - positions are a courtesy; never mask the real error
            pass

    def line(self, path: Iterable) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    # -- scanning
    def _line_at(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _record(self, path: tuple, line: int) -> None:
        for i in range(1, len(path) + 1):
            self.lines.setdefault(path[:i], line)

    def _skip(self, newlines: bool) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            else:
                return

    def _scan(self) -> None:
        text, n = self.text, len(self.text)
        table: tuple = ()
        aot_index: dict[tuple, int] = {}
        while True:
            self._skip(newlines=True)
            if self.pos >= n:
                return
            start = self.pos
            if text[self.pos] == "[":
                is_aot = text.startswith("[[", self.pos)
                self.pos += 2 if is_aot else 1
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 2 if is_aot else 1
                path: list = []
                for i, key in enumerate(keys):
                    path.append(key)
                    logical = tuple(path)
                    if is_aot and i == len(keys) - 1:
                        aot_index[logical] = aot_index.get(logical, -1) + 1
                        path.append(aot_index[logical])
                    elif logical in aot_index:
                        path.append(aot_index[logical])
                table = tuple(path)
                self.lines[table] = self._line_at(start)
                self._record(table, self._line_at(start))
            else:
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 1  # '='
                path = table + tuple(keys)
                self._record(path, self._line_at(start))
                self._value(path)

    def _key(self) -> list[str]:
        keys = []
        while True:
            self._skip(newlines=False)
            c = self.text[self.pos]
            if c == '"':
                end = self._basic_string_end(self.pos)
                keys.append(tomllib.loads("k = " + self.text[self.pos:end])["k"])
                self.pos = end
            elif c == "'":
                end = self.text.index("'", self.pos + 1)
                keys.append(self.text[self.pos + 1:end])
                self.pos = end + 1
            else:
                m = self._BARE.match(self.text, self.pos)
                keys.append(m.group(0))
                self.pos = m.end()
            self._skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return keys

    def _basic_string_end(self, pos: int) -> int:
        i = pos + 1
        while self.text[i] != '"':
            i += 2 if self.text[i] == "\\" else 1
        return i + 1

    def _value(self, path: tuple) -> None:
        self._skip(newlines=False)
        text = self.text
        if text.startswith('"""', self.pos) or text.startswith("'''", self.pos):
            quote = text[self.pos:self.pos + 3]
            i = self.pos + 3
            while not text.startswith(quote, i):
                i += 2 if (quote == '"""' and text[i] == "\\") else 1
            i += 3
            while i < len(text) and text[i] == quote[0]:  # up to two quotes end the content
                i += 1
            self.pos = i
        elif text[self.pos] == '"':
            self.pos = self._basic_string_end(self.pos)
        elif text[self.pos] == "'":
            self.pos = text.index("'", self.pos + 1) + 1
        elif text[self.pos] == "[":
            self.pos += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if text[self.pos] == "]":
                    self.pos += 1
                    return
                if text[self.pos] == ",":
                    self.pos += 1
                    continue
                self._record(path + (index,), self._line_at(self.pos))
                self._value(path + (index,))
                index += 1
        elif text[self.pos] == "{":
            self.pos += 1
            while True:
                self._skip(newlines=True)
                if text[self.pos] == "}":
                    self.pos += 1
                    return
                if text[self.pos] == ",":
                    self.pos += 1
                    continue
                start = self.pos
                keys = self._key()
                self._skip(newlines=False)
                self.pos += 1  # '='
                self._record(path + tuple(keys), self._line_at(start))
                self._value(path + tuple(keys))
        else:
            start = self.pos
            while self.pos < len(text) and text[self.pos] not in ",]}\n#":
                self.pos += 1
            if self.pos == start:
                self.pos += 1

