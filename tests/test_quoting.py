"""Target quoting (konoha_gen/quoting.py), the second guard behind the spec grammar (issue 14 section 3 M1): each
sink format gets hostile strings, and its real parser must read back exactly the string, nothing more.

The table below lists every sink with the inputs it is given; what the target cannot hold at all (a NUL in SQL
text, an empty SQL identifier) is left out with the reason. The parsers: PostgreSQL and MariaDB (the test
servers of tests/databases.py), DuckDB for the PostgreSQL identifier grammar, Terraform for HCL, Java's
java.util.Properties for spark-defaults.conf / kyuubi-defaults.conf / Trino catalogs, bash and sh for the shell.
Spark SQL identifiers are read back by Spark's own parser in tests/test_spark_merge.py (its session is slow to
start), and whole prepare scripts over hostile table names run in tests/test_source_databases.py.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import psycopg
import pymysql
import pytest

from konoha_gen.quoting import (
    hcl_list,
    hcl_string,
    hcl_template_text,
    mysql_ident,
    mysql_literal,
    pg_ident,
    pg_literal,
    pg_qualified,
    properties_line,
    properties_load,
    properties_text,
    sh,
)
from tests.databases import MariaDBServer, PostgresServer

#: Quote characters of every dialect, escapes, line breaks (and the Unicode ones editors and str.splitlines
#: honour), interpolation of HCL and the shell, properties separators and comment markers, leading and trailing
#: blanks, non-ASCII (combining, astral), SQL comment and statement breakers, the prepare script's dollar tag.
HOSTILE = (
    "plain", "Mixed$Case", "'", '"', "`", "\\", "it's", 'say "hi"', "back`tick", "back\\slash", "ends\\", "\\\\",
    "new\nline", "carriage\rreturn", "crlf\r\n", "tab\there", "${var.secret}", "%{ if true }x%{ endif }", "$${",
    "%%{", "$$${", "$", "%", "=", "a=b", "a:b", "#comment", "!bang", " leading", "trailing ", "   ", "\u2028sep",
    "\u2029para", "\x0bvt", "\x0cff", "\x1cfs", "\x85nel", "\x7fdel", "\x00nul", "é ü", "日本語", "😀", "e\u0301",
    "; DROP TABLE x; --", "/* c */", "$konoha$", "$(id)", "`id`", "\\u0041", "\\uZZZZ", "*", "~user", "-n", "",
    "a.b", ".",
)


def _without(*excluded: str, dots: bool = True) -> list[str]:
    return [text for text in HOSTILE if text not in excluded and (dots or "." not in text)]


#: What each SQL grammar cannot hold: PostgreSQL text has no NUL; a delimited identifier is never empty.
SQL_TEXT = _without("\x00nul")
SQL_IDENT = _without("\x00nul", "")


def _round_trip(texts: list[str], read: Callable[[str], Any]) -> None:
    """Each text read back by `read` is the text: the mismatches are listed, not just the first."""
    assert {text: read(text) for text in texts} == {text: text for text in texts}


# --- PostgreSQL ---------------------------------------------------------------------------------------------------

def test_pg_ident_reads_back_in_duckdb() -> None:
    """DuckDB parses double-quoted identifiers the PostgreSQL way."""
    db = duckdb.connect()
    _round_trip(SQL_IDENT, lambda text: db.execute(f"SELECT 1 AS {pg_ident(text)}").description[0][0])


def test_pg_literal_reads_back_in_duckdb() -> None:
    db = duckdb.connect()
    _round_trip(SQL_TEXT, lambda text: db.execute(f"SELECT {pg_literal(text)}").fetchone()[0])  # type: ignore[index]


@pytest.fixture
def pg(postgres: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as connection:
        yield connection


def test_pg_ident_reads_back_in_postgres(pg: psycopg.Connection[Any]) -> None:
    def column(text: str) -> str:
        cursor = pg.execute(f"SELECT 1 AS {pg_ident(text)}")
        assert cursor.description is not None
        return cursor.description[0].name
    _round_trip(SQL_IDENT, column)


def test_pg_qualified_names_parse_back_into_their_parts(pg: psycopg.Connection[Any]) -> None:
    """A '.' inside a part cannot be written in schema.table form: those inputs are left out."""
    def parts(text: str) -> str:
        row = pg.execute(f"SELECT parse_ident({pg_literal(pg_qualified(f'{text}.{text}'))})").fetchone()
        assert row is not None and row[0] == [text, text], row
        return text
    _round_trip(_without("\x00nul", "", dots=False), parts)


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_pg_literal_reads_back_whatever_standard_conforming_strings(pg: psycopg.Connection[Any], conforming: str
                                                                    ) -> None:
    pg.execute(f"SET standard_conforming_strings = {conforming}")

    def value(text: str) -> str:
        row = pg.execute(f"SELECT {pg_literal(text)}").fetchone()
        assert row is not None
        return str(row[0])
    _round_trip(SQL_TEXT, value)


# --- MySQL / MariaDB ----------------------------------------------------------------------------------------------

#: MySQL/MariaDB identifiers hold only the Basic Multilingual Plane, and a name does not end with white space.
MYSQL_IDENT = [text for text in SQL_IDENT
               if text == text.rstrip(" \t\n\v\f\r") and all(ord(ch) <= 0xFFFF for ch in text)]


@pytest.fixture(params=["", "NO_BACKSLASH_ESCAPES"], ids=["default", "no_backslash_escapes"])
def my(request: pytest.FixtureRequest, mariadb: MariaDBServer) -> Iterator[pymysql.cursors.Cursor]:
    connection = pymysql.connect(host=mariadb.host, port=mariadb.port, user=mariadb.admin, password="",
                                 autocommit=True, charset="utf8mb4")
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS konoha_quoting")
        cursor.execute("USE konoha_quoting")
        cursor.execute(f"SET SESSION sql_mode = '{request.param}'")
        yield cursor


def _my_column(cursor: pymysql.cursors.Cursor, create: str) -> str:
    """The name of the one column of the temporary table `create` (a statement run as is) makes. Column names are
    the identifiers read back: a select list's item names lose their leading blanks and controls."""
    cursor.execute(create)
    try:
        cursor.execute("SHOW COLUMNS FROM konoha_q")
        row = cursor.fetchone()
        assert row is not None
        return str(row[0])
    finally:
        cursor.execute("DROP TEMPORARY TABLE konoha_q")


