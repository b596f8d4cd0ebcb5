"""Page bytes to text, and the check that the text is text at all."""

from __future__ import annotations

import re

from w3lib.encoding import html_to_unicode

# Formats that are never a page, recognised by their first bytes.
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"PK\x03\x04", b"\xff\xd8\xff")


def _detect(data: bytes) -> str | None:
    """No declared charset: strict UTF-8, then charset detection (w3lib falls back to
    cp1252, what browsers do)."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            return best.encoding
    except Exception:  # detection is a nicety, never a failure
        pass
    return None


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Bytes to text as browsers do: BOM, then the charset of the HTTP Content-Type header
    (`declared`), then the one the page declares (meta tag or XML prolog), then strict
    UTF-8, then charset detection, then cp1252."""
    header = f"text/html; charset={declared}" if declared else None
    _, text = html_to_unicode(header, data, default_encoding="cp1252", auto_detect_fun=_detect)
    return text.lstrip("\ufeff")


def is_binary(data: bytes) -> bool:
    return data.startswith(_BINARY_MAGIC)


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def not_text_reason(text: str) -> str:
    """A reason if `text` is not text (binary, mojibake), else ''."""
    sample = text[:65536]
    if not sample.strip():
        return "empty document"
    bad = len(_BAD_CHARS.findall(sample))
    if bad > max(8, len(sample) * 0.02):
        return "not text (binary or undecodable content)"
    return ""
