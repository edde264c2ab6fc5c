"""The real notices beside the repository (`../shared`, or `LUOSHI_SHARED`).

A fresh clone has no shared folder: every test that needs it skips through `shared_root()`, from
one line of this module, so the summary names the reason once. Under `CI=true` it must be there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUOSHI_SHARED", REPO.parent / "shared"))
NOTICE_NAMES = (
    "yanzhou-2025-work-report-tasks",
    "yanzhou-2023-green-transition-tasks",
    "yanzhou-2026-work-report-tasks",
    "yanzhou-2020-work-report-tasks",
    "jining-2023-work-report-division",
)
MISSING = f"the shared notices are not at {SHARED} (put them in ../shared or set LUOSHI_SHARED)"


def shared_root() -> Path:
    """The shared folder; skips the calling test (or module, at import) without it, fails under CI."""
    if (SHARED / "notices").is_dir():
        return SHARED
    if os.environ.get("CI") == "true":
        pytest.fail(f"{MISSING}: required under CI=true", pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)


def shared_notice(name: str, ext: str = "txt") -> Path:
    return shared_root() / "notices" / f"{name}.{ext}"


# Where skips for want of the folder are reported (see tests/conftest.py): where pytest reports
# the skip of a module that needs the folder at import, the line that raises it.
_SKIP_LINE = 1 + Path(__file__).read_text(encoding="utf-8").splitlines().index(
    "    pytest.skip(MISSING, allow_module_level=True)"
)
shared_location = (__file__, _SKIP_LINE)
