"""The Azure CLI's output habits: `--output json|table|tsv|yaml` (`--format` kept as an alias) and
`--query` (JMESPath, the library the Azure CLI itself uses), applied to a command's JSON object."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from wizard.domain.errors import BadInput
from wizard.domain.ids import quoted

QUERY_HELP = (
    "JMESPath query applied to the JSON before it is printed, as in the Azure CLI "
    '(e.g. "findings[].code"); prints JSON unless --output says otherwise'
)


def jmespath_query(text: str) -> Any:
    """An argparse type: a compiled JMESPath expression (a syntax error is one usage line, exit 2)."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(text)
    except JMESPathError as exc:
        first = " ".join(str(exc).split())[:120]
        raise argparse.ArgumentTypeError(f"not a JMESPath query: {quoted(text)} ({first})") from None


def add_output_flags(parser: argparse.ArgumentParser, choices: Sequence[str], default: str) -> None:
    """`--output/-o` with `--format` as an alias of the same setting, and `--query`."""
    parser.add_argument(
        "--output",
        "-o",
        "--format",
        dest="output",
        choices=tuple(choices),
        default=default,
        metavar="FORMAT",
        help=f"output format: {'|'.join(choices)} (default {default}; --format is an alias)",
    )
    parser.add_argument("--query", type=jmespath_query, metavar="JMESPATH", help=QUERY_HELP)


def query(value: Any, expression: Any) -> Any:
    """The JMESPath result of `expression` over `value` (None when no query was given: all of it)."""
    if expression is None:
        return value
    from jmespath.exceptions import JMESPathError

    try:
        return expression.search(value)
    except JMESPathError as exc:  # a type error found only against the data (e.g. sort_by on strings)
        raise BadInput(f"--query: {' '.join(str(exc).split())[:160]}") from None


def render(value: Any, output: str) -> str:
    """`value` (plain JSON data) as json, yaml, tsv or table, without a trailing newline."""
    if output == "yaml":
        import yaml

        dumped = str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=1000))
        return dumped.removesuffix("\n").removesuffix("\n...")  # a lone scalar ends with `...`
    if output == "tsv":
        return "\n".join("\t".join(_scalar(cell) for cell in row) for row in _rows(value))
    if output == "table":
        return table(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return " ".join(str(value).split())


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rows(value: Any) -> list[list[Any]]:
    """One row per list item (a whole value is one row); a dict's row is its scalar values, in
    order (nested objects and lists are left out, as the Azure CLI's tsv does)."""
    rows: list[list[Any]] = []
    for item in _items(value):
        if isinstance(item, dict):
            rows.append([v for v in item.values() if not isinstance(v, dict | list)])
        elif isinstance(item, list):
            rows.append([v for v in item if not isinstance(v, dict | list)])
        else:
            rows.append([item])
    return rows


def table(value: Any) -> str:
    """Columns from the scalar fields of the rows (first seen first), headed and ruled like the
    Azure CLI's table; a list of plain values is one `Result` column."""
    items = _items(value)
    if not items or value is None:
        return ""
    columns: list[str] = []
    for item in items:
        if isinstance(item, dict):
            columns += [k for k, v in item.items() if not isinstance(v, dict | list) and k not in columns]
    if not columns:
        return "\n".join(["Result", "-" * 6, *(_scalar(item) for item in items)])
    grid = [[_scalar(item.get(c)) if isinstance(item, dict) else "" for c in columns] for item in items]
    headers = [c[:1].upper() + c[1:] for c in columns]
    widths = [max(len(h), *(len(row[i]) for row in grid)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in grid)])
