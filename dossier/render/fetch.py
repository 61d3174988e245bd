"""A URL fetcher for WeasyPrint that never touches the network (data: URLs and template files)."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

LOGGER = logging.getLogger(__name__)


class LocalOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that never touches the network.

    ``data:`` URLs are decoded and ``file:`` URLs are served when the file lies inside one of
    ``allowed_dirs`` (the template folders); every other URL is refused, logged and appended
    to :attr:`refused`, so a caller (or a test) can tell that something tried.
    """

    def __init__(self, allowed_dirs: Sequence[Path]) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"))
        self.allowed_dirs = tuple(Path(d).resolve() for d in allowed_dirs)
        self.refused: list[str] = []

    def _refuse(self, url: str, why: str) -> ValueError:
        self.refused.append(url)
        LOGGER.warning("refused to fetch %s: %s", url, why)
        return ValueError(f"dossier fetches no external resources: {url} ({why})")

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise self._refuse(url, "only data: URLs and files in the templates folder")
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        if not any(path.is_relative_to(d) for d in self.allowed_dirs):
            raise self._refuse(url, "file outside the templates folder")
        if not path.is_file():
            raise self._refuse(url, "no such file")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})
