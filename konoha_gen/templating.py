"""Jinja2 for the text formats that read better as templates (README, HCL, SQL).

Templates live in the top-level `templates/` folder; the wheel carries them as
`konoha_gen/templates` (see pyproject.toml), so both layouts are searched. A value lands in a template through
the quoting filter of its target grammar (konoha_gen/quoting.py): `{{ name | pg_ident }}`, `{{ path | hcl_string }}`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from konoha_gen import quoting

#: The quoting functions templates use as filters, under the same names.
FILTERS = {f.__name__: f for f in (
    quoting.pg_ident, quoting.pg_qualified, quoting.pg_literal,
    quoting.mysql_ident, quoting.mysql_qualified, quoting.mysql_literal,
    quoting.hcl_string, quoting.hcl_list, quoting.hcl_template_text,
    quoting.sh,
)}


def template_dir() -> Path:
    packaged = Path(__file__).parent / "templates"  # installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "templates"  # source checkout / editable install


@cache
def _environment() -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir())),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters.update(FILTERS)
    return environment


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)
