"""Kubernetes quantities and Spark memory strings as numbers: CPU in millicores, memory in bytes."""

from __future__ import annotations

import re

_K8S_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
               "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_SPARK_SUFFIX = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
MI = 2**20


def _split(text: str) -> tuple[float, str]:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", str(text).strip())
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    return float(match.group(1)), match.group(2)


def millicores(text: str | int | float) -> int:
    """A CPU quantity ("250m", "1", "0.5") in millicores."""
    number, suffix = _split(str(text))
    if suffix == "m":
        return round(number)
    return round(number * _K8S_SUFFIX[suffix] * 1000)


def memory_bytes(text: str | int | float) -> int:
    """A memory quantity ("512Mi", "4Gi", "1G", "1024") in bytes."""
    number, suffix = _split(str(text))
    return round(number * _K8S_SUFFIX[suffix])


def spark_bytes(text: str) -> int:
    """A Spark memory string ("512m", "2g"; JavaUtils.byteStringAs, no suffix = MiB for spark.*.memory) in bytes."""
    number, suffix = _split(text)
    suffix = suffix.lower()
    suffix = suffix[:-1] if len(suffix) == 2 and suffix.endswith("b") else suffix
    return round(number * (_SPARK_SUFFIX[suffix] if suffix else MI))


def cpu_text(milli: int) -> str:
    return f"{milli / 1000:g}" if milli % 1000 == 0 or milli >= 10000 else f"{milli / 1000:.2f}".rstrip("0")


def memory_text(size: int) -> str:
    """Bytes as Gi with two decimals (the table's unit) or Mi below 1 Gi."""
    if size >= 2**30:
        return f"{size / 2**30:.2f}Gi"
    return f"{size / MI:.0f}Mi"
