"""Issue 14 L1/L7: sizes and numbers are bounded at load and in the models, with located errors (exit 2)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from konoha_gen.cli import main
from konoha_gen.load import MAX_ALIASES, MAX_BYTES, MAX_LINE
from konoha_gen.model.platform import PlatformDocument

HEADER = "apiVersion: konoha.dev/v1alpha1\nkind: Platform\nmetadata:\n  name: demo\n"
GITOPS = "spec:\n  gitops:\n    url: https://github.com/acme/demo.git\n"


def validate(spec: Path | str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(spec)])
    return result.exit_code, result.output


def refused_quickly(spec: Path, needle: str) -> str:
    start = time.monotonic()
    code, output = validate(spec)
    assert time.monotonic() - start < 5, "the limit must refuse before the slow work"
    assert code == 2, output
    assert needle in output
    return output


def test_twenty_thousand_aliases_are_refused_quickly(tmp_path: Path) -> None:
    aliases = "".join(f"    a{i}: *x\n" for i in range(20_000))
    spec = tmp_path / "konoha.yaml"
    spec.write_text(f"{HEADER}  labels: &x\n    base: v\n{GITOPS}  x-aliases:\n" + aliases, "utf-8")
    output = refused_quickly(spec, f"more than {MAX_ALIASES} aliases")
    assert f"{spec}:" in output


def test_a_megabyte_comment_line_is_refused_quickly(tmp_path: Path) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(HEADER + GITOPS + "# " + "x" * 1_000_000 + "\n", "utf-8")
    output = refused_quickly(spec, f"the limit is {MAX_LINE}")
    assert f"{spec}:8:{MAX_LINE + 1}:" in output


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(HEADER + GITOPS + ("# padding\n" * (MAX_BYTES // 10 + 1)), "utf-8")
    output = refused_quickly(spec, "larger than")
    assert f"{spec}:1:1:" in output


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_with_exit_2_not_memory_error() -> None:
    output = refused_quickly(Path("/dev/zero"), "larger than")
    assert "/dev/zero:1:1:" in output


def test_a_huge_expire_after_days_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(HEADER + GITOPS + "  storage:\n    objectStore:\n      buckets:\n"
                    "        - name: lake\n          expireAfterDays: 18446744073709551616\n", "utf-8")
    code, output = validate(spec)
    assert code == 2, output
    assert f"{spec}:12:28:" in output and "expireAfterDays" in output and "36500" in output


def _integers(schema: Any, path: str, found: list[str]) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "integer" and "maximum" not in schema:
            found.append(path)
        for key, value in schema.items():
            _integers(value, f"{path}.{key}", found)
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            _integers(value, f"{path}[{index}]", found)


def test_every_integer_field_has_an_upper_bound() -> None:
    unbounded: list[str] = []
    _integers(json.loads(json.dumps(PlatformDocument.model_json_schema(by_alias=True))), "", unbounded)
    assert unbounded == []
