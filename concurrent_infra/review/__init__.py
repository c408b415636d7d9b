"""Review a ``pulumi preview``: who gains or loses which access where, and what needs attention.

``python -m concurrent_infra.review preview.json`` prints the Markdown the preview workflow posts on
a pull request (docs/ci-cd.md, "Reviewing changes"). :func:`review_text` is the whole pipeline.
"""

from .markdown import render
from .preview import Preview, PreviewError, parse_preview
from .summary import Review, review


def review_text(text: str, project: str | None = None, drift: bool = False) -> str:
    """The Markdown review of the preview JSON ``text``; raises PreviewError for bad input."""
    return render(review(parse_preview(text), project), drift=drift)


__all__ = ["Preview", "PreviewError", "Review", "parse_preview", "render", "review", "review_text"]
