"""Target quoting: a value pasted into SQL, HCL, a properties file or a shell script, quoted for that grammar.

The spec constrains every string to its grammar first (konoha_gen/model/common.py); these functions are the
second guard, where the value lands: whatever the string, the target reads back exactly that string and nothing
else (tests/test_quoting.py proves it with the real parsers). Templates reach them as Jinja filters of the same
names (templating.py).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

# --- SQL --------------------------------------------------------------------------------------------------------


def pg_ident(name: str) -> str:
    """A PostgreSQL quoted identifier ("..." with '"' doubled): case-exact, any character but NUL."""
    return '"' + name.replace('"', '""') + '"'


def pg_qualified(name: str) -> str:
    """A PostgreSQL qualified name: each '.'-separated part of `name` (schema.table) a quoted identifier."""
    return ".".join(pg_ident(part) for part in name.split("."))


def pg_literal(text: str) -> str:
    """A PostgreSQL string constant: '...' with "'" doubled; E'...' with '\\' doubled too when the text holds a
    backslash, so it reads the same whatever standard_conforming_strings is."""
    quoted = text.replace("'", "''")
    if "\\" in text:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def mysql_ident(name: str) -> str:
    """A MySQL/MariaDB quoted identifier (`...` with '`' doubled)."""
    return "`" + name.replace("`", "``") + "`"


def mysql_qualified(name: str) -> str:
    """A MySQL/MariaDB qualified name: each '.'-separated part of `name` (database.table) a quoted identifier."""
    return ".".join(mysql_ident(part) for part in name.split("."))


def mysql_literal(text: str) -> str:
    """A MySQL/MariaDB string literal: '...' with "'" doubled; a text holding a backslash is written as a utf8mb4
    hex literal instead, which reads the same whether or not sql_mode has NO_BACKSLASH_ESCAPES."""
    if "\\" in text:
        return "_utf8mb4 X'" + text.encode("utf-8").hex().upper() + "'"
    return "'" + text.replace("'", "''") + "'"


def spark_ident(name: str) -> str:
    """A Spark SQL quoted identifier (`...` with '`' doubled)."""
    return "`" + name.replace("`", "``") + "`"


def spark_qualified(name: str) -> str:
    """A Spark SQL multipart name: each '.'-separated part of `name` (catalog.namespace.table) a quoted identifier."""
    return ".".join(spark_ident(part) for part in name.split("."))


# --- HCL (Terraform) ----------------------------------------------------------------------------------------------

#: Escaped as \\uXXXX: control characters, and the line separators other tools split lines on.
_HCL_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HCL_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def hcl_template_text(text: str) -> str:
    """The inside of an HCL quoted template: '\\' and '"' escaped, controls as escapes, and '${' / '%{' doubled
    to '$${' / '%%{' so Terraform never interpolates them."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _HCL_ESCAPED.sub(lambda m: _HCL_SHORT.get(m.group(), f"\\u{ord(m.group()):04x}"), escaped)
    return escaped.replace("${", "$${").replace("%{", "%%{")


def hcl_string(text: str) -> str:
    """An HCL quoted string literal ("..."): the text exactly, never interpolated."""
    if not isinstance(text, str):
        raise TypeError(f"hcl_string takes a string, not {type(text).__name__}")
    return '"' + hcl_template_text(text) + '"'


def hcl_list(items: Iterable[str]) -> str:
    """An HCL tuple of quoted strings: ["a", "b"]."""
    return "[" + ", ".join(hcl_string(item) for item in items) + "]"


# --- java.util.Properties (spark-defaults.conf, kyuubi-defaults.conf, Trino catalogs) ---------------------------

#: Properties.load reads these as line ends (\n, \r) or skips them as white space (\t, \f); the others are line
#: breaks for Python's str.splitlines and for editors, so they are escaped too and every line stays one line.
_PROPERTIES_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}
_PROPERTIES_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _properties_escape(text: str) -> str:
    escaped = text.replace("\\", "\\\\")
    return _PROPERTIES_ESCAPED.sub(lambda m: _PROPERTIES_SHORT.get(m.group(), f"\\u{ord(m.group()):04x}"), escaped)


def properties_key(key: str) -> str:
    """A java.util.Properties key: '\\', white space, '=', ':', '#', '!' and line breaks escaped."""
    return re.sub(r"([ =:#!])", r"\\\1", _properties_escape(key))


def properties_value(value: str) -> str:
    """A java.util.Properties value: '\\' and line breaks escaped, and a leading space (which load skips) too."""
    escaped = _properties_escape(value)
    return "\\" + escaped if escaped.startswith(" ") else escaped


def properties_line(key: str, value: str) -> str:
    """One `key=value` line of a java.util.Properties file (without its line end)."""
    return f"{properties_key(key)}={properties_value(value)}"


def properties_text(pairs: Iterable[tuple[str, str]]) -> str:
    """A java.util.Properties file: one `key=value` line per pair, in order."""
    return "".join(properties_line(key, value) + "\n" for key, value in pairs)


_WHITE = " \t\f"
_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(number of its first line, text) of each logical line, as java.util.Properties' LineReader joins them:
    comments and blank lines skipped, a line ending in an odd number of backslashes continued."""
    lines = re.split(r"\r\n|\r|\n", text)
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(_WHITE)
        if not current:
            if not stripped or stripped[0] in "#!":
                continue
            start = number
        trailing = len(stripped) - len(stripped.rstrip("\\"))
        if trailing % 2:
            current.append(stripped[:-1])
            continue
        current.append(stripped)
        yield start, "".join(current)
        current = []
    if current:
        yield start, "".join(current)


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 == len(text):
            out.append(char if char != "\\" else "")
            index += 1
            continue
        escaped = text[index + 1]
        if escaped == "u":
            digits = text[index + 2:index + 6]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                raise ValueError(f"malformed \\uxxxx escape: {text[index:index + 6]!r}")
            out.append(chr(int(digits, 16)))
            index += 6
        else:
            out.append(_UNESCAPE.get(escaped, escaped))
            index += 2
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def properties_entries(text: str) -> list[tuple[int, str, str]]:
    """(line number, key, value) of each entry of a java.util.Properties text, read as Properties.load reads it."""
    entries = []
    for number, line in _logical_lines(text):
        end, separator = len(line), False
        backslash = False
        for index, char in enumerate(line):
            if not backslash and char in "=:" + _WHITE:
                end, separator = index, char in "=:"
                break
            backslash = char == "\\" and not backslash
        value_start = end + 1 if end < len(line) else end
        while value_start < len(line) and line[value_start] in _WHITE + "=:":
            if line[value_start] in "=:":
                if separator:
                    break
                separator = True
            value_start += 1
        entries.append((number, _unescape(line[:end]), _unescape(line[value_start:])))
    return entries


def properties_load(text: str) -> dict[str, str]:
    """A java.util.Properties text as Properties.load reads it: key -> value, the last of a key winning."""
    return {key: value for _number, key, value in properties_entries(text)}


# --- shell ----------------------------------------------------------------------------------------------------------


def sh(word: str) -> str:
    """One POSIX shell word that expands to exactly `word` (shlex.quote: unchanged when it needs no quoting)."""
    if not isinstance(word, str):
        raise TypeError(f"sh takes a string, not {type(word).__name__}")
    return shlex.quote(word)
