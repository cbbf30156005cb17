"""Command-line entry point: ``persona-rec``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``persona-rec`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="persona-rec",
        description="User profiles, tags, segments and recommendations for e-commerce data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the end-to-end demo on the bundled sample data")
    demo.add_argument(
        "--online-retail",
        metavar="CSV",
        help="run on the full UCI Online Retail CSV (.csv or .csv.gz) instead of the sample",
    )
    demo.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    report = sub.add_parser("report", help="write a self-contained HTML report (needs the plot extra)")
    from .report._cli import build_parser as _report_options

    _report_options(report)
    args = parser.parse_args(argv)

    if args.command == "report":
        from .report._cli import main_cli as _report_main

        return _report_main(args=args)

    if args.command == "demo":
        from .demo import run_demo

        dataset = None
        source = ""
        if args.online_retail:
            from .datasets import load_online_retail

            dataset = load_online_retail(args.online_retail)
            source = f"UCI Online Retail ({args.online_retail})"
        run_demo(dataset, source=source, random_state=args.random_state)
        return 0
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
