"""One embedded program per font in a joined PDF, however many parts used that font.

Every part laid out by WeasyPrint embeds its own subset of each font it uses, so a joined PDF
would carry the same DejaVu fonts once per part (about 180 programs in the demo's dossier).
WeasyPrint's subsets keep the glyph ids of the whole font (its character ids are glyph ids,
``/CIDToGIDMap /Identity``), so the subsets of one font merge glyph by glyph into one program
holding the union of the glyphs the joined PDF uses; every part's font dictionary then points
at that program. The parts' own widths (``/W``) and Unicode maps stay as they are, so what a
page shows and what text extraction reads do not change.

Fonts that are not TrueType outlines, or whose subsets disagree on a glyph (two different
fonts of one name), are left as the parts embedded them.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import struct
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pikepdf

LOGGER = logging.getLogger(__name__)


class _ConflictError(ValueError):
    """Two programs of one font name disagree on a glyph: they are not one font."""


@dataclass
class _Font:
    """The CIDFonts of one font name whose descriptors embed TrueType programs."""

    cid_fonts: list[pikepdf.Dictionary] = field(default_factory=list)
    parents: list[pikepdf.Dictionary] = field(default_factory=list)
    programs: dict[tuple[int, int], bytes] = field(default_factory=dict)


def _base_name(name: str) -> str:
    """A font name without its subset tag ("/ABCDEF+DejaVu-Sans" -> "DejaVu-Sans")."""
    name = name.lstrip("/")
    tag, plus, rest = name.partition("+")
    return rest if plus and len(tag) == 6 and tag.isupper() else name


def _shareable(cid_font: pikepdf.Dictionary) -> bool:
    descriptor = cid_font.get("/FontDescriptor")
    return (cid_font.get("/Subtype") == "/CIDFontType2"
            and cid_font.get("/CIDToGIDMap") == "/Identity"
            and isinstance(descriptor, pikepdf.Dictionary)
            and "/FontFile2" in descriptor and "/CIDSet" not in descriptor)


def _type0_fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" \
                and obj.get("/Subtype") == "/Type0":
            yield obj


def _identity(data: bytes) -> bytes:
    """What tells one font from another of the same name: the revision, units per em and
    creation date of its head table (a subset keeps them)."""
    count = struct.unpack_from(">H", data, 4)[0]
    for index in range(count):
        tag, _, offset, _ = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        if tag == b"head":
            return data[offset + 4:offset + 8] + data[offset + 18:offset + 28]
    raise ValueError("no head table")


def _fonts(pdf: pikepdf.Pdf) -> dict[tuple[str, bytes], _Font]:
    """The shareable CIDFonts by font name and identity (fonts of one name that are not the
    same font are kept apart)."""
    found: dict[tuple[str, bytes], _Font] = defaultdict(_Font)
    for parent in _type0_fonts(pdf):
        descendants = parent.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or len(descendants) != 1:
            continue
        cid_font = descendants[0]
        if not _shareable(cid_font):
            continue
        program = cid_font.FontDescriptor.FontFile2
        data = program.read_bytes()
        try:
            identity = _identity(data)
        except (ValueError, struct.error):
            continue
        name = _base_name(str(cid_font.get("/BaseFont", parent.get("/BaseFont", ""))))
        font = found[(name, identity)]
        font.parents.append(parent)
        font.cid_fonts.append(cid_font)
        font.programs[program.objgen] = data
    return found


_METRIC = np.dtype([("advance", ">u2"), ("lsb", ">i2")])


@dataclass(frozen=True)
class _Program:
    """The tables of a TrueType program that merging reads, unpacked."""

    tables: dict[bytes, bytes]
    loca: np.ndarray  # glyph id -> offset of its outline in glyf (one more than glyphs)
    metrics: np.ndarray  # (advance width, left side bearing) per glyph id

    @classmethod
    def read(cls, data: bytes) -> _Program:
        count = struct.unpack_from(">H", data, 4)[0]
        tables = {}
        for index in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
            tables[tag] = data[offset:offset + length]
        glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        long_loca = struct.unpack_from(">h", tables[b"head"], 50)[0] == 1
        loca = np.frombuffer(tables[b"loca"], ">u4" if long_loca else ">u2",
                             glyphs + 1).astype(np.int64) * (1 if long_loca else 2)
        long_metrics = struct.unpack_from(">H", tables[b"hhea"], 34)[0]
        hmtx = tables[b"hmtx"]
        metrics = np.zeros(glyphs, _METRIC)
        metrics[:long_metrics] = np.frombuffer(hmtx, _METRIC, long_metrics)
        metrics["advance"][long_metrics:] = metrics["advance"][long_metrics - 1]
        metrics["lsb"][long_metrics:] = np.frombuffer(hmtx, ">i2", glyphs - long_metrics,
                                                      4 * long_metrics)
        return cls(tables, loca, metrics)

    @property
    def count(self) -> int:
        return len(self.metrics)

    def drawn(self) -> dict[int, bytes]:
        """The outline of every glyph id the subset kept (others are empty)."""
        glyf, loca = self.tables[b"glyf"], self.loca
        return {int(gid): glyf[loca[gid]:loca[gid + 1]]
                for gid in np.flatnonzero(loca[1:] > loca[:-1])}


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    """A TrueType file of ``tables`` (checksums and head's adjustment computed)."""
    tags = sorted(tables)
    power = 1 << (len(tags).bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, len(tags), 16 * power,
                         power.bit_length() - 1, 16 * len(tags) - 16 * power)
    offset = len(header) + 16 * len(tags)
    directory, body = b"", b""
    for tag in tags:
        data = tables[tag]
        directory += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    head = offset + sum(len(tables[t]) + (-len(tables[t]) % 4) for t in tags[:tags.index(b"head")])
    struct.pack_into(">I", font, head + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def merge_programs(programs: list[bytes]) -> bytes:
    """One TrueType program holding every glyph of ``programs`` (subsets of one font that
    keep its glyph ids), at the same ids, with their advance widths.

    Works on the raw tables (glyf, loca, hmtx and the counts and bounds in head, hhea and
    maxp); every other table is the largest subset's. Raises _ConflictError when two programs
    have different outlines or widths for one glyph id.
    """
    read = [_Program.read(data) for data in programs]
    base = max(read, key=lambda program: program.count)
    glyphs, metrics = base.drawn(), base.metrics.copy()
    for other in read:
        if other is base:
            continue
        for gid, data in other.drawn().items():
            own = glyphs.get(gid)
            if own is None:
                glyphs[gid] = data
                metrics[gid] = other.metrics[gid]
            elif own.rstrip(b"\0") != data.rstrip(b"\0"):
                raise _ConflictError(f"glyph {gid}")
        advances, merged = other.metrics["advance"], metrics["advance"][:other.count]
        for gid in np.flatnonzero((advances != 0) & (advances != merged)):
            if merged[gid]:
                raise _ConflictError(f"width of glyph {gid}")
            metrics[gid] = other.metrics[gid]
    padded = [glyphs.get(gid, b"") for gid in range(base.count)]
    padded = [data + b"\0" * (-len(data) % 4) for data in padded]
    loca = list(itertools.accumulate((len(data) for data in padded), initial=0))
    glyf = b"".join(padded)
    tables = dict(base.tables)
    tables[b"glyf"] = glyf
    tables[b"loca"] = struct.pack(f">{len(loca)}I", *loca)
    tables[b"hmtx"] = metrics.tobytes()
    head = bytearray(base.tables[b"head"])
    boxes = [struct.unpack_from(">4h", p.tables[b"head"], 36) for p in read]
    struct.pack_into(">4h", head, 36, min(b[0] for b in boxes), min(b[1] for b in boxes),
                     max(b[2] for b in boxes), max(b[3] for b in boxes))
    struct.pack_into(">h", head, 50, 1)  # long loca offsets
    tables[b"head"] = bytes(head)
    hhea = bytearray(base.tables[b"hhea"])
    extents = [struct.unpack_from(">Hhhh", p.tables[b"hhea"], 10) for p in read]
    struct.pack_into(">Hhhh", hhea, 10, max(e[0] for e in extents), min(e[1] for e in extents),
                     min(e[2] for e in extents), max(e[3] for e in extents))
    struct.pack_into(">H", hhea, 34, len(metrics))
    tables[b"hhea"] = bytes(hhea)
    maxp = bytearray(base.tables[b"maxp"])
    if len(maxp) >= 32:  # version 1.0: the maxima of the outlines, the largest of any subset
        limits = [struct.unpack_from(">13H", p.tables[b"maxp"], 6) for p in read
                  if len(p.tables[b"maxp"]) >= 32]
        struct.pack_into(">13H", maxp, 6, *(max(column) for column in zip(*limits, strict=True)))
    tables[b"maxp"] = bytes(maxp)
    return _sfnt(tables)


def _tag(data: bytes) -> str:
    """A subset tag (six capital letters) derived from the program, as PDF names subsets."""
    digest = hashlib.sha256(data).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _union_box(descriptors: list[pikepdf.Dictionary]) -> pikepdf.Array:
    boxes = [[float(v) for v in d.FontBBox] for d in descriptors if "/FontBBox" in d]
    return pikepdf.Array([min(b[0] for b in boxes), min(b[1] for b in boxes),
                          max(b[2] for b in boxes), max(b[3] for b in boxes)])


def share_fonts(pdf: pikepdf.Pdf) -> None:
    """Replace the parts' subsets of each font of ``pdf`` by one program (and descriptor)."""
    for (name, _), font in sorted(_fonts(pdf).items()):
        programs = [font.programs[key] for key in sorted(font.programs)]
        if len(programs) < 2 and len(font.cid_fonts) < 2:
            continue
        try:
            data = merge_programs(programs)
        except (_ConflictError, KeyError, IndexError, struct.error) as reason:
            LOGGER.debug("font %s keeps one program per part: %s", name, reason)
            continue
        shared_name = pikepdf.Name(f"/{_tag(data)}+{name}")
        stream = pdf.make_stream(data)
        stream.Length1 = len(data)
        descriptors = [cid_font.FontDescriptor for cid_font in font.cid_fonts]
        descriptor = pikepdf.Dictionary({key: value for key, value in descriptors[0].items()})
        descriptor.FontName = shared_name
        descriptor.FontFile2 = stream
        if "/FontBBox" in descriptor:
            descriptor.FontBBox = _union_box(descriptors)
        descriptor = pdf.make_indirect(descriptor)
        for cid_font, parent in zip(font.cid_fonts, font.parents, strict=True):
            cid_font.FontDescriptor = descriptor
            cid_font.BaseFont = shared_name
            parent.BaseFont = shared_name


def embedded_programs(pdf: pikepdf.Pdf) -> int:
    """How many font programs ``pdf`` embeds (reachable or not)."""
    return sum(1 for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)
               and obj.get("/Type") == "/FontDescriptor"
               and any(key in obj for key in ("/FontFile", "/FontFile2", "/FontFile3")))
