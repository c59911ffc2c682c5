"""The ``xxgk`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse one report file and print the contract JSON")
    p.add_argument("file")
    args = parser.parse_args(argv)
    print(args, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
