"""``xxgk discover``: print what listing pages offer and what is new; with --write, save the registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("discover", help="find report links on agencies' listing pages",
                       description="Fetch the listing pages of a listings CSV (agency,listing_url,...), follow "
                                   "their pagination, and print the reports found and which are new to the "
                                   "registry; --write merges them into it.")
    p.add_argument("--listings", help="listings CSV (agency,listing_url,…); default $XXGK_HOME/listings.csv")
    p.add_argument("--year", type=int, action="append", dest="years", metavar="YYYY",
                   help="only reports of this year (repeatable; default: every year)")
    p.add_argument("--registry", help="source registry to merge into; default $XXGK_HOME/registry.csv")
    p.add_argument("--write", action="store_true", help="write the merged registry (otherwise only print)")
    p.add_argument("--max-pages", type=int, default=None, help="pages per listing (default 20)")
    p.add_argument("--min-delay", type=float, default=None,
                   help="seconds between two requests to one host (default: the min_delay setting, 1.0)")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args: argparse.Namespace, *, fetcher=None, out=None) -> int:
    """The settings' listings and registry stand in for the options not given."""
    from flows.settings import load_settings
    from flows.steps.fetching import make_fetcher

    settings = load_settings()
    if args.listings is None and settings.listings:
        args.listings = settings.listings
    if args.registry is None and settings.sources:
        args.registry = settings.sources
    if fetcher is not None:
        return run_discover(args, settings, fetcher, out or sys.stdout)
    with make_fetcher(settings) as own:
        return run_discover(args, settings, own, out or sys.stdout)


def cli_main(argv: list[str] | None = None, *, fetcher=None, out=None) -> int:
    """``xxgk discover ARGV``, with a fetcher of the caller's (tests)."""
    from flows.cli import build_parser

    args = build_parser().parse_args(["discover", *(argv or [])])
    return cmd_discover(args, fetcher=fetcher, out=out)


def run_discover(args: argparse.Namespace, settings, fetcher, out) -> int:
    from sources.discover import DEFAULT_MAX_PAGES, discover, load_listings, merge_registry, write_registry
    from sources.registry import RegistryError, load_registry

    if args.max_pages is None:
        args.max_pages = DEFAULT_MAX_PAGES
    layout = settings.layout
    listings_path = Path(args.listings) if args.listings else layout.listings
    registry_path = Path(args.registry) if args.registry else layout.registry
    if args.max_pages < 1:
        print("error: --max-pages must be at least 1", file=sys.stderr)
        return 2
    try:
        listings = load_listings(listings_path)
        existing = load_registry(registry_path) if registry_path.exists() else []
    except RegistryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.min_delay is not None and args.min_delay < 0:
        print("error: --min-delay must be >= 0", file=sys.stderr)
        return 2
    if args.min_delay is not None:
        fetcher.min_delay_s = args.min_delay  # the command line wins over the settings it was made from
    result = discover(listings, fetcher, years=args.years, max_pages=args.max_pages)
    merged, added, moved = merge_registry(existing, result)
    added_urls = {s.url for s in added} | {m.new.url for m in moved}
    print(f"{len(result.pages)} listing page(s) read from {len(listings)} listing(s); "
          f"{len(result.found)} report(s) found", file=out)
    for f in result.found:
        s = f.source
        tag = "new  " if s.url in added_urls else "known"
        print(f"  {tag} {s.year} {s.agency}  {s.url}", file=out)
    for m in moved:
        print(f"  moved {m.old.year} {m.old.agency}: {m.old.url} -> {m.new.url}", file=out)
    for v in result.failed_pages:
        print(f"  page failed ({v.error}): {v.url}  [{v.listing.agency}]", file=out)
    for li in result.truncated:
        print(f"  more than {args.max_pages} pages, the rest not read: {li.listing_url}  [{li.agency}]", file=out)
    for li, link in result.undated:
        print(f"  no year, skipped: {link.title}  {link.url}  [{li.agency}]", file=out)
    print(f"new: {len(added)}, moved: {len(moved)}, registry: {len(merged)} row(s)", file=out)
    if args.write and (added or moved or not registry_path.exists()):
        write_registry(registry_path, merged)
        print(f"wrote {registry_path}", file=out)
    elif added or moved:
        print(f"(not written; pass --write to update {registry_path})", file=out)
    return 0
