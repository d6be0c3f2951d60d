"""Small helpers for tests: edit a spec as YAML, snapshot a tree."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def edit_spec(text: str, change: Callable[[Any], None]) -> str:
    """Round-trip edit of spec text (comments and layout kept)."""
    yaml = YAML(typ="rt")
    data = yaml.load(text)
    change(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def tree(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """path -> (bytes, inode, mtime_ns) of every file under root."""
    result = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            stat = path.stat()
            result[path.relative_to(root).as_posix()] = (path.read_bytes(), stat.st_ino, stat.st_mtime_ns)
    return result


def contents(root: Path) -> dict[str, bytes]:
    return {path: data for path, (data, _ino, _mtime) in tree(root).items()}


def later_inputs(spec: Any) -> None:
    """What later issues made the design example (vendored, unchanged) declare: the source type of its partition
    column (days() needs a timestamp), an Airflow image with the providers its connections need, and tenant Spark
    profiles off the SERVER-share server (dbt and tenant ingestion move to interactive), and no tenant quota (refused
    until a tenant's engines run in a namespace of their own)."""
    spec["spec"]["streaming"]["sources"][0]["target"]["columns"] = {"public.orders": {"created_at": "timestamp"}}
    spec["spec"]["orchestration"]["airflow"]["image"] = {"repository": "registry.example.com/data/airflow",
                                                         "tag": "3.2.0-1"}
    spec["spec"]["modeling"]["dbt"]["projects"][0]["server"] = "interactive"
    for tenant in spec["spec"]["tenants"]:
        tenant["kyuubi"] = "interactive"
        tenant.pop("quota", None)