def _my_value(cursor: pymysql.cursors.Cursor, query: str) -> Any:
    cursor.execute(query)
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def test_mysql_literal_reads_back_whatever_the_sql_mode(my: pymysql.cursors.Cursor) -> None:
    _round_trip(SQL_TEXT, lambda text: _my_value(my, f"SELECT {mysql_literal(text)}"))


def test_mysql_ident_reads_back(my: pymysql.cursors.Cursor) -> None:
    _round_trip(MYSQL_IDENT, lambda text: _my_column(my, f"CREATE TEMPORARY TABLE konoha_q ({mysql_ident(text)} INT)"))


def test_mysql_ident_inside_a_literal_reads_back_once_prepared(my: pymysql.cursors.Cursor) -> None:
    """The shape of the prepare script's grants: a statement with a quoted identifier, as a string literal that
    PREPARE parses again."""
    def column(text: str) -> str:
        statement = f"CREATE TEMPORARY TABLE konoha_q ({mysql_ident(text)} INT)"
        my.execute(f"SET @konoha_q = CONCAT({mysql_literal(statement)})")
        my.execute("PREPARE konoha_q FROM @konoha_q")
        return _my_column(my, "EXECUTE konoha_q")
    _round_trip(MYSQL_IDENT, column)


# --- HCL (Terraform) ----------------------------------------------------------------------------------------------

#: Terraform normalises string literals to Unicode NFC, whatever the quoting: e + U+0301 reads back as é.
HCL = _without("e\u0301")


