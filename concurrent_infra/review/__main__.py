"""``python -m concurrent_infra.review [FILE]``: the Markdown access review of a ``pulumi preview --json``.

Exit 0 with the review on stdout; 2 with a message on stderr for bad input (not JSON, not a
preview, an empty preview, another project's preview) or an unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import PreviewError, review_text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m concurrent_infra.review",
        description="Summarize a `pulumi preview --json` (a document, or streamed events with "
        "PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true) as Markdown: "
        "what needs attention, then who gains or loses which access where.",
    )
    parser.add_argument("file", nargs="?", default="-", help="the preview JSON (default: stdin)")
    parser.add_argument("--project", help="refuse a preview whose URNs name another Pulumi project")
    parser.add_argument(
        "--drift", action="store_true", help="the preview is a `pulumi preview --refresh`: title it as drift"
    )
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        print(f"review: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(review_text(text, args.project, args.drift))
    except PreviewError as error:
        source = "stdin" if args.file == "-" else args.file
        print(f"review: {source}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
