"""Free text cannot smuggle code or secrets (issue 14 section 3).

Every string that reaches SQL, HCL, a properties file, YAML or the shell is constrained at the spec to its real
grammar; a hostile value is refused with file:line:col and exit 2, and nothing is written. Token-shaped
credentials are found in every emitted value, whatever key holds them. Behind the grammar, every value is also
quoted for the target it lands in (konoha_gen/quoting.py, proven by tests/test_quoting.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.check.secret_scan import scan
from konoha_gen.cli import main
from konoha_gen.errors import Diagnostic, escape, shown
from tests.helpers import edit_spec


def _source(spec: Any) -> Any:
    return spec["spec"]["streaming"]["sources"][0]


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Any], None]:
    def change(spec: Any) -> None:
        node = spec
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
        node[path[-1]] = value
    return change


def _keys(spec: Any) -> None:
    _source(spec)["target"]["keys"] = {_source(spec)["tables"][0]: ["order_id) ; DROP TABLE x; --"]}


def _partition(spec: Any) -> None:
    _source(spec)["target"]["partitionBy"] = {_source(spec)["tables"][0]: ["days(ts)); DROP TABLE x; --"]}


def _label_key(spec: Any) -> None:
    spec["metadata"].setdefault("labels", {})["a b"] = "x"


DAGS_URL = ("spec", "orchestration", "airflow", "dags", "git", "url")
GITOPS_URL = ("spec", "gitops", "url")

# sink format -> (spec edit, path the error names, message substring)
HOSTILE: dict[str, tuple[Callable[[Any], None], str, str]] = {
    "sql-prepare-database": (_set(("spec", "streaming", "sources", 0, "database"),
                                  "inv\nDROP TABLE public.customers;\n--"),
                             "spec.streaming.sources[0].database", "a database name is an unquoted"),
    "sql-merge-key-column": (_keys, "spec.streaming.sources[0].target.keys.", "a column name is an unquoted"),
    "sql-partition-by": (_partition, "spec.streaming.sources[0].target.partitionBy.", "a partition field is"),
    "spark-defaults-image": (_set(("spec", "compute", "spark", "image"), "foo\nspark.hadoop.x=1"),
                             "spec.compute.spark.image", "an image reference is"),
    "hcl-and-yaml-version": (_set(("spec", "versions", "trino"), '1"\n}\nresource "x" "y" {'),
                             "spec.versions.trino", "a version is"),
    "yaml-label-key": (_label_key, "metadata.labels", "a label key is a qualified name"),
    "yaml-label-value": (_set(("metadata", "labels", "team"), "x\ny: z"), "metadata.labels.team",
                         "a label value is"),
    "yaml-ingress-class": (_set(("spec", "cluster", "ingress", "className"), "traefik\n  evil: 1"),
                           "spec.cluster.ingress.className", "a DNS-1123 subdomain"),
    "shell-gitops-branch": (_set(("spec", "gitops", "branch"), "main; rm -rf /"), "spec.gitops.branch",
                            "a git branch is"),
    "shell-gitops-path": (_set(("spec", "gitops", "path"), "out/../../etc"), "spec.gitops.path",
                          "a folder inside the repository"),
    "shell-gitops-url-space": (_set(("spec", "gitops", "url"), "https://example.com/x.git $(id)"), "spec.gitops.url",
                               "whitespace or control characters"),
    "url-password": (_set(("spec", "gitops", "url"), "ssh://git:S3cr3tP4ssw0rd@github.com/acme/p.git"),
                     "spec.gitops.url", "plaintext credentials embedded in a URL"),
    "url-https-user-password": (_set(("spec", "gitops", "url"), "https://user:pw@github.com/acme/p.git"),
                                "spec.gitops.url", "plaintext credentials embedded in a URL"),
    "url-dags-password": (_set(DAGS_URL, "https://user:pw@github.com/acme/dags.git"),
                          "spec.orchestration.airflow.dags.git.url", "plaintext credentials embedded in a URL"),
    "url-token-query": (_set(("spec", "gitops", "url"), "https://github.com/acme/p.git?token=abc"),
                        "spec.gitops.url", "plaintext credentials embedded in a URL"),
    "url-artifact-token-query": (
        _set(("spec", "streaming", "connect", "artifacts", "debezium-postgres"),
             {"url": "https://example.com/a.tar.gz?X-Amz-Signature=abc&x=.tar.gz"}),
        "spec.streaming.connect.artifacts.debezium-postgres.url", "plaintext credentials embedded in a URL"),
}


def _build(runner: CliRunner, tmp_path: Path, text: str) -> tuple[Path, Any]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(text, "utf-8")
    return spec, runner.invoke(main, ["build", str(spec), "--out", str(tmp_path / "out")])


@pytest.mark.parametrize("sink", sorted(HOSTILE))
def test_hostile_free_text_is_refused_at_the_spec(sink: str, spec_text: str, runner: CliRunner,
                                                   tmp_path: Path) -> None:
    change, path, message = HOSTILE[sink]
    spec, result = _build(runner, tmp_path, edit_spec(spec_text, change))
    assert result.exit_code == 2, result.output
    located = re.compile(rf"^{re.escape(str(spec))}:\d+:\d+: error: {re.escape(path)}.*{re.escape(message)}", re.M)
    assert located.search(result.output), result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("field", "url"), [(DAGS_URL, "git@github.com:org/repo.git"),
                                            (DAGS_URL, "ssh://git@github.com/acme/dags.git"),
                                            (GITOPS_URL, "ssh://git@github.com/acme/p.git"),
                                            (GITOPS_URL, "https://github.com/acme/p.git")])
def test_git_urls_without_a_password_stay_accepted(field: tuple[str, ...], url: str, spec_text: str,
                                                    runner: CliRunner, tmp_path: Path) -> None:
    _, result = _build(runner, tmp_path, edit_spec(spec_text, _set(field, url)))
    assert result.exit_code == 0, result.output


TOKENS = {
    "AWS Access Key": "AKIAIOSFODNN7EXAMPLE",
    "GitHub Token": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "Slack Token": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "JSON Web Token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "Private Key": "-----BEGIN RSA PRIVATE KEY-----",
}


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_a_token_is_found_in_any_yaml_value_or_key(kind: str) -> None:
    token = TOKENS[kind]
    for document in (f"metadata:\n  labels:\n    team: '{token}'\n", f"metadata:\n  labels:\n    '{token}': x\n"):
        problems = scan([Artifact("clusters/a.yaml", document)])
        assert any(kind in p.message for p in problems), (document, problems)


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_a_token_is_found_on_any_line_of_a_text_format(kind: str) -> None:
    problems = scan([Artifact("spark/a.spark-defaults.conf", f"spark.kubernetes.container.image {TOKENS[kind]}\n")])
    assert [p.message for p in problems if kind in p.message] == [f"line 1: looks like a credential ({kind})"]


def test_a_digest_is_not_a_token() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert scan([Artifact("a.yaml", f"image: registry.example.com/a/b@{digest}\n")]) == []


def test_unknown_yaml_tags_are_refused_with_file_line_col(spec_text: str, runner: CliRunner, tmp_path: Path) -> None:
    text = spec_text.replace("apiVersion: konoha.dev/v1alpha1", "apiVersion: !!python/name:os.system konoha", 1)
    spec, result = _build(runner, tmp_path, text)
    assert result.exit_code == 2
    assert re.search(rf"^{re.escape(str(spec))}:\d+:\d+: error: apiVersion: unknown YAML tag", result.output, re.M)


def test_a_spec_that_is_a_directory_is_a_located_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["build", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{tmp_path}:1:1: error: <file>: the spec is a directory, not a file" in result.output
    assert "Usage:" not in result.output


def test_a_spec_file_name_with_a_newline_is_refused(spec_text: str, runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "kono\nha.yaml"
    spec.write_text(spec_text, "utf-8")
    result = runner.invoke(main, ["build", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path}/kono\\nha.yaml:1:1: error: <file>: the spec's file name contains a newline" in result.output
    assert not (tmp_path / "out").exists()


def test_diagnostics_escape_line_breaks_and_cut_long_values() -> None:
    diagnostic = Diagnostic("f.yaml", 1, 2, "a.b", f"'{shown('x' * 5000)}' bad", "h\u2028int")
    line = diagnostic.format()
    assert "\n" not in line and "\u2028" not in line
    assert line == f"f.yaml:1:2: error: a.b: '{'x' * 80}...' bad (h\\u2028int)"
    assert escape("a\nb\u2028c") == "a\\nb\\u2028c"


def test_a_hostile_value_is_echoed_escaped_and_cut(spec_text: str, runner: CliRunner, tmp_path: Path) -> None:
    value = "foo\u2028forged: error\n" + "y" * 5000
    _, result = _build(runner, tmp_path, edit_spec(spec_text, _set(("metadata", "labels", "team"), value)))
    assert result.exit_code == 2
    line = next(line for line in result.output.splitlines() if "metadata.labels.team" in line)
    assert "'foo\\u2028forged: error\\nyyy" in line and "y" * 81 not in line and "...' is not valid" in line
    assert "\u2028" not in result.output
