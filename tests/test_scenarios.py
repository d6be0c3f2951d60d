"""Golden scenarios: tests/scenarios/<name>/konoha.yaml builds to exactly tests/scenarios/<name>/expected/.

Every folder under tests/scenarios/ is a case (adding a scenario is adding a folder); `make scenarios`
regenerates the expected trees. Beside the byte comparison, a few rules per scenario state what the
scenario is for, so a regenerated tree that loses its point fails even when it is self-consistent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from konoha_gen.cli import main
from tests.conftest import ROOT
from tests.helpers import contents

SCENARIOS = ROOT / "tests" / "scenarios"
REGENERATE = "run `make scenarios` and review the diff (git diff -- tests/scenarios) before committing it"


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def build(spec: Path, out: Path) -> dict[str, bytes]:
    """What `konoha-gen build SPEC --out OUT` writes, as path -> bytes."""
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, f"{spec.relative_to(ROOT)} does not build:\n{result.output}"
    return contents(out)


def tree_differences(actual: dict[str, bytes], expected: Path) -> list[str]:
    """One line per path where the build and the expected tree disagree; empty when they are identical."""
    if not expected.is_dir():
        return [f"{expected.relative_to(ROOT) if expected.is_relative_to(ROOT) else expected}: no expected tree"]
    want = contents(expected)
    lines = [f"differs  {path}" for path in sorted(actual.keys() & want.keys()) if actual[path] != want[path]]
    lines += [f"missing  {path} (built, not in expected/)" for path in sorted(actual.keys() - want.keys())]
    lines += [f"extra    {path} (in expected/, not built)" for path in sorted(want.keys() - actual.keys())]
    return lines


def assert_matches(name: str, actual: dict[str, bytes], expected: Path) -> None:
    differences = tree_differences(actual, expected)
    assert not differences, (f"scenario {name}: the build differs from its expected tree in {len(differences)} "
                             "path(s):\n  " + "\n  ".join(differences) + f"\nIf the change is intended, {REGENERATE}.")


class Builds:
    """Each scenario built at most once, on first use, into a temporary folder: builds[name] is path -> bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trees: dict[str, dict[str, bytes]] = {}

    def __getitem__(self, name: str) -> dict[str, bytes]:
        if name not in self.trees:
            self.trees[name] = build(SCENARIOS / name / "konoha.yaml", self.root / name)
        return self.trees[name]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory.mktemp("scenarios"))


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_builds_to_its_expected_tree(name: str, built: Builds) -> None:
    folder = SCENARIOS / name
    assert (folder / "konoha.yaml").is_file(), f"{folder.relative_to(ROOT)} has no konoha.yaml"
    assert_matches(name, built[name], folder / "expected")


def test_the_issue_scenarios_exist() -> None:
    issue = {"minimal", "cdc-mysql-only", "vault-ha", "three-tenants", "bare", "airflow-git-ssh"}
    assert issue <= set(scenario_names())


def test_expected_trees_hold_nothing_pytest_or_the_linters_would_pick_up() -> None:
    python = sorted(p.relative_to(ROOT).as_posix() for p in SCENARIOS.rglob("*.py"))
    assert python == [], "generated trees must not hold Python files (pytest would collect them, ruff lint them)"


# The comparison itself can fail: a missing, a hand-edited and a stale expected tree.


def test_a_scenario_without_expected_fails(tmp_path: Path, built: Builds) -> None:
    with pytest.raises(AssertionError) as failure:
        assert_matches("minimal", built["minimal"], tmp_path / "expected")
    assert "no expected tree" in str(failure.value)
    assert "make scenarios" in str(failure.value)


def test_an_edited_expected_tree_names_every_differing_missing_and_extra_path(tmp_path: Path, built: Builds) -> None:
    expected = tmp_path / "expected"
    shutil.copytree(SCENARIOS / "minimal" / "expected", expected)
    (expected / "README.md").write_text((expected / "README.md").read_text() + "a hand edit\n")
    (expected / "spark" / "small.spark-defaults.conf").unlink()
    (expected / "notes.txt").write_text("not generated\n")
    with pytest.raises(AssertionError) as failure:
        assert_matches("minimal", built["minimal"], expected)
    message = str(failure.value)
    assert "in 3 path(s)" in message
    assert "differs  README.md" in message
    assert "missing  spark/small.spark-defaults.conf" in message
    assert "extra    notes.txt" in message
    assert "run `make scenarios` and review the diff" in message


