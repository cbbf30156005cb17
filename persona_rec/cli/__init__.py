"""Command-line entry point: ``persona-rec`` (also ``python -m persona_rec``).

Subcommands read events (and optional user/item attribute files) as CSV or
Parquet and write CSV or Parquet; see ``docs/cli.md``. Exit status: 0 on
success, 2 for bad input or arguments (one line on stderr, naming the
problem; ``--debug`` shows the traceback), 1 for an unexpected failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence

from ..exceptions import PersonaRecError
from .commands import COMMANDS, Command, add_data_arguments

__all__ = ["main", "build_parser"]

#: Exit status for bad input or arguments (also what argparse uses).
EXIT_USAGE = 2
#: Exit status for an unexpected error.
EXIT_FAILURE = 1


def _version() -> str:
    from .. import __version__

    return __version__


def _add_common(parser: argparse.ArgumentParser, top: bool) -> None:
    default = False if top else argparse.SUPPRESS  # a sub-command must not reset the top value
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the full traceback on errors")
    parser.add_argument("--quiet", "-q", action="store_true", default=default,
                        help="no progress messages or bars on stderr")


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The ``persona-rec`` argument parser (one sub-parser per :class:`Command`).

    Parameters
    ----------
    commands : sequence of Command
        Subcommands to offer (default: all).

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="persona-rec",
        description="User profiles, tags, segments, recommendations and audiences for "
                    "e-commerce data, from CSV or Parquet files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in commands:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if cmd.reads_events:
            add_data_arguments(p)
        cmd.add_arguments(p)
        _add_common(p, top=False)
        p.set_defaults(_run=cmd.run)
    return parser


class _TqdmHandler(logging.Handler):
    """Write log lines to stderr above any open tqdm bar (not through it)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


class _Progress:
    """Log INFO messages of the ``persona_rec`` logger to stderr; progress bars on a terminal."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.handler: logging.Handler | None = None

    def __enter__(self) -> _Progress:
        if self.on:
            from .._progress import logger, set_verbose

            self.handler = _TqdmHandler()
            self.handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
            logger.addHandler(self.handler)
            self.level = logger.level
            logger.setLevel(logging.INFO)
            set_verbose(sys.stderr.isatty())  # bars on a terminal; plain lines in a log file
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handler is not None:
            from .._progress import logger, set_verbose

            logger.removeHandler(self.handler)
            logger.setLevel(self.level)
            set_verbose(False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``persona-rec`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 2 bad input or arguments, 1 unexpected error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with _Progress(not args.quiet and args.command != "demo"), warnings.catch_warnings():
        warnings.showwarning = _show_warning(args.command)
        previous_sep = None
        try:
            _check_paths(args)  # fail before any work
            if getattr(args, "flat_categories", False) or getattr(args, "category_sep", None):
                from ..categories import set_category_sep

                previous_sep = set_category_sep(() if args.flat_categories
                                                else tuple(args.category_sep))
            return int(args._run(args))
        except (PersonaRecError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
            if args.debug:
                raise
            print(f"persona-rec {args.command}: error: {_one_line(err)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:  # pragma: no cover - interactive
            print("persona-rec: interrupted", file=sys.stderr)
            return 130
        except Exception as err:  # noqa: BLE001 - the CLI's last resort
            if args.debug:
                raise
            print(f"persona-rec {args.command}: unexpected {type(err).__name__}: "
                  f"{_one_line(err)} (rerun with --debug for the traceback)", file=sys.stderr)
            return EXIT_FAILURE
        finally:
            if previous_sep is not None:
                from ..categories import set_category_sep

                set_category_sep(previous_sep)


def _show_warning(command: str) -> Callable[..., None]:
    """Library warnings as one ``persona-rec CMD: warning: ...`` line naming CLI options."""

    def show(message: Warning | str, category: type[Warning], *args: object,
             **kwargs: object) -> None:
        print(f"persona-rec {command}: warning: {_one_line(Exception(str(message)))}",
              file=sys.stderr)

    return show


def _check_paths(args: argparse.Namespace) -> None:
    """File names, input files and the ``--out`` folder, checked before any work."""
    from ._io import check_output_path, file_format

    if getattr(args, "out", None) and args.command != "report":  # report: HTML
        check_output_path(args.out, "--out")
    for attr, what in (("events", "EVENTS"), ("users", "--users"), ("items", "--items"),
                       ("users_file", "--users-file")):
        path = getattr(args, attr, None)
        if not isinstance(path, str):
            continue
        if attr != "users_file" or not path.lower().endswith(".txt"):
            file_format(path, what)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{what}: no such file: {path!r}")


#: Library wording of a remedy -> the command-line option that applies it.
_CLI_REMEDIES = (
    ("as_of holds", "--as-of holds"),
    ("pass clean=True", "pass --clean"),
    ("Pass clean=True", "Pass --clean"),
    ("dayfirst=True", "--dayfirst"),
    ("dayfirst=False", "--monthfirst"),
    ("time_format=", "--time-format"),
    ("pass epoch_unit='s', 'ms', 'us' or 'ns'", "pass --epoch-unit s, ms, us or ns"),
    ("category_sep=()", "--flat-categories"),
)

_CLI_REMEDY_PATTERNS = (
    (r"Convert one side, e\.g\. \w+\['\w+'\]\.astype\([^)]*\)\.",
     ("The command line reads CSV ids as text and keeps Parquet's column types: give both "
      "files in the same format, or write the Parquet ids as text.")),
    (r"convert it, e\.g\. with \.astype\('int64'\) or \.astype\(str\)\.",
     ("write the ids as integers or text in the file (for CSV ids written as floats: "
      "--float-ids).")),
    (r"Use features='all' or a list of profile columns\.",
     "Pass --items with a 'category' column, or use --method rfm."),
    (r"--time-format'([^']*)'", r"--time-format '\1'"),
    (r"epoch_unit='(s|ms|us|ns)'", r"--epoch-unit \1"),
    ((r"(^--as-of holds .*?--dayfirst \(day/month/year\)), (--monthfirst \(month/day/year\)) "
      r"or --time-format \(e\.g\. [^)]*\)"), r"\1 or \2"),
)


def _one_line(err: BaseException) -> str:
    text = str(err) if not isinstance(err, OSError) or not err.strerror else (
        f"{err.strerror}: {err.filename!r}" if err.filename else str(err))
    # library messages name Python arguments; point at the command-line option instead
    for python, cli in _CLI_REMEDIES:
        text = text.replace(python, cli)
    for pattern, cli in _CLI_REMEDY_PATTERNS:
        text = re.sub(pattern, cli, text)
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
