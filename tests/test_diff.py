"""`konoha-gen diff` on real git repositories: the reference spec committed, then edited.

Each test compiles the spec twice (base and head), so the cases are few and
chosen for their impact rules: a new CDC source, a Spark profile change, a
renamed replication slot (dangerous), a removed bucket (a destroy) and edits
that change nothing (whitespace, comments, order). Unit tests of the compare,
mask and impact rules run on small in-memory trees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from konoha_gen.cli import main, use_color
from konoha_gen.diff import diff_trees, render
from konoha_gen.diff.compare import MISSING, Item, compare, diff_values, format_path
from konoha_gen.diff.mask import MASK
from konoha_gen.diff.resources import conf_pairs, parse_tree
from tests.conftest import SPEC

GIT_ENV = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


class MarkdownSnapshot(SingleFileSnapshotExtension):
    """The PR comment as a plain .md file, readable (and previewable) in review."""

    _write_mode = WriteMode.TEXT
    file_extension = "md"


class Repo:
    """A temporary git repository holding spec/konoha.yaml."""

    def __init__(self, root: Path, text: str) -> None:
        self.root = root
        self.spec = root / "spec" / "konoha.yaml"
        self.spec.parent.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.commit(text, "the reference spec")

    def git(self, *args: str) -> str:
        result = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True,
                                env={**os.environ, **GIT_ENV})
        return result.stdout

    def commit(self, text: str, message: str) -> None:
        self.spec.write_text(text)
        self.git("add", "spec/konoha.yaml")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def edit(self, change: Callable[[str], str], message: str = "change") -> None:
        self.commit(change(self.spec.read_text()), message)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "platform", SPEC.read_text("utf-8"))


def replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"the reference spec no longer contains {old!r}"
        return text.replace(old, new, 1)

    return change


def diff(repo: Repo, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["diff", "--base", "HEAD~1", "--head", "HEAD", *args, str(repo.spec)])
    return result.exit_code, result.stdout, result.stderr


def diff_json(repo: Repo) -> tuple[int, dict[str, Any]]:
    code, stdout, stderr = diff(repo, "--format", "json")
    assert code in (0, 1), stderr
    return code, json.loads(stdout)


def findings(report: dict[str, Any], **match: str) -> list[dict[str, str]]:
    return [f for f in report["findings"] if all(f[k] == v for k, v in match.items())]


def resource(report: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in report["resources"] if r["title"] == title]
    assert found, f"{title} not among {[r['title'] for r in report['resources']]}"
    return found[0]


# --- end to end, on git revisions ----------------------------------------------------------------------------

CRM_SOURCE = """      - name: crm
        engine: postgres
        host: crm-db.crm.svc.cluster.local
        port: 5432
        database: crm
        credentials: vault:sources/crm
        tables: [public.accounts]
        target: {namespace: raw}