def test_a_spec_change_makes_the_expected_tree_stale(tmp_path: Path) -> None:
    # The same layout as the repository (a .git beside tests/), so the headers name the same spec path.
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "tests" / "scenarios" / "minimal"
    shutil.copytree(SCENARIOS / "minimal", folder)
    assert_matches("minimal", build(folder / "konoha.yaml", tmp_path / "out-same"), folder / "expected")
    spec = folder / "konoha.yaml"
    spec.write_text(spec.read_text().replace("profile: small            # the default profile",
                                             "profile: small\n          idleTimeout: PT5M"))
    with pytest.raises(AssertionError) as failure:
        assert_matches("minimal", build(spec, tmp_path / "out-changed"), folder / "expected")
    message = str(failure.value)
    assert "differs  konoha.lock.json" in message  # the spec's checksum
    assert "differs  spark/kyuubi-sql.kyuubi-defaults.conf" in message
    assert "missing" not in message and "extra" not in message


# What each scenario is for.


def documents(tree: dict[str, bytes], path: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(tree[path].decode()) if d]


def folders(tree: dict[str, bytes]) -> set[str]:
    return {str(Path(path).parent) for path in tree}


def test_minimal_has_no_streaming_orchestration_or_bi(built: Builds) -> None:
    tree = built["minimal"]
    assert not [f for f in folders(tree) if f.startswith(("platform/kafka", "platform/airflow", "platform/metabase"))]
    assert not [p for p in tree if p.startswith(("connectors/", "sql/"))]
    kustomizations = tree["clusters/mini/kustomization.yaml"].decode()
    assert "streaming" not in kustomizations and "orchestration" not in kustomizations
    assert "strimzi" not in tree["infrastructure/sources/sources.yaml"].decode()
    # Kyuubi is on by default; the scenario gives it its one server.
    releases = [p for p in tree if p.startswith("platform/kyuubi/helmrelease-")]
    assert releases == ["platform/kyuubi/helmrelease-kyuubi-sql.yaml"]


def test_bare_spec_builds_with_kyuubi_on_and_no_server_deploying_nothing(built: Builds) -> None:
    """Issue 14 M4: the documented minimal spec builds; Kyuubi without servers has no release or monitor."""
    tree = built["bare"]
    assert not [p for p in tree if p.startswith("platform/kyuubi/")]
    monitors = documents(tree, "platform/monitoring/monitors.yaml")
    names = {d["metadata"]["name"] for d in monitors}
    assert "kyuubi" not in names and "spark-driver" not in names


def test_airflow_git_ssh_mounts_the_deploy_key_and_known_hosts(built: Builds) -> None:
    values = documents(built["airflow-git-ssh"], "platform/airflow/values-airflow.yaml")[0]
    git_sync = values["dags"]["gitSync"]
    assert git_sync["repo"] == "ssh://git@github.com/acme/dags.git"
    assert git_sync["sshKeySecret"] == "airflow-dags-deploy-key"
    assert git_sync["knownHosts"].startswith("github.com ssh-ed25519 ")


def test_cdc_mysql_only_captures_through_debezium_mysql_alone(built: Builds) -> None:
    tree = built["cdc-mysql-only"]
    assert sorted(p for p in tree if p.startswith("sql/")) == ["sql/audit.prepare.sql", "sql/orders.prepare.sql"]
    for script in ("sql/audit.prepare.sql", "sql/orders.prepare.sql"):
        text = tree[script].decode()
        assert "mysql -h" in text and "PUBLICATION" not in text.upper() and "psql" not in text
    debezium = [json.loads(tree[p]) for p in tree if p.endswith(".debezium.json")]
    assert len(debezium) == 2
    assert {c["config"]["connector.class"] for c in debezium} == {"io.debezium.connector.mysql.MySqlConnector"}
    connect = documents(tree, "platform/kafka-connect/manifests.yaml")
    sources = [d for d in connect if d["kind"] == "KafkaConnector" and "debezium" in d["spec"]["class"]]
    assert {d["spec"]["class"] for d in sources} == {"io.debezium.connector.mysql.MySqlConnector"}
    (cluster,) = [d for d in connect if d["kind"] == "KafkaConnect"]
    plugins = [p["name"] for p in cluster["spec"]["build"]["plugins"]]
    assert sorted(plugins) == ["debezium-mysql", "iceberg-sink"]
    # upsert: the orders source lands change logs and is merged; the append-only audit source is not.
    kyuubi = documents(tree, "platform/kyuubi/manifests.yaml")
    jobs = {d["metadata"]["name"] for d in kyuubi if d["kind"] == "CronJob"}
    assert jobs == {"cdc-merge-orders"}
    audit_sink = json.loads(tree["connectors/audit.iceberg-sink.json"])["config"]
    assert audit_sink["iceberg.tables"] == "audit.audit_audit_events"
    orders_sink = json.loads(tree["connectors/orders.iceberg-sink.json"])["config"]
    assert all(t.endswith("_changelog") for t in orders_sink["iceberg.tables"].split(","))


