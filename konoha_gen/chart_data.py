"""The pinned charts' data kept with konoha-gen (konoha_gen/charts/, each chart's source in its SOURCES.md): read
once per process with libyaml, for the values check and the laptop budget alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

#: The vendored copies; --charts-dir / KONOHA_CHARTS_DIR points the values check elsewhere.
VENDORED_CHARTS = Path(__file__).resolve().parent / "charts"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster on large values files


@cache
def default_values(folder: str, charts_dir: Path = VENDORED_CHARTS) -> Any:
    """A chart's values.yaml as data ({} when the chart has none)."""
    file = charts_dir / folder / "values.yaml"
    return (yaml.load(file.read_text(), Loader=_Loader) or {}) if file.is_file() else {}