"""


def add_crm_source(text: str) -> str:
    text = replace("  orchestration:", CRM_SOURCE + "\n  orchestration:")(text)
    return replace("      - sources/billing\n", "      - sources/billing\n      - sources/crm\n")(text)


def test_adding_a_cdc_source_starts_its_connectors_and_asks_for_its_sql(repo: Repo) -> None:
    repo.edit(add_crm_source)
    code, report = diff_json(repo)
    assert code == 1
    started = {f["subject"] for f in findings(report, area="connector", action="start")}
    assert {"connector crm-source", "connector crm-iceberg-sink"} <= started
    assert findings(report, subject="connector crm-source",
                    action="start")[0]["reason"] == "new connector (snapshot.mode=initial)"
    assert resource(report, "KafkaConnector konoha-streaming/crm-source")["action"] == "added"
    assert resource(report, "VaultStaticSecret konoha-streaming/kafka-connect-sources-crm")["action"] == "added"
    assert findings(report, subject="sql/crm.prepare.sql", action="run", severity="warning")
    assert findings(report, subject="Kustomization flux-system/streaming", action="reconcile")
    policy = resource(report, "vault_policy.kafka_connect (terraform/10-vault)")
    assert policy["action"] == "changed" and 'path "konoha/data/sources/crm"' in policy["fields"][0]["new"]
    assert not findings(report, severity="danger")
    assert not [r for r in report["resources"] if r["action"] == "removed"]


def test_changing_a_spark_profile_upgrades_the_kyuubi_release_that_uses_it(repo: Repo) -> None:
    repo.edit(replace("executor: {cores: 1, memory: 768m}", "executor: {cores: 1, memory: 1g}"))
    code, report = diff_json(repo)
    assert code == 1
    conf = resource(report, "spark/etl.spark-defaults.conf")
    assert conf["fields"] == [{"path": "spark.executor.memory", "pathParts": ["spark.executor.memory"], "old": "768m",
                               "new": "1g"}]
    assert findings(report, area="helm", subject="HelmRelease konoha-compute/kyuubi-batch", action="upgrade")
    assert not findings(report, area="helm", subject="HelmRelease konoha-compute/kyuubi-interactive")
    assert findings(report, area="workload", subject="StatefulSet konoha-compute/kyuubi-batch", action="may roll")
    assert {f["subject"] for f in findings(report, area="flux")} == {"Kustomization flux-system/compute"}
    assert not findings(report, area="terraform")


def test_renaming_a_replication_slot_is_flagged_dangerous(repo: Repo) -> None:
    repo.edit(replace("        snapshot: initial\n", "        snapshot: initial\n        slot: shop_cdc\n"))
    code, report = diff_json(repo)
    assert code == 1
    danger = findings(report, area="connector", severity="danger", subject="connector shop-source")
    assert len(danger) == 1  # the REST JSON and the KafkaConnector say the same thing once
    assert danger[0]["reason"].startswith("slot.name konoha_shop → shop_cdc: a new replication slot")
    assert report["summary"]["danger"] == 1

    code, text, _ = diff(repo, "--format", "text", "--no-color")
    assert "DANGER (1)" in text.splitlines()[3]  # right under the title and the count
    assert '- config["slot.name"]: konoha_shop' in text and '+ config["slot.name"]: shop_cdc' in text


def test_removing_a_bucket_is_flagged_as_a_destroy(repo: Repo) -> None:
    repo.edit(replace("        - name: warehouse\n", "        - name: warehouse\n        - name: scratch\n"),
              "a scratch bucket")
    repo.edit(replace("        - name: scratch\n", ""), "drop the scratch bucket")
    code, report = diff_json(repo)
    assert code == 1
    [destroy] = findings(report, area="terraform", action="destroy")
    assert destroy == {"area": "terraform", "subject": "minio_s3_bucket.scratch (terraform/30-storage)",
                       "action": "destroy",
                       "severity": "danger", "reason": "removed: destroys the bucket and every object in it"}
    # the storage stage's bucket list (an output: names only) shrinks with it; nothing else changes
    assert [r["title"] for r in report["resources"]] == ["minio_s3_bucket.scratch (terraform/30-storage)",
                                                         "output.buckets (terraform/30-storage)"]
    assert resource(report, "output.buckets (terraform/30-storage)")["action"] == "changed"

    code, markdown, _ = diff(repo, "--format", "markdown")
    assert "> [!CAUTION]" in markdown
    assert "> - **minio_s3_bucket.scratch (terraform/30-storage)** (destroy): removed: destroys the bucket" in markdown


def test_a_whitespace_and_comment_only_change_in_the_worktree_is_no_change(repo: Repo) -> None:
    text = repo.spec.read_text()
    repo.spec.write_text("\n".join(line + "   " if line.strip() else line for line in text.splitlines())
                         .replace("\n  storage:\n", "\n\n  # storage, reformatted\n\n  storage:\n", 1) + "\n\n")
    result = CliRunner().invoke(main, ["diff", "--worktree", str(repo.spec)])  # --base defaults to HEAD
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [f"konoha-gen diff: HEAD ({repo.git('rev-parse', 'HEAD')[:12]}) -> worktree",
                                          "no changes"]


def test_head_and_worktree_exclude_each_other(repo: Repo) -> None:
    result = CliRunner().invoke(main, ["diff", "--head", "HEAD", "--worktree", str(repo.spec)])
    assert result.exit_code == 2
    assert "--head and --worktree exclude each other" in result.stderr


def test_reordering_buckets_and_keys_is_no_change(repo: Repo) -> None:
    repo.edit(replace("        - name: warehouse\n        - name: airflow-logs\n          expireAfterDays: 30\n",
                      "        - name: airflow-logs\n          expireAfterDays: 30\n        - name: warehouse\n"))
    repo.edit(replace("nodes: {cpus: 8, memory: 16Gi, disk: 60Gi}", "nodes: {disk: 60Gi, memory: 16Gi, cpus: 8}"))
    code, stdout, _ = diff(repo, "--base", "HEAD~2")
    assert code == 0, stdout


def test_an_invalid_spec_exits_2_naming_the_revision(repo: Repo) -> None:
    repo.edit(replace("profile: etl", "profile: etll"), "typo")
    code, stdout, stderr = diff(repo)
    assert code == 2
    assert stdout == ""
    first, second = stderr.splitlines()[:2]
    assert first.startswith("konoha-gen diff: the spec is invalid at HEAD (")
    assert re.match(r"HEAD:spec/konoha\.yaml:\d+:\d+: error: spec\.compute\.kyuubi\.servers\[1\]\.profile: unknown "
                    r"Spark profile 'etll'",
                    second), second


def test_an_unknown_revision_exits_2(repo: Repo) -> None:
    result = CliRunner().invoke(main, ["diff", "--base", "no-such-branch", str(repo.spec)])
    assert result.exit_code == 2
    assert result.stderr == "konoha-gen diff: unknown revision 'no-such-branch'\n"


def test_the_markdown_comment_of_a_spark_profile_change(repo: Repo, snapshot: SnapshotAssertion) -> None:
    repo.git("branch", "-q", "-m", "main")
    repo.git("checkout", "-q", "-b", "feature")
    repo.edit(replace("executor: {cores: 1, memory: 768m}", "executor: {cores: 1, memory: 1g}"), "bigger ETL executors")
    result = CliRunner().invoke(main,
                                ["diff", "--base", "main", "--head", "feature", "--format", "markdown", str(repo.spec)])
    assert result.exit_code == 1, result.stderr
    comment = re.sub(r"\(([0-9a-f]{12})\)", "(<sha>)", result.stdout).replace(str(repo.spec), "spec/konoha.yaml")
    assert comment == snapshot(extension_class=MarkdownSnapshot)


# --- compare, mask, impact and render on small trees ---------------------------------------------------------


def tree(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def test_mapping_order_and_unordered_lists_are_not_changes() -> None:
    old = {"a": 1, "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}], "groups": ["a", "b"]}
    new = {"groups": ["b", "a"], "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}], "a": 1}
    assert diff_values(old, new) == []
    assert diff_values({"args": ["a", "b"]}, {"args": ["b", "a"]}) != []  # order is meaning here
    assert diff_values({"table.include.list": "a,b"}, {"table.include.list": "b, a"}) == []


def test_field_paths_name_list_items_by_their_identity() -> None:
    old = {"spec": {"env": [{"name": "X", "value": "1"}], "tags": ["a"]}}
    new = {"spec": {"env": [{"name": "X", "value": "2"}], "tags": ["a", "b"]}}
    changes = diff_values(old, new)
    assert [(format_path(p), o, n) for p, o, n in changes] == [("spec.env[name=X].value", "1", "2"),
                                                               ("spec.tags[b]", MISSING, "b")]
    assert format_path(("config", "slot.name")) == 'config["slot.name"]'
    assert format_path(("spec", Item("name", "a"), 0)) == "spec[name=a][0]"


def test_conf_files_read_key_value_and_key_space_value() -> None:
    assert conf_pairs("# c\nspark.a=1\nspark.b 2\n\nkyuubi.c = x=y\n") == {"spark.a": "1", "spark.b": "2",
                                                                           "kyuubi.c": "x=y"}


SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\nstringData: {password: %s}\n"
VALUES = "auth: {password: %s, existingSecret: %s, passwordKey: %s}\n"
CONNECTOR = '{"name": "c", "config": {"database.password": "${directory:/mnt/secrets/%s:password}"}}'


def test_secret_values_are_masked_and_references_are_not() -> None:
    base = tree({"a/s.yaml": SECRET % "s3cr3t-1", "a/values.yaml": VALUES % ("hunter2", "db", "password"),
                 "connectors/c.json": CONNECTOR % "c"})
    head = tree({"a/s.yaml": SECRET % "s3cr3t-2", "a/values.yaml": VALUES % ("hunter3", "db2", "pass"),
                 "connectors/c.json": CONNECTOR % "d"})
    report = diff_trees(base, head)
    shown = {format_path(f.path): (f.old, f.new) for c in report.changes for f in c.fields}
    assert shown["stringData.password"] == (MASK, MASK)
    assert shown["auth.password"] == (MASK, MASK)
    assert shown["auth.existingSecret"] == ("db", "db2")
    assert shown["auth.passwordKey"] == ("password", "pass")
    assert shown['config["database.password"]'] == ("${directory:/mnt/secrets/c:password}",
                                                    "${directory:/mnt/secrets/d:password}")
    for text in (render.text(report), render.markdown(report), render.as_json(report)):
        assert "hunter" not in text and "s3cr3t" not in text


VAULT_TF = """resource "vault_kv_secret_v2" "x" {
  mount     = "konoha"
  name      = "a"
  data_json = jsonencode({ password = "%s" })
}
"""
MAIN_TF = """resource "minio_s3_bucket" "b" {
  bucket = "%s"
}

