"""Rules that span sections: unique names, cross-references, disabled components.

Runs after the shape is valid. Each problem points at the referring node and
lists the valid targets, so the fix is one edit away.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from konoha_gen.catalog import CATALOG, KEY_LISTS, METASTORE_CLIENTS, pinned
from konoha_gen.components.airflow import providers_needed
from konoha_gen.components.kafka_connect import DELIVERED_TYPES, OTHER_TRANSFORMS, TIME_TRANSFORMS, TRANSFORM
from konoha_gen.components.registry import with_dashboards
from konoha_gen.errors import Diagnostic
from konoha_gen.keys import spark_key_problem
from konoha_gen.load import LoadedSpec, PathKey
from konoha_gen.model import PlatformDocument
from konoha_gen.model.credentials import credential_fields
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.model.streaming import Source

SPEC: PathKey = ("spec",)


class _Collector:
    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded = loaded
        self.problems: list[Diagnostic] = []

    def error(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.loaded.diagnostic(path, message, hint, key=key))

    def unique(self, names: Iterable[str], path: PathKey, what: str, field: str | None = "name") -> None:
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            where = (*path, index, field) if field else (*path, index)
            if name in seen:
                self.error(where, f"duplicate {what} '{name}' (also at index {seen[name]})", f"{what} names "
                                                                                             "must be unique")
            seen.setdefault(name, index)

    def refers(self, value: str, valid: Iterable[str], path: PathKey, what: str, *, key: bool = False) -> None:
        choices = sorted(set(valid))
        if value in choices:
            return
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        hint += f"valid: {', '.join(choices)}" if choices else f"declare a {what} first"
        self.error(path, f"unknown {what} '{value}'", hint, key=key)

    def requires(self, enabled: bool, path: PathKey, what: str, switch: str, reason: str | None = None) -> None:
        if not enabled:
            self.error(path, f"refers to {what}, which is disabled ({reason or f'{switch}: false'})",
                       f"enable {what} or remove this reference")


def check_references(document: PlatformDocument, loaded: LoadedSpec) -> list[Diagnostic]:
    """All cross-section problems of a shape-valid spec."""
    c = _Collector(loaded)
    _check_uniqueness(document, c)
    _check_storage(document, c)
    _check_compute(document, c)
    _check_streaming(document, c)
    _check_services(document, c)
    _check_tenants(document, c)
    _check_secrets(document, c)
    _check_versions(document, c)
    _check_metastore_clients(document, c)
    _check_key_lists(document, c)
    return c.problems


def _check_uniqueness(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    c.unique((b.name for b in s.storage.object_store.buckets), (*SPEC, "storage", "objectStore", "buckets"), "bucket")
    c.unique(s.lakehouse.namespaces, (*SPEC, "lakehouse", "namespaces"), "namespace", None)
    c.unique((p.name for p in s.compute.spark.profiles), (*SPEC, "compute", "spark", "profiles"), "Spark profile")
    c.unique((k.name for k in s.compute.kyuubi.servers), (*SPEC, "compute", "kyuubi", "servers"), "Kyuubi server")
    c.unique((p.name for p in s.modeling.dbt.projects), (*SPEC, "modeling", "dbt", "projects"), "dbt project")
    c.unique((x.name for x in s.streaming.sources), (*SPEC, "streaming", "sources"), "source")
    c.unique((x.id for x in s.orchestration.airflow.connections), (*SPEC, "orchestration", "airflow", "connections"),
             "connection", "id")
    c.unique((t.name for t in s.tenants), (*SPEC, "tenants"), "tenant")
    c.unique((g.path for g in s.secrets.generate), (*SPEC, "secrets", "generate"), "generated secret", "path")
    c.unique(s.identity.keycloak.groups, (*SPEC, "identity", "keycloak", "groups"), "group", None)
    for index, source in enumerate(s.streaming.sources):
        c.unique(source.tables, (*SPEC, "streaming", "sources", index, "tables"), "table", None)


def _check_storage(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    store = s.storage.object_store
    bucket = s.lakehouse.warehouse.removeprefix("s3a://").split("/", 1)[0]
    c.refers(bucket, (b.name for b in store.buckets), (*SPEC, "lakehouse", "warehouse"), "bucket")
    lake_users = [
        (s.storage.metastore.enabled, ("storage", "metastore")),
        (s.compute.spark.enabled, ("compute", "spark")),
        (s.access.trino.enabled, ("access", "trino")),
        (bool(s.streaming.sources), ("streaming", "sources")),
    ]
    for used, path in lake_users:
        if not used:
            continue
        c.requires(store.enabled, (*SPEC, *path), "the object store", "spec.storage.objectStore.enabled")
        if path != ("storage", "metastore"):
            c.requires(s.storage.metastore.enabled, (*SPEC, *path), "the Hive Metastore",
                       "spec.storage.metastore.enabled")


def _check_compute(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    kyuubi = s.compute.kyuubi
    profiles = [p.name for p in s.compute.spark.profiles]
    if kyuubi.enabled and kyuubi.servers:
        c.requires(s.compute.spark.enabled, (*SPEC, "compute", "kyuubi"), "Spark", "spec.compute.spark.enabled")
    for index, server in enumerate(kyuubi.servers):
        c.refers(server.profile, profiles, (*SPEC, "compute", "kyuubi", "servers", index, "profile"), "Spark profile")
    for key in s.compute.spark.conf:
        if not key.startswith("spark."):
            c.error((*SPEC, "compute", "spark", "conf", key), f"'{key}' is not a Spark property",
                    "Spark properties start with 'spark.'", key=True)
        elif _looks_secret(key):
            c.error((*SPEC, "compute", "spark", "conf", key), f"'{key}' holds a credential; plaintext is refused",
                    "credentials reach Spark through VSO-made Secrets, not spark.conf", key=True)
        elif _has_key_lists(s) and (problem := spark_key_problem(
                key, (s.lakehouse.catalog,), s.compute.spark.version, s.compute.spark.iceberg_version)) is not None:
            c.error((*SPEC, "compute", "spark", "conf", key), problem, key=True)
    dbt = s.modeling.dbt
    servers = [k.name for k in kyuubi.servers]
    share = {k.name: k.share_level for k in kyuubi.servers}
    for index, project in enumerate(dbt.projects if dbt.enabled else ()):
        path = (*SPEC, "modeling", "dbt", "projects", index)
        c.requires(kyuubi.enabled, (*path, "server"), "Kyuubi", "spec.compute.kyuubi.enabled")
        c.refers(project.server, servers, (*path, "server"), "Kyuubi server")
        c.refers(project.schema_, s.lakehouse.namespaces, (*path, "schema"), "lakehouse namespace")
        writer = next((t.name for t in s.tenants if project.schema_ in t.writes), None)
        if writer is not None and share.get(project.server) == "SERVER":
            c.error((*path, "server"), f"dbt project {project.name} would run with tenant {writer}'s Spark profile "
                                       f"(it writes {project.schema_}) on '{project.server}', whose one engine all "
                                       "users share (shareLevel SERVER)",
                    "a session profile applies only when an engine starts, so it would hold for everyone or for "
                    "nobody: run the project on a server with shareLevel USER, GROUP or CONNECTION")


def _key_list_versions(s: PlatformSpec) -> list[tuple[str, str, PathKey]]:
    """(key list, version in force, where the spec sets it) for every upstream key list the checks read."""
    spark = s.compute.spark
    where = {"spark": (*SPEC, "compute", "spark", "version"),
             "iceberg-spark": (*SPEC, "compute", "spark", "icebergVersion")}
    versions = {"spark": spark.version, "iceberg-spark": spark.iceberg_version}
    return [(k.name, versions.get(k.selected_by) or pinned(k.selected_by, s.versions),
             where.get(k.selected_by, (*SPEC, "versions", k.selected_by))) for k in KEY_LISTS]


def _has_key_lists(s: PlatformSpec) -> bool:
    return all(any(k.name == name and k.holds(version) for k in KEY_LISTS)
               for name, version, _ in _key_list_versions(s))


def _check_key_lists(d: PlatformDocument, c: _Collector) -> None:
    """Spark, Kyuubi, Trino and connector settings are checked against the upstream key lists of the versions in
    force (catalog.KEY_LISTS): a version konoha-gen holds no list for is refused rather than checked against another."""
    reported = set()
    for name, version, path in _key_list_versions(d.spec):
        lines = sorted(k.line for k in KEY_LISTS if k.name == name)
        if not any(k.name == name and k.holds(version) for k in KEY_LISTS) and path not in reported:
            reported.add(path)
            c.error(path, f"konoha-gen has no {name} key list for version {version}",
                    f"supported: {', '.join(lines)}; keep the catalogue's version or add the list to konoha_gen/data/",
                    key=path[-2] == "versions")


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in ("password", "secret", "token", "access.key", "credential"))


def _check_streaming(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    if not s.streaming.sources:
        return
    base = (*SPEC, "streaming", "sources")
    c.requires(s.streaming.kafka.enabled, base, "Kafka", "spec.streaming.kafka.enabled")
    c.requires(s.streaming.connect.enabled, base, "Kafka Connect", "spec.streaming.connect.enabled")
    for index, source in enumerate(s.streaming.sources):
        path = (*base, index, "target")
        c.refers(source.target.namespace, s.lakehouse.namespaces, (*path, "namespace"), "lakehouse namespace")
        for field, mapping in (("keys", source.target.keys), ("partitionBy", source.target.partition_by),
                               ("columns", source.target.columns)):
            for table, columns in mapping.items():
                c.refers(table, source.tables, (*path, field, table), "table", key=True)
                if not columns:
                    c.error((*path, field, table), "the column list is empty", "name at least one column or "
                                                                               "remove the entry")
        _check_partitions(source, path, c)


def _check_partitions(source: Source, path: PathKey, c: _Collector) -> None:
    """Each partition transform against the type the chain delivers its column as (components/kafka_connect.py):
    a time transform on a column Iceberg stores as long or string leaves the sink's changelog unpartitioned and
    fails the MERGE's CTAS, so it is refused; so is one on a column whose source type the spec does not declare."""
    delivered = DELIVERED_TYPES[source.engine]
    names = ", ".join(delivered)
    for table, types in source.target.columns.items():
        for column, type_name in types.items():
            c.refers(type_name, delivered, (*path, "columns", table, column), f"{source.engine} temporal type")
    for table, transforms in source.target.partition_by.items():
        declared = source.target.columns.get(table, {})
        for index, entry in enumerate(transforms):
            where = (*path, "partitionBy", table, index)
            match = TRANSFORM.fullmatch(entry.strip())
            if match is None:
                continue  # identity on a column
            transform, column = match.group(1), match.group(2).strip()
            if transform in OTHER_TRANSFORMS:
                continue
            if transform not in TIME_TRANSFORMS:
                c.refers(transform, [*TIME_TRANSFORMS, *OTHER_TRANSFORMS], where, "partition transform")
                continue
            accepted = TIME_TRANSFORMS[transform]
            column_type = declared.get(column)
            if column_type is None:
                c.error(where, f"{transform}({column}) needs a date or timestamp column; the type of {column} is "
                               "not declared",
                        f"declare it in target.columns: {{{table}: {{{column}: <type>}}}} ({source.engine}: {names})")
            elif column_type in delivered and (iceberg := delivered[column_type]) not in accepted:
                c.error(where, f"{transform}({column}): {source.engine} {column_type} arrives in Iceberg as {iceberg} "
                               f"(Debezium time.precision.mode=connect), which {transform} does not accept",
                        f"{transform} takes {' or '.join(accepted)}: partition on another column, or convert "
                        f"{column} at the source")


