"""Evidence attached to measures: photos (JPEG, PNG) and PDF files, checked by content, stored by hash.

A file is accepted when its first bytes say it is a JPEG, PNG or PDF, its
extension agrees with that content (a PDF called ``photo.jpg`` is refused as
misleading) and it is at most :data:`geo.settings.attachment_max_bytes`.
Accepted files are written atomically to ``attachments/`` in the data folder
under the first 16 hex digits of their SHA-256, so the same file attached twice
is stored once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from geo import settings
from geo._atomic import atomic_write
from geo.errors import SchemaError

__all__ = ["ATTACHMENT_TYPES", "attachment_path", "check_attachment", "save_attachment"]

#: Accepted types: name -> (leading bytes, extensions).
ATTACHMENT_TYPES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "pdf": (b"%PDF-", (".pdf",)),
}


def check_attachment(name: str, data: bytes) -> str:
    """The type of an evidence file (``jpeg``, ``png`` or ``pdf``).

    Raises
    ------
    SchemaError
        When it is empty, too large, of another type, or its extension does not match its content.
    """
    suffix = Path(name).suffix.lower()
    if not data:
        raise SchemaError(f"{name}: the file is empty; attach the photo or PDF itself")
    if len(data) > settings.attachment_max_bytes:
        msg = f"{name}: {len(data) / 1e6:.1f} MB is larger than {settings.attachment_max_bytes / 1e6:.0f} MB; shrink the photo or split the PDF"
        raise SchemaError(msg)
    found = next((kind for kind, (magic, _ext) in ATTACHMENT_TYPES.items() if data.startswith(magic)), None)
    if found is None:
        msg = f"{name}: not a photo (JPEG, PNG) or PDF by its content; attach one of those"
        raise SchemaError(msg)
    if suffix not in ATTACHMENT_TYPES[found][1]:
        msg = f"{name}: the content is {found.upper()} but the name ends in {suffix or 'nothing'}; rename it to {ATTACHMENT_TYPES[found][1][0]}"
        raise SchemaError(msg)
    return found


def attachment_path(attachment_id: str, *, data_dir: Path | None = None) -> Path | None:
    """The stored file of an attachment id, or None when there is none."""
    folder = Path(data_dir or settings.data_dir) / "attachments"
    hits = sorted(folder.glob(f"{attachment_id}.*")) if folder.exists() else []
    return hits[0] if hits else None


def save_attachment(name: str, data: bytes, *, data_dir: Path | None = None) -> str:
    """Check and store an evidence file; return its id (16 hex digits of its SHA-256)."""
    kind = check_attachment(name, data)
    attachment_id = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(data_dir or settings.data_dir) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{attachment_id}{ATTACHMENT_TYPES[kind][1][0]}"
    if not target.exists():
        atomic_write(target, data)
    return attachment_id