resource "random_password" "p" {
  for_each = toset([%s])
  length   = 32
}

resource "minikube_cluster" "this" {
  cpus = tostring(var.cpus)
}
"""


def test_terraform_rules_replace_destroy_and_variable_defaults() -> None:
    base = tree({"tf/main.tf": MAIN_TF % ("raw", '"password", "username"'),
                 "tf/variables.tf": 'variable "cpus" {\n  default = 8\n}\n',
                 "tf/secrets.tf": VAULT_TF % "s3cr3t"})
    head = tree({"tf/main.tf": MAIN_TF % ("bronze", '"password"'),
                 "tf/variables.tf": 'variable "cpus" {\n  default = 4\n}\n',
                 "tf/secrets.tf": VAULT_TF % "n3w"})
    report = diff_trees(base, head)
    got = {(f.subject, f.action, f.severity) for f in report.findings}
    assert ("minio_s3_bucket.b (tf)", "replace", "danger") in got
    assert ('random_password.p["username"] (tf)', "destroy", "danger") in got
    assert ("minikube_cluster.this (tf)", "replace", "danger") in got  # through var.cpus
    [secret] = [c for c in report.changes if c.key == "tf:tf:vault_kv_secret_v2.x"]
    assert [(format_path(f.path), f.old, f.new) for f in secret.fields] == [("data_json", MASK, MASK)]


def test_moving_terraform_blocks_between_files_is_no_change() -> None:
    block = 'resource "minio_s3_bucket" "b" {\n  bucket = "raw"\n}\n'
    other = 'resource "vault_policy" "p" {\n  name = "p"\n}\n'
    base = tree({"tf/a.tf": block + "\n" + other, "tf/b.tf": ""})
    head = tree({"tf/a.tf": other, "tf/b.tf": "# moved\n" + block})
    assert diff_trees(base, head).changes == []


def connector(name: str, **config: str) -> str:
    return json.dumps({"name": name,
                       "config": {"connector.class": "io.debezium.connector.mysql.MySqlConnector", **config}})


def test_connector_rules_dangerous_keys_restarts_and_renames() -> None:
    base = tree({"connectors/a.json": connector("a", **{"topic.prefix": "a", "tasks.max": "1"}),
                 "connectors/b.json": connector("b", **{"slot.name": "b"})})
    head = tree({"connectors/a.json": connector("a", **{"topic.prefix": "a2", "tasks.max": "2"}),
                 "connectors/c.json": connector("c", **{"slot.name": "b"})})
    got = {(f.subject, f.action, f.severity) for f in diff_trees(base, head).findings}
    assert got == {("connector a", "re-snapshot", "danger"), ("connector a", "restart", "info"),
                   ("connector b", "delete", "warning"),
                   ("connector c", "start", "info"), ("connector c", "start", "danger")}


FLUX = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {path: ./out/apps, prune: true}
"""
KUSTOMIZATION = """resources: [release.yaml, vault.yaml]
namespace: ns
configMapGenerator:
- name: web-values
  files: [values.yaml=values-web.yaml]
"""
RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: ns}
spec: {valuesFrom: [{kind: ConfigMap, name: web-values}]}
"""
VSS = """apiVersion: secrets.hashicorp.com/v1beta1
kind: VaultStaticSecret
metadata: {name: db, namespace: ns}
spec: {path: %s, rolloutRestartTargets: [{kind: Deployment, name: web-api}]}
"""


def test_flux_helm_and_rollout_rules_follow_the_kustomize_wiring() -> None:
    base = tree({"clusters/apps.yaml": FLUX, "apps/kustomization.yaml": KUSTOMIZATION, "apps/release.yaml": RELEASE,
                 "apps/values-web.yaml": "replicas: 1\n", "apps/vault.yaml": VSS % "db/web"})
    head = {**base, **tree({"apps/values-web.yaml": "replicas: 2\n", "apps/vault.yaml": VSS % "db/web2"})}
    got = {(f.area, f.subject, f.action) for f in diff_trees(base, head).findings}
    assert got == {("flux", "Kustomization flux-system/apps", "reconcile"), ("helm", "HelmRelease ns/web", "upgrade"),
                   ("workload", "Deployment ns/web-api", "roll")}
    removed = {k: v for k, v in base.items() if k != "clusters/apps.yaml"}
    assert ("kubernetes", "Kustomization flux-system/apps", "delete", "danger") in {
        (f.area, f.subject, f.action, f.severity) for f in diff_trees(base, removed).findings}


def test_markdown_stays_under_the_comment_limit_with_a_note() -> None:
    base = {f"conf/{i:03}.conf": b"k=1\n" for i in range(400)}
    head = {f"conf/{i:03}.conf": b"k=2\n" + b"".join(b"x%d=%d\n" % (j, j) for j in range(30)) for i in range(400)}
    report = diff_trees(base, head)
    comment = render.markdown(report, limit=20_000)
    assert len(comment) <= 20_000
    assert "more resource change(s) are not shown" in comment
    assert comment.count("<details>") < 400
    assert len(render.markdown(report)) <= render.GITHUB_COMMENT_LIMIT


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    report = diff_trees({"a.conf": b"k=1\n"}, {"a.conf": b"k=2\n"})
    assert "\x1b[" in render.text(report, color=True)
    assert "\x1b[" not in render.text(report, color=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(None, to_terminal=True) is True
    assert use_color(None, to_terminal=False) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(None, to_terminal=True) is False
    assert use_color(True, to_terminal=True) is True


def test_readme_and_lock_are_not_resources() -> None:
    assert parse_tree({"README.md": b"x", "konoha.lock.json": b"{}"}) == {}
    assert compare({}, {}) == []