@pytest.fixture(scope="module")
def terraform_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Terraform configuration holding every input in each HCL form konoha-gen writes, applied once."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is required (it is on the development and CI machines)")
    forms = {
        "strings": "[" + ", ".join(hcl_string(text) for text in HCL) + "]",
        "list": hcl_list(HCL),
        "inside": "[" + ", ".join('"${path.module}/' + hcl_template_text(text) + '"' for text in HCL) + "]",
        "heredoc": "[\n" + ",\n".join(f"jsondecode(trimspace(<<-EOT\n  {hcl_string(text)}\n  EOT\n))"
                                       for text in HCL) + "\n]",
    }
    config = "".join(f'output "{name}" {{\n  value = {value}\n}}\n' for name, value in forms.items())
    module = tmp_path_factory.mktemp("hcl")
    (module / "main.tf").write_text(config, "utf-8")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    apply = subprocess.run(["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], cwd=module, env=env,
                           capture_output=True, text=True, timeout=120)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    output = subprocess.run(["terraform", "output", "-json"], cwd=module, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    return {name: value["value"] for name, value in json.loads(output.stdout).items()}


@pytest.mark.parametrize(("form", "expected"), [
    ("strings", lambda text: text),  # hcl_string: an attribute's value
    ("list", lambda text: text),  # hcl_list: a list attribute
    ("inside", lambda text: "./" + text),  # hcl_template_text: after an interpolation in one quoted template
    ("heredoc", lambda text: text),  # hcl_string in the Vault policy heredoc: the JSON string Vault's HCL reads
])
def test_hcl_strings_read_back_in_terraform(terraform_outputs: dict[str, Any], form: str,
                                            expected: Callable[[str], str]) -> None:
    assert dict(zip(HCL, terraform_outputs[form], strict=True)) == {text: expected(text) for text in HCL}


def test_hcl_string_refuses_what_is_not_a_string() -> None:
    with pytest.raises(TypeError):
        hcl_string(1)  # type: ignore[arg-type]


# --- java.util.Properties -----------------------------------------------------------------------------------------

LOAD_PROPERTIES = r"""
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

/** Each file argument loaded as Spark loads spark-defaults.conf (Properties.load over a UTF-8 reader), printed as a
 *  JSON object on one line, every character a \\uXXXX escape. */
public class LoadProperties {
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) b.append(String.format("\\u%04x", (int) c));
        return b.append('"').toString();
    }

    public static void main(String[] args) throws IOException {
        for (String file : args) {
            Properties properties = new Properties();
            try (Reader reader = new InputStreamReader(new FileInputStream(file), StandardCharsets.UTF_8)) {
                properties.load(reader);
            }
            StringBuilder out = new StringBuilder("{");
            for (String key : new TreeSet<>(properties.stringPropertyNames())) {
                if (out.length() > 1) out.append(',');
                out.append(json(key)).append(':').append(json(properties.getProperty(key)));
            }
            System.out.println(out.append('}'));
        }
    }
}
"""

#: Properties texts not written by konoha-gen (continuations, comments, other separators): the reader the checks
#: use (quoting.properties_load) must read them as Java does.
HAND_WRITTEN = (
    "a = b\n", "a:b", "a b", "a\tb", "  # comment\nk=v", "! bang\nk=v", "a=b\\\n   c", "a=b\\\\\nc=d", "a\\\n#b=c",
    "k\\ ey=v", "k\\=ey\\:x=v", "a=\\u0041\\t", "a==b", "a= =b", "a::b", "a\r\nb=c\rd=e", "key", "=value",
    "a=b\\", "a=b\\\n", "a=b\\\n\nc=d", "  \n\t\f\nx=1", "#a=b\\\nc=d", "a\\\\=b", "a=\\\\u0041", "a=x\\\r\n  y",
)


@pytest.fixture(scope="module")
def java_load(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], list[dict[str, str]]]:
    """Properties texts -> what java.util.Properties loads from each, in one JVM."""
    if shutil.which("java") is None:
        pytest.fail("java is required (Java 17 is on the development and CI machines)")
    root = tmp_path_factory.mktemp("properties")
    (root / "LoadProperties.java").write_text(LOAD_PROPERTIES)

    def load(texts: list[str]) -> list[dict[str, str]]:
        files = []
        for index, text in enumerate(texts):
            files.append(root / f"{index}.properties")
            files[-1].write_bytes(text.encode("utf-8", "surrogatepass"))
        result = subprocess.run(["java", str(root / "LoadProperties.java"), *map(str, files)], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]
    return load


def test_properties_keys_and_values_read_back_in_java(java_load: Callable[[list[str]], list[dict[str, str]]]) -> None:
    pairs = [(text, f"value {index}") for index, text in enumerate(HOSTILE)]
    pairs += [(f"key.{index}", text) for index, text in enumerate(HOSTILE)]
    text = properties_text(pairs)
    assert len(text.splitlines()) == len(pairs), "every entry stays on its own line, for every line splitter"
    assert java_load([text]) == [dict(pairs)]
    assert properties_load(text) == dict(pairs)


def test_properties_lines_read_back_one_at_a_time(java_load: Callable[[list[str]], list[dict[str, str]]]) -> None:
    """Trino's additionalConfigProperties are single lines the chart joins: each must stand alone."""
    lines = [properties_line(text, text) for text in HOSTILE]
    assert java_load([line + "\n" for line in lines]) == [{text: text} for text in HOSTILE]


def test_the_properties_reader_reads_what_java_reads(java_load: Callable[[list[str]], list[dict[str, str]]]) -> None:
    assert [properties_load(text) for text in HAND_WRITTEN] == java_load(list(HAND_WRITTEN))


# --- shell ----------------------------------------------------------------------------------------------------------

#: A shell word cannot hold a NUL (argv strings end there).
SHELL = _without("\x00nul")


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_sh_words_expand_to_exactly_the_text(shell: str) -> None:
    script = "printf '%s\\0' " + " ".join(sh(text) for text in SHELL)
    result = subprocess.run([shell, "-c", script.encode()], capture_output=True, timeout=60, check=True)
    assert result.stdout.decode("utf-8").split("\0")[:-1] == SHELL


def test_sh_words_split_back_in_shlex() -> None:
    def word(text: str) -> str:
        words = shlex.split(sh(text))
        assert len(words) == 1, words
        return words[0]
    _round_trip(SHELL, word)


def test_sh_leaves_safe_words_as_they_are() -> None:
    """The generated bootstrap.sh reads as before for the names the spec grammar allows."""
    for word in ("konoha", "flux-system", "vault-0", "terraform/10-vault", "tenants/analytics/spark-env"):
        assert sh(word) == word
