"""The office's working-day override file: `holidays: [..]` and `workdays: [..]` in YAML or JSON.

Read once at a service's start; any fault stops the start with the file, line and field named,
since a silently ignored 调休 would shift every deadline counted in working days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from services.common.workdays import WorkCalendar

FIELDS = ("holidays", "workdays")


class WorkdaysFileError(ValueError):
    pass


def _fail(path: Path, node: yaml.Node | None, message: str) -> WorkdaysFileError:
    where = f"{path}, line {node.start_mark.line + 1}" if node is not None else str(path)
    return WorkdaysFileError(f"working-day file {where}: {message}")


def _dates(path: Path, field: str, node: yaml.Node) -> list[date]:
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(path, node, f"{field!r} must be a list of dates (YYYY-MM-DD)")
    days = []
    for i, item in enumerate(node.value):
        text = item.value if isinstance(item, yaml.ScalarNode) else None
        try:
            days.append(date.fromisoformat(str(text).strip()))
        except ValueError:
            raise _fail(path, item, f"{field}[{i}] is not a date (YYYY-MM-DD): {text!r}") from None
    return days


def read_overrides(path: Path) -> dict[str, list[date]]:
    """The file's dates by field; raises `WorkdaysFileError` naming the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, None, f"cannot be read ({exc})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise WorkdaysFileError(f"working-day file {path}{line}: not YAML or JSON ({exc})") from None
    found: dict[str, list[date]] = {f: [] for f in FIELDS}
    if root is None:
        return found
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "expected a mapping with 'holidays' and 'workdays' lists")
    for key, value in root.value:
        if key.value not in FIELDS:
            raise _fail(path, key, f"unknown field {key.value!r}; only 'holidays' and 'workdays'")
        found[key.value] = _dates(path, key.value, value)
    return found


def load_calendar(path: Path | None) -> WorkCalendar:
    """The calendar with the office's overrides from `path` (none: the package's arrangement alone)."""
    if path is None:
        return WorkCalendar()
    found = read_overrides(path)
    try:
        return WorkCalendar(found["holidays"], found["workdays"], source=str(path))
    except ValueError as exc:
        raise _fail(path, None, str(exc)) from None
