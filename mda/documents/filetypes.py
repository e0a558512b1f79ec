"""Recognise an upload's type from its content, never from its name or the browser's claim.

Images and PDF by their signature; the zip-based office formats by their inner structure
(the parts a Word, Excel or OpenDocument text file must have), refusing macro-carrying ones;
the old Word format through its OLE compound file, which must hold a ``WordDocument`` stream
and no macros. Only the zip's directory and the tiny ``mimetype`` entry are read: nothing is
unpacked, so a zip bomb costs nothing.
"""
from __future__ import annotations

import zipfile
from typing import BinaryIO

import olefile

from .models import FileType

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def detect(source: BinaryIO) -> FileType | None:
    """The type of the content, or None when it is not one of the allowed types. Leaves the
    stream at its start."""
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return FileType.PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return FileType.PNG
        if head.startswith(b"\xff\xd8\xff"):
            return FileType.JPEG
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return FileType.GIF
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return FileType.WEBP
        if head.startswith(b"PK\x03\x04"):
            return _zip_type(source)
        if head.startswith(OLE_SIGNATURE):
            return _ole_type(source)
        return None
    finally:
        source.seek(0)


def _zip_type(source: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    return None  # macro-enabled (docm, xlsm) or macros smuggled into a docx
                if "word/document.xml" in names:
                    return FileType.DOCX
                if "xl/workbook.xml" in names:
                    return FileType.XLSX
                return None
            first = infos[0] if infos else None
            if (first is not None and first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
                    and first.file_size == len(ODT_MIMETYPE) and "content.xml" in names
                    and not any(name.lower().startswith("basic/") for name in names)):
                if archive.read(first) == ODT_MIMETYPE:
                    return FileType.ODT
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def _ole_type(source: BinaryIO) -> FileType | None:
    try:
        ole = olefile.OleFileIO(source)
    except (OSError, ValueError, EOFError, IndexError, TypeError):
        return None
    try:
        streams = {"/".join(path) for path in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, EOFError, IndexError, TypeError):
        return None
    finally:
        ole.close()
    if "WordDocument" in streams and not any(name.startswith("Macros") for name in streams):
        return FileType.DOC
    return None
