"""`python -m bench` runs every suite; `python -m bench parse --quick` runs one, briefly."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench import bulletin, chase, delivery, hostile, observe, parse, progress, registry

SUITES: dict[str, Callable[[bool], None]] = {
    "parse": parse.main,
    "registry": registry.main,
    "progress": progress.main,
    "hostile": hostile.main,
    "observe": observe.main,
    "chase": chase.main,
    "bulletin": bulletin.main,
    "delivery": delivery.main,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Luoshi benchmarks")
    parser.add_argument("suites", nargs="*", help=f"suites to run, of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}; known: {', '.join(SUITES)}")
    for name in args.suites or list(SUITES):
        SUITES[name](args.quick)


if __name__ == "__main__":
    main()
