"""out/dbt/profiles.yml: one profile per dbt project, pointing at its Kyuubi server, holding no credential."""

from __future__ import annotations

import yaml

from konoha_gen.emit.dbt import DBT_SPARK_KEYS
from tests.conftest import ROOT
from tests.helpers import edit_spec
from tests.test_resolve import platform_of


def test_each_project_targets_its_kyuubi_servers_thrift_service() -> None:
    profiles = yaml.safe_load((ROOT / "out" / "dbt" / "profiles.yml").read_text())
    assert list(profiles) == ["analytics"]
    target = profiles["analytics"]["outputs"][profiles["analytics"]["target"]]
    assert (target["type"], target["method"], target["port"], target["schema"]) == ("spark", "thrift", 10009, "marts")
    assert target["host"] == "kyuubi-interactive-thrift-binary.konoha-compute.svc.cluster.local"
    assert set(target) <= DBT_SPARK_KEYS
    assert "password" not in target and target["user"].startswith("{{ env_var(")


def test_a_second_project_on_another_server_gets_its_own_profile(spec_text: str) -> None:
    def add(data: dict) -> None:  # type: ignore[type-arg]
        data["spec"]["modeling"]["dbt"]["projects"].append({"name": "adhoc", "server": "interactive",
                                                            "schema": "staging"})

    from konoha_gen.emit.dbt import emit

    [artifact] = emit(platform_of(edit_spec(spec_text, add)))
    profiles = yaml.safe_load(artifact.content)
    assert profiles["adhoc"]["outputs"]["interactive"]["host"] == \
        "kyuubi-interactive-thrift-binary.konoha-compute.svc.cluster.local"
    assert profiles["adhoc"]["outputs"]["interactive"]["schema"] == "staging"
