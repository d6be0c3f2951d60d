"""A local Spark with Iceberg for tests/test_spark_merge.py, from PyPI packages only.

Iceberg's Spark runtime comes from `snowpark-connect-deps-iceberg` (Iceberg 1.10.2, Spark 3.5, Scala 2.12). That
build lacks the Jackson Iceberg relocates to `org.apache.iceberg.shaded.com.fasterxml.jackson`; `relocate_jar`
rewrites the Jackson 2.18 jars `snowpark-connect-deps-2` ships to that package, as the Shadow plugin of Iceberg's
build would: every CONSTANT_Utf8 entry of each class file's constant pool (class names, descriptors, signatures
and string constants, slash and dot forms) and the entry names and service files of the jar. The built jar is
cached under .cache/ (keyed on its inputs), so it is built once per machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "spark"
JACKSON = ("jackson-core", "jackson-databind", "jackson-annotations")
RUNTIME = "iceberg-spark-runtime-3.5_2.12-"
#: (from, to) in the slash form of class names and the dot form of string constants.
RELOCATIONS = ((b"com/fasterxml/jackson/", b"org/apache/iceberg/shaded/com/fasterxml/jackson/"),
               (b"com.fasterxml.jackson.", b"org.apache.iceberg.shaded.com.fasterxml.jackson."))
#: Constant pool tags (JVMS 4.4) and the size of their bodies; Long and Double take two slots.
UTF8 = 1
SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}


def relocate(data: bytes) -> bytes:
    for old, new in RELOCATIONS:
        data = data.replace(old, new)
    return data


def relocate_class(data: bytes) -> bytes:
    """The class file with its CONSTANT_Utf8 entries relocated; everything after the pool is unchanged (it refers
    to the pool by index). Modified UTF-8 encodes ASCII as itself and never uses ASCII bytes inside a multi-byte
    sequence, so replacing the ASCII package names in an entry's bytes is exact."""
    if data[:4] != b"\xca\xfe\xba\xbe":
        raise ValueError("not a class file")
    count = struct.unpack_from(">H", data, 8)[0]
    out, at, index = [data[:10]], 10, 1
    while index < count:
        tag = data[at]
        if tag == UTF8:
            length = struct.unpack_from(">H", data, at + 1)[0]
            text = relocate(data[at + 3:at + 3 + length])
            if len(text) > 0xFFFF:
                raise ValueError("a relocated constant is longer than a class file allows")
            out.append(struct.pack(">BH", UTF8, len(text)) + text)
            at += 3 + length
        elif tag in SIZES:
            out.append(data[at:at + 1 + SIZES[tag]])
            at += 1 + SIZES[tag]
        else:
            raise ValueError(f"unknown constant pool tag {tag} at byte {at}")
        index += 2 if tag in (5, 6) else 1
    out.append(data[at:])
    return b"".join(out)


def relocate_jar(sources: Iterable[Path], target: Path) -> None:
    """One jar with the classes and service files of `sources`, relocated. Module descriptors and multi-release
    variants are left out (the runtime loads the base classes), as are the sources' manifests and licences."""
    seen: set[str] = set()
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: konoha-gen tests\r\n\r\n")
        for source in sources:
            with zipfile.ZipFile(source) as original:
                for entry in original.infolist():
                    name = entry.filename
                    if entry.is_dir() or name.endswith("module-info.class") or (
                            name.startswith("META-INF/") and not name.startswith("META-INF/services/")):
                        continue
                    data = original.read(entry)
                    if name.endswith(".class"):
                        data = relocate_class(data)
                    elif name.startswith("META-INF/services/"):
                        data = relocate(data)
                    renamed = relocate(name.encode()).decode()
                    if renamed not in seen:
                        seen.add(renamed)
                        jar.writestr(renamed, data)
    partial.replace(target)


def _jars(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "jars"


def jackson_jars(deps: Path | None = None) -> list[Path]:
    """The Jackson 2 jars of snowpark-connect-deps-2 that Iceberg needs (none when it is not installed)."""
    deps = deps or _jars("snowpark_connect_deps_2")
    return [jar for prefix in JACKSON for jar in sorted(deps.glob(f"{prefix}-2.*.jar"))] if deps else []


def spark_jars() -> tuple[list[Path], str | None]:
    """The Iceberg runtime and the relocated Jackson (built on first use), or why they are missing."""
    iceberg, deps = _jars("snowpark_connect_deps_iceberg"), _jars("snowpark_connect_deps_2")
    if iceberg is None or deps is None:
        return [], "snowpark-connect-deps-iceberg / snowpark-connect-deps-2 are not installed (make build)"
    runtime = sorted(iceberg.glob(f"{RUNTIME}*.jar"))
    jackson = jackson_jars(deps)
    if not runtime or len(jackson) != len(JACKSON):
        return [], f"no {RUNTIME}*.jar in {iceberg} or no {', '.join(JACKSON)} in {deps}"
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for jar in jackson:
        digest.update(jar.name.encode() + str(jar.stat().st_size).encode())
    relocated = CACHE / f"iceberg-shaded-jackson-{digest.hexdigest()[:16]}.jar"
    if not relocated.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        relocate_jar(jackson, relocated)
    return [runtime[-1], relocated], None


def unavailable(reason: str) -> NoReturn:
    """A missing prerequisite: a failure under CI=true, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)


def java_problem() -> str | None:
    """None when a Java runtime is there (JAVA_HOME or java on PATH)."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return None
    return "no Java runtime (JAVA_HOME or java on PATH; Debian: apt-get install openjdk-17-jre-headless)"
