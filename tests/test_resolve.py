"""The resolved Platform: derived names computed once, the inventory, the graph."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from konoha_gen.load import load_text
from konoha_gen.resolve import resolve
from konoha_gen.resolved import LAYERS, Platform
from konoha_gen.validate import validate
from tests.conftest import SPEC
from tests.helpers import edit_spec


def platform_of(text: str) -> Platform:
    loaded = load_text(text.encode(), "konoha.yaml")
    return resolve(validate(loaded), loaded, "konoha.yaml")


def reference() -> Platform:
    return platform_of(SPEC.read_text())


def test_lakehouse_wiring_is_derived_once_from_the_services() -> None:
    p = reference()
    assert p.lakehouse is not None
    minio, hms = p.component("minio").service, p.component("hive-metastore").service
    assert minio is not None and hms is not None
    assert p.lakehouse.s3_endpoint == f"http://{minio.host}:{minio.port}"
    assert p.lakehouse.metastore_uri == f"thrift://{hms.host}:9083"
    assert (p.lakehouse.bucket, p.lakehouse.warehouse) == ("warehouse", "s3a://warehouse/")


def test_dbt_targets_point_at_their_kyuubi_servers_service() -> None:
    p = reference()
    servers = {k.name: k for k in p.kyuubi}
    assert [(t.name, t.host, t.port, t.schema) for t in p.dbt] == [
        ("analytics", servers["interactive"].service.host, 10009, "marts")]
    assert servers["interactive"].service.host == "kyuubi-interactive-thrift-binary.konoha-compute.svc.cluster.local"


def test_cdc_names_follow_upstream_rules() -> None:
    shop, billing = reference().sources
    assert (shop.slot, shop.publication, shop.server_id) == ("konoha_shop", "konoha_shop", None)
    assert billing.slot is None and billing.server_id is not None and 1 <= billing.server_id < 2**32
    assert billing.schema_history_topic == "billing.schema-history"
    assert [t.topic for t in shop.tables] == ["shop.public.customers", "shop.public.orders", "shop.public.products"]
    orders = shop.tables[1]
    assert (orders.sink_table, orders.current_table) == ("raw.shop_public_orders_changelog", "raw.shop_public_orders")
    assert (orders.keys, orders.partition_by) == (("order_id",), ("days(created_at)",))
    assert shop.secret_name == reference().secret_for("kafka-connect", "sources/shop").secret_name


def test_the_secrets_inventory_lists_readers_and_origin() -> None:
    inventory = {e.path: e for e in reference().secrets}
    shop = inventory["sources/shop"]
    assert (shop.keys, shop.origin) == (("password", "username"), "manual")
    assert [(r.component, r.namespace, r.secret_name) for r in shop.readers] == [
        ("kafka-connect", "konoha-streaming", "kafka-connect-sources-shop")]
    root = inventory["minio/root"]
    assert root.origin == "generated"
    assert [(r.component, r.secret_name) for r in root.readers] == [("minio", "minio-root"), ("terraform", None)]
    assert inventory["airflow/webserver"].keys == ("secret-key",)
    assert {p for p in inventory if p.startswith("minio/users/")} == {
        "minio/users/hive-metastore", "minio/users/kafka-connect", "minio/users/kyuubi", "minio/users/trino"}


def _assert_ordered(p: Platform) -> None:
    seen: set[str] = set()
    for component in p.components:
        assert set(component.depends_on) <= seen, component.name
        seen.add(component.name)


def test_the_dependency_graph_orders_the_reference_platform() -> None:
    p = reference()
    _assert_ordered(p)
    layers = [LAYERS.index(c.layer) for c in p.components]
    assert layers == sorted(layers)  # the reference platform applies layer by layer
    names = [c.name for c in p.components]
    # VSO (with its CRDs) is an operator and needs nothing; Vault's folder holds the VaultConnection, so Vault comes
    # after it; Keycloak reads its secrets from Vault, and MinIO's console logs in through Keycloak.
    assert names.index("vault-secrets-operator") < names.index("vault") < names.index("keycloak") < names.index("minio")
    assert names.index("minio") < names.index("hive-metastore")
    assert names.index("hive-metastore") < names.index("kafka-connect")
    assert p.component("vault-secrets-operator").depends_on == ()
    assert p.component("vault").depends_on == ("vault-secrets-operator",)
    assert (p.component("vault-secrets-operator").layer, p.component("vault").layer) == ("operators", "security")
    assert (p.component("keycloak").layer, p.component("keycloak").namespace) == ("identity", "konoha-identity")
    assert LAYERS.index("security") + 1 == LAYERS.index("identity")
    # every Vault reader depends on Vault too (its VaultAuth names the VaultConnection beside Vault)
    assert p.component("airflow").depends_on == ("cloudnative-pg", "keycloak", "kyuubi", "trino", "vault",
                                                 "vault-secrets-operator")


SWITCHES = {
    "keycloak": ("identity", "keycloak"),
    "kyuubi": ("compute", "kyuubi"),
    "trino": ("access", "trino"),
    "metabase": ("access", "metabase"),
    "airflow": ("orchestration", "airflow"),
    "metrics": ("observability", "metrics"),
    "grafana": ("observability", "grafana"),
    "dbt": ("modeling", "dbt"),
}


def _disable(data: dict, off: set[str]) -> None:  # type: ignore[type-arg]
    spec = data["spec"]
    for name in off:
        section, key = SWITCHES[name]
        spec.setdefault(section, {}).setdefault(key, {})["enabled"] = False
    # remove the references a disabled component would leave dangling
    if "kyuubi" in off:
        spec["modeling"]["dbt"]["enabled"] = False
        for tenant in spec["tenants"]:
            tenant.pop("kyuubi", None)
        for source in spec["streaming"]["sources"]:  # nothing could run the upsert MERGE
            source["target"]["upsert"] = False
    if "keycloak" in off:
        for tenant in spec["tenants"]:
            tenant["members"] = []
    if "trino" in off:
        spec["access"]["metabase"]["enabled"] = False
    if "metrics" in off:
        spec["observability"]["grafana"]["enabled"] = False
    dashboards = spec["observability"]["grafana"]["dashboards"]
    dashboards[:] = [d for d in dashboards if d not in off]
    connections = spec["orchestration"]["airflow"]["connections"]
    connections[:] = [c for c in connections if not ({"kyuubi", "trino"} & off & set(c))]


@settings(max_examples=25, deadline=None)
@given(st.sets(st.sampled_from(sorted(SWITCHES))))
def test_any_combination_of_components_resolves_in_dependency_order(off: set[str]) -> None:
    text = edit_spec(SPEC.read_text(), lambda data: _disable(data, off))
    p = platform_of(text)
    _assert_ordered(p)
    names = {c.name for c in p.components}
    for name in off & {"keycloak", "kyuubi", "trino", "metabase", "airflow", "dbt"}:
        assert name not in names
    for component in p.components:
        assert set(component.depends_on) <= names
    assert platform_of(text) == p  # resolving twice gives an equal model


def test_disabling_streaming_drops_its_components(tmp_path: Path) -> None:
    def off(data: dict) -> None:  # type: ignore[type-arg]
        data["spec"]["streaming"]["kafka"]["enabled"] = False
        data["spec"]["streaming"]["sources"] = []
        data["spec"]["observability"]["grafana"]["dashboards"].remove("kafka")

    p = platform_of(edit_spec(SPEC.read_text(), off))
    assert not p.has("kafka") and not p.has("kafka-connect") and not p.has("strimzi")
    assert p.kafka is None and p.sources == ()
