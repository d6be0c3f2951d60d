"""Jinja2 for the text formats that read better as templates (README, HCL, SQL).

Templates live in the top-level `templates/` folder; the wheel carries them as
`konoha_gen/templates` (see pyproject.toml), so both layouts are searched.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


def template_dir() -> Path:
    packaged = Path(__file__).parent / "templates"  # installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "templates"  # source checkout / editable install


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir())),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)
