"""The PDF parts of the last build, kept so that a rebuild lays out only what changed.

Every laid-out part, page-number stamp, running footer and joined PDF is stored under a key
that hashes everything that can change its bytes: the HTML and the stylesheet it was laid out
from (which carry the data, the parameters, the verdicts, the words of the templates), the
kind of job and its options, and :func:`environment_key` (dossier's version and the hash of
its own source code, the versions of WeasyPrint and the PDF libraries, the build time that
dates the embedded fonts). An entry is used only when its key is equal and its bytes hash to
the SHA-256 recorded with it; anything else is laid out again. The result is the same file as
a clean build's, byte for byte (tested).

The store is one uncompressed ZIP file (``.dossier-cache.zip``, see
:mod:`dossier.build_cache`): the entries of the latest build only, so it never grows beyond
one build's parts. It also keeps the render context's figures and tables of each cohort
(:mod:`dossier.render.memo`), under ``memo/``, checked the same way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from dossier.render.memo import Memo, package_version
from dossier.render.pdf_layout import Anchor, Bookmark, LaidOut, Link

FORMAT = 1
"""Version of the store's layout; a store of another version is not read."""
INDEX = "index.json"
MEMO_FOLDER = "memo"
"""Where the render context's kept figures and tables are in the store (see :mod:`memo`)."""
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Every entry's date in the ZIP (its earliest): the file does not depend on when it was made."""
LIBRARIES = ("weasyprint", "pypdf", "pikepdf", "pydyf", "fonttools", "tinycss2", "cssselect2")