def _check_services(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    airflow = s.orchestration.airflow
    servers = [k.name for k in s.compute.kyuubi.servers] if s.compute.kyuubi.enabled else []
    for index, conn in enumerate(airflow.connections if airflow.enabled else ()):
        path = (*SPEC, "orchestration", "airflow", "connections", index)
        if conn.kyuubi is not None:
            c.requires(s.compute.kyuubi.enabled, (*path, "kyuubi"), "Kyuubi", "spec.compute.kyuubi.enabled")
            if s.compute.kyuubi.enabled:
                c.refers(conn.kyuubi, servers, (*path, "kyuubi"), "Kyuubi server")
        if conn.trino is not None:
            c.requires(s.access.trino.enabled, (*path, "trino"), "Trino", "spec.access.trino.enabled")
            c.refers(conn.trino, [s.lakehouse.catalog], (*path, "trino"), "Trino catalog")
    providers = providers_needed(s) if airflow.enabled else []
    if providers and airflow.image is None:
        c.error((*SPEC, "orchestration", "airflow", "connections"),
                f"these connections need Airflow provider packages the stock image lacks: {', '.join(providers)}",
                "build an image FROM apache/airflow with them (pip install), push it and set "
                "orchestration.airflow.image: {repository: ..., tag: ...}")
    if s.access.metabase.enabled:
        c.requires(s.access.trino.enabled, (*SPEC, "access", "metabase"), "Trino", "spec.access.trino.enabled")
    dashboards = with_dashboards()  # each dashboard is its component's, on when the component is
    grafana = s.observability.grafana
    for index, name in enumerate(grafana.dashboards if grafana.enabled else ()):
        component = dashboards[name]
        c.requires(component.enabled(s), (*SPEC, "observability", "grafana", "dashboards", index), name,
                   component.switch, component.off_reason(s) if component.off_reason else None)
    if grafana.enabled:
        c.requires(s.observability.metrics.enabled, (*SPEC, "observability", "grafana"), "Prometheus",
                   "spec.observability.metrics.enabled")


def _check_tenants(d: PlatformDocument, c: _Collector) -> None:
    s = d.spec
    servers = [k.name for k in s.compute.kyuubi.servers]
    share = {k.name: k.share_level for k in s.compute.kyuubi.servers}
    keycloak = s.identity.keycloak.enabled
    for index, tenant in enumerate(s.tenants):
        path = (*SPEC, "tenants", index)
        if tenant.kyuubi is not None:
            c.requires(s.compute.kyuubi.enabled, (*path, "kyuubi"), "Kyuubi", "spec.compute.kyuubi.enabled")
            if s.compute.kyuubi.enabled:
                c.refers(tenant.kyuubi, servers, (*path, "kyuubi"), "Kyuubi server")
            if share.get(tenant.kyuubi) == "SERVER":
                c.error((*path, "kyuubi"), f"tenant {tenant.name}'s default Kyuubi server '{tenant.kyuubi}' shares "
                                           "one engine among all users (shareLevel SERVER)",
                        "a tenant's Spark profile (kyuubi.session.conf.profile) applies only when an engine starts, "
                        "so the first tenant would set it for everyone: use a server with shareLevel USER, GROUP "
                        "or CONNECTION")
        for w, namespace in enumerate(tenant.writes):
            c.refers(namespace, s.lakehouse.namespaces, (*path, "writes", w), "lakehouse namespace")
        c.unique(tenant.members, (*path, "members"), "member", None)
        if tenant.members:
            c.requires(keycloak, (*path, "members"), "Keycloak", "spec.identity.keycloak.enabled")


def _check_secrets(d: PlatformDocument, c: _Collector) -> None:
    """A reference into a generated path must name keys that path generates."""
    s = d.spec
    generated = {g.path: set(g.keys) for g in s.secrets.generate}
    for field in credential_fields(d.spec):
        path, ref, needed = (*SPEC, *field.path), field.ref, set(field.keys)
        vault_path, key = ref.path, ref.key
        if vault_path not in generated:
            continue  # a manual secret: the inventory lists it for the operator
        wanted = {key} if key else needed
        missing = sorted(wanted - generated[vault_path])
        if missing:
            c.error(path, f"vault:{vault_path} is generated without key(s) {', '.join(missing)}",
                    f"add them to the keys of secrets.generate path {vault_path}")


def _check_versions(d: PlatformDocument, c: _Collector) -> None:
    for component in d.spec.versions:
        if component not in CATALOG:
            close = difflib.get_close_matches(component, CATALOG, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(sorted(CATALOG))}"
            c.error((*SPEC, "versions", component), f"unknown component '{component}'", hint, key=True)


def _check_metastore_clients(d: PlatformDocument, c: _Collector) -> None:
    """The metastore in force must be one its clients can call (catalog.METASTORE_CLIENTS): Spark and the Iceberg
    sink talk to it with a Hive 2.3 client. `spec.versions.hive-metastore` moves the chart only; the release the
    image runs is `spec.storage.metastore.version`, else the catalogue's app version."""
    s = d.spec
    rule = METASTORE_CLIENTS
    if not s.storage.metastore.enabled or not (s.compute.spark.enabled or s.streaming.sources):
        return
    version = s.storage.metastore.version or CATALOG[rule.server].app_version
    if rule.allows(version):
        return
    where = (*SPEC, "storage", "metastore", *(("version",) if s.storage.metastore.version else ()))
    c.error(where, f"Hive Metastore {version} cannot serve {rule.clients} ({rule.client_version}): {rule.why}",
            f"use a release below {rule.below}, e.g. the catalogue's {CATALOG[rule.server].app_version}")
