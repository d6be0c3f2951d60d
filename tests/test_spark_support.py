"""The Jackson relocation of tests/spark_support.py: constant pool rewriting and the relocated jar."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.spark_support import JACKSON, jackson_jars, relocate_class, relocate_jar, unavailable

SHADED = "org/apache/iceberg/shaded/com/fasterxml/jackson/"


def _utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">BH", 1, len(data)) + data


def _class(*constants: bytes, slots: int) -> bytes:
    """A class file head: magic, version 61, the pool (slots + 1 is its count), then a fixed trailer."""
    return b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 61, slots + 1) + b"".join(constants) + b"\x00\x21TRAILER"


def test_every_utf8_constant_is_relocated_and_the_rest_is_kept() -> None:
    other = [
        struct.pack(">BQ", 5, 0x636F6D2F66617374),  # a Long holding the bytes "com/fast": two slots, untouched
        struct.pack(">BH", 7, 1),  # a Class naming constant 1
        struct.pack(">BBH", 15, 6, 2),  # a MethodHandle
    ]
    before = _class(_utf8("com/fasterxml/jackson/core/JsonParser"), *other,
                    _utf8("(Lcom/fasterxml/jackson/databind/JsonNode;)V"), _utf8("com.fasterxml.jackson.core.Version"),
                    _utf8("naïve com/fasterxml/jacksonian"), slots=7)
    after = _class(_utf8(f"{SHADED}core/JsonParser"), *other, _utf8(f"(L{SHADED}databind/JsonNode;)V"),
                   _utf8("org.apache.iceberg.shaded.com.fasterxml.jackson.core.Version"),
                   _utf8("naïve com/fasterxml/jacksonian"), slots=7)
    assert relocate_class(before) == after


def test_a_pool_it_cannot_read_is_refused() -> None:
    with pytest.raises(ValueError, match="not a class file"):
        relocate_class(b"PK\x03\x04")
    with pytest.raises(ValueError, match="unknown constant pool tag 2"):
        relocate_class(_class(b"\x02\x00", slots=1))


def test_the_jackson_jars_relocate_to_icebergs_package(tmp_path: Path) -> None:
    sources = [jar for jar in jackson_jars() if jar.name.startswith(JACKSON[2] + "-2.")]
    if not sources:
        unavailable("snowpark-connect-deps-2 is not installed (make build)")
    target = tmp_path / "annotations.jar"
    relocate_jar(sources, target)
    with zipfile.ZipFile(target) as jar:
        names = jar.namelist()
    assert names[0] == "META-INF/MANIFEST.MF"
    assert all(n.startswith(SHADED) and n.endswith(".class") for n in names[1:]) and len(names) > 50
    javap = shutil.which("javap")
    if javap:  # the JDK's own reader parses the rewritten class files
        shown = subprocess.run([javap, "-v", "-cp", str(target), f"{SHADED}annotation/JsonProperty".replace("/", ".")],
                               capture_output=True, text=True, check=True).stdout
        assert "com/fasterxml" not in shown.replace(SHADED, "")
        assert f"interface {SHADED}annotation/JsonProperty".replace("/", ".") in shown
