"""Reading an estate file that may be hostile: size, file type, nesting and YAML-alias limits.

Every refusal is one EstateError line, raised before the file can cost much memory or time.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wizard.emulator.estate_fields import EstateError

MAX_ESTATE_BYTES = 4 << 20
"""The largest estate file we read (the built-in ones are under 1 KiB)."""
MAX_NESTING = 32
"""The deepest nesting of lists and mappings an estate may have (the format needs 6)."""
MAX_NODES = 200_000
"""How many values an estate may hold once its YAML aliases are expanded (a billion-laughs file
would otherwise grow without end)."""


def parse_text(text: str, source: str, as_json: bool) -> Any:
    """The estate's data, from JSON or YAML, within MAX_NESTING and MAX_NODES."""
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EstateError(f"estate {source}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        except RecursionError:
            raise EstateError(f"estate {source}: nested more than {MAX_NESTING} levels deep") from None
        _check_json_shape(data, source)
        return data
    import yaml

    try:
        return yaml.load(text, Loader=_bounded_loader(source))  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed"
        raise EstateError(f"estate {source}: not valid YAML ({where}{problem})") from None


def _check_json_shape(data: Any, source: str) -> None:
    """Refuse JSON nested deeper than MAX_NESTING or holding more than MAX_NODES values (iteratively)."""
    pending, count = [(data, 1)], 0
    while pending:
        value, depth = pending.pop()
        count += 1
        if depth > MAX_NESTING:
            raise EstateError(f"estate {source}: nested more than {MAX_NESTING} levels deep")
        if count > MAX_NODES:
            raise EstateError(f"estate {source}: more than {MAX_NODES} values")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((child, depth + 1) for child in children)


def _bounded_loader(source: str) -> Any:
    """A yaml.SafeLoader that counts every value an alias brings in again and the nesting depth as it
    composes, so an alias bomb or a deep file is refused in one line before it costs memory."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.depth, self.nodes = 0, 0
            self.sizes: dict[int, int] = {}

        def next_event(self) -> Any:
            peek: Callable[[], Any] = self.peek_event
            return peek()

        def refuse(self, problem: str) -> EstateError:
            line = self.next_event().start_mark.line + 1
            return EstateError(f"estate {source}: line {line}: {problem}")

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                target = self.anchors.get(self.next_event().anchor)
                if target is not None:
                    size = self.sizes.get(id(target))
                    if size is None:
                        raise self.refuse("an alias refers to a value that contains it")
                    self.count(size)
                return super().compose_node(parent, index)
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.refuse(f"nested more than {MAX_NESTING} levels deep")
            before = self.nodes
            self.count(1)
            node = super().compose_node(parent, index)
            self.depth -= 1
            self.sizes[id(node)] = self.nodes - before
            return node

        def count(self, size: int) -> None:
            self.nodes += size
            if self.nodes > MAX_NODES:
                raise self.refuse(f"more than {MAX_NODES} values once aliases are expanded")

    return BoundedLoader


def read_estate_file(path: Path) -> str:
    """The text of a regular file of at most MAX_ESTATE_BYTES (a FIFO would block, /dev/zero never end)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise EstateError(f"cannot read estate file {path}: not a regular file")
    too_big = EstateError(f"estate file {path} is larger than {MAX_ESTATE_BYTES >> 20} MiB")
    if info.st_size > MAX_ESTATE_BYTES:
        raise too_big
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        data = handle.read(MAX_ESTATE_BYTES + 1)
    if len(data) > MAX_ESTATE_BYTES:
        raise too_big
    return data.decode("utf-8")