def _raft(server: dict[str, Any]) -> dict[str, Any]:
    """The `storage "raft"` block of the server's HCL config (python-hcl2 keeps the quotes of labels and strings)."""
    (storage,) = hcl2.loads(server["ha"]["raft"]["config"])["storage"]
    raft: dict[str, Any] = storage['"raft"']
    return raft


def _assert_raft_on_a_volume(server: dict[str, Any], replicas: int) -> None:
    assert server["ha"]["enabled"] is True
    assert server["ha"]["raft"]["enabled"] is True and server["ha"]["raft"]["setNodeId"] is True
    assert server["ha"]["replicas"] == replicas
    assert not server.get("dev", {}).get("enabled", False)
    assert "standalone" not in server  # standalone is a one-node Raft cluster, not the chart's file-storage mode
    assert server["dataStorage"]["enabled"] is True and server["dataStorage"]["size"]
    assert _raft(server)["path"] == '"/vault/data"'
    # Ready while sealed and uninitialised, so Flux's wait completes and the bootstrap can init and unseal it
    readiness = server["readinessProbe"]
    assert readiness["enabled"] is True
    assert readiness["path"].startswith("/v1/sys/health?")
    assert {"sealedcode=204", "uninitcode=204", "standbyok=true"} <= set(readiness["path"].split("?", 1)[1].split("&"))


def test_vault_ha_runs_three_raft_replicas(built: Builds) -> None:
    server = yaml.safe_load(built["vault-ha"]["platform/vault/values-vault.yaml"])["server"]
    _assert_raft_on_a_volume(server, 3)
    # each follower joins through every server's stable StatefulSet name
    joins = [j["leader_api_addr"] for j in _raft(server)["retry_join"]]
    assert joins == [f'"http://vault-{i}.vault-internal:8200"' for i in range(3)]
    # The reference platform (mode: standalone, the default) runs one Raft node on a volume, with no one to join.
    reference = yaml.safe_load((ROOT / "out" / "platform" / "vault" / "values-vault.yaml").read_text())["server"]
    _assert_raft_on_a_volume(reference, 1)
    assert "retry_join" not in _raft(reference)


def test_three_tenants_each_have_a_kyuubi_server_with_its_own_share_level(built: Builds) -> None:
    tree = built["three-tenants"]
    releases = sorted(p for p in tree if p.startswith("platform/kyuubi/helmrelease-"))
    assert len(releases) == 3
    levels = {}
    for release in releases:
        (document,) = documents(tree, release)
        name = document["metadata"]["name"]
        values = yaml.safe_load(tree[f"platform/kyuubi/values-{name}.yaml"])
        lines = values["kyuubiConf"]["files"]["kyuubi-defaults.conf"].splitlines()
        conf = dict(line.split("=", 1) for line in lines)
        levels[name] = conf["kyuubi.engine.share.level"]
        standalone = tree[f"spark/{name}.kyuubi-defaults.conf"].decode()
        assert standalone.count(f"kyuubi.engine.share.level={levels[name]}\n") == 1
    assert levels == {"kyuubi-adhoc": "CONNECTION", "kyuubi-reports": "USER", "kyuubi-science": "GROUP"}
    keycloak = tree["terraform/20-identity/keycloak.tf"].decode()
    assert all(f'name     = "tenant-{tenant}"' in keycloak for tenant in ("finance", "marketing", "science"))