def source_hash() -> str:
    """SHA-256 of dossier's own Python source: a changed line of code is a changed key."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def environment_key(epoch: str | None, options: Mapping[str, object] | None = None) -> str:
    """What every entry's key shares: software, code, build time and PDF options."""
    from dossier import __version__

    record = {"dossier": __version__, "source": source_hash(), "epoch": epoch,
              "libraries": {name: package_version(name) for name in LIBRARIES},
              "options": dict(options or {})}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def entry_key(environment: str, kind: str, *texts: object) -> str:
    """The key of one job: its kind and every text it is made from."""
    digest = hashlib.sha256(f"{FORMAT}\0{environment}\0{kind}\0".encode())
    for text in texts:
        digest.update(str(text).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _described(laid_out: LaidOut) -> dict[str, object]:
    return {"pages": laid_out.pages, "bookmarks": [asdict(b) for b in laid_out.bookmarks],
            "links": [asdict(link) for link in laid_out.links],
            "anchors": [asdict(a) for a in laid_out.anchors],
            "refused": list(laid_out.refused)}


def _laid_out(path: Path, record: Mapping[str, object]) -> LaidOut:
    links = [Link(int(r["page"]), str(r["target"]), tuple(r["rect"]))  # type: ignore[arg-type]
             for r in record["links"]]  # type: ignore[attr-defined]
    return LaidOut(path, int(record["pages"]),  # type: ignore[arg-type]
                   tuple(Bookmark(**r) for r in record["bookmarks"]),  # type: ignore[attr-defined]
                   tuple(links),
                   tuple(Anchor(**r) for r in record["anchors"]),  # type: ignore[attr-defined]
                   tuple(record["refused"]))  # type: ignore[arg-type]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PartCache:
    """The entries of an earlier store to take from, and those of this build to keep.

    ``get`` hands out an earlier entry (its PDF extracted into the scratch folder) when its
    key and bytes check out; ``put`` records an entry laid out now; ``write`` stores every
    entry this build used, and nothing else, into ``target``. ``earlier`` None (or a file
    that is not a readable store) makes every entry a miss: a clean build.
    """

    def __init__(self, earlier: Path | None, target: Path, build: Mapping[str, object]
                 ) -> None:
        self.target = Path(target)
        self.build = dict(build)
        """What the build records about itself (its build key): stored in the index."""
        self.scratch: Path | None = None
        self.environment = ""
        """:func:`environment_key` of the PDFs' layout (set by the PDF writer)."""
        self._earlier: dict[str, dict[str, object]] = {}
        self._zip: zipfile.ZipFile | None = None
        self.kept: dict[str, tuple[Path, dict[str, object]]] = {}
        self.reused: list[str] = []
        """What was taken from the earlier store (each job's label, in order)."""
        self.made: list[str] = []
        """What was not (laid out or joined again)."""
        self._earlier_memo: dict[str, str] = {}
        if earlier is not None and Path(earlier).is_file():
            self._open(Path(earlier))
        self.memo = Memo(self._memo_lookup)
        """The render context's figures and tables of the last build (see :mod:`memo`)."""

    def _open(self, path: Path) -> None:
        try:
            archive = zipfile.ZipFile(path)
            index = json.loads(archive.read(INDEX))
        except (OSError, zipfile.BadZipFile, KeyError, ValueError):
            return  # unreadable: laid out again, and replaced by this build's store
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            archive.close()
            return
        entries = index.get("entries")
        self._earlier = entries if isinstance(entries, dict) else {}
        memo = index.get("memo")
        self._earlier_memo = memo if isinstance(memo, dict) else {}
        self._zip = archive

    def _memo_lookup(self, key: str) -> bytes | None:
        """The stored result of a memo key, when its bytes hash to what the index recorded."""
        if self._zip is None or key not in self._earlier_memo:
            return None
        try:
            data = self._zip.read(f"{MEMO_FOLDER}/{key}.json")
        except (OSError, KeyError, zipfile.BadZipFile):
            return None
        return data if _sha256(data) == self._earlier_memo[key] else None

    def key(self, kind: str, *texts: object) -> str:
        return entry_key(self.environment, kind, *texts)

    def get(self, key: str, label: str = "") -> LaidOut | None:
        """The earlier entry of ``key`` (its PDF in the scratch folder), or None; ``label``
        names the job in :attr:`reused` / :attr:`made`."""
        record = self._earlier.get(key)
        if record is None or self._zip is None:
            self.made.append(label)
            return None
        try:
            data = self._zip.read(f"{key}.pdf")
        except (OSError, KeyError, zipfile.BadZipFile):
            data = b""
        if _sha256(data) != record.get("sha256"):
            self.made.append(label)
            return None
        if self.scratch is None:
            raise RuntimeError("PartCache.get before a scratch folder was attached")
        path = self.scratch / f"cached-{key[:24]}.pdf"
        path.write_bytes(data)
        laid_out = _laid_out(path, record)  # type: ignore[arg-type]
        self.kept[key] = (path, record)
        self.reused.append(label)
        return laid_out

    def put(self, key: str, laid_out: LaidOut) -> None:
        """Keep ``laid_out`` (its PDF and where its bookmarks, anchors and links are)."""
        data = Path(laid_out.path).read_bytes()
        self.kept[key] = (Path(laid_out.path), {**_described(laid_out),
                                                "sha256": _sha256(data)})

    def write(self) -> Path:
        """Store the entries this build used into ``target`` (a new file), sorted by key."""
        target = self.target
        target.parent.mkdir(parents=True, exist_ok=True)
        entries = {key: record for key, (_, record) in sorted(self.kept.items())}
        memo = dict(sorted(self.memo.kept.items()))
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
            _add(archive, INDEX, json.dumps({"format": FORMAT, "build": self.build,
                                             "entries": entries,
                                             "memo": {k: _sha256(v) for k, v in memo.items()}},
                                            sort_keys=True, indent=1).encode("utf-8"))
            for key in entries:
                _add_file(archive, f"{key}.pdf", self.kept[key][0])
            for key, data in memo.items():
                _add(archive, f"{MEMO_FOLDER}/{key}.json", data)
        return target

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # the same on every platform
    return info


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    archive.writestr(_info(name), data)


def _add_file(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    with open(path, "rb") as source, archive.open(_info(name), "w") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)


def copy_entry(laid_out: LaidOut, target: Path) -> LaidOut:
    """A cached joined PDF put where the build writes it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(laid_out.path, target)
    return LaidOut(target, laid_out.pages, laid_out.bookmarks, laid_out.links,
                   laid_out.anchors, laid_out.refused)

