"""The resolved model: one immutable Platform, the only input of every emitter and check.

`konoha_gen.resolve` computes it from the validated spec; every derived name (namespace, Service host
and port, Secret name, connector, topic, slot, table) is a field here, so emitters never invent one and
two emitters that must agree read the same field. The naming rules shared by resolve and the emitters
(Secret names, Vault paths a component reads) live here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from konoha_gen.catalog import Upstream
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.names import lake_user_path
from konoha_gen.stages import STAGES

#: Layers in the order Flux applies them (issue: GitOps delivery).
#: Operators come first so that every custom resource of a later layer finds its CRD (kustomize-controller dry-runs
#: a whole layer before applying any of it); identity (Keycloak) follows security (Vault) because Keycloak can only
#: start once the Vault stage of the bootstrap has written its secrets.
LAYERS = ("operators", "security", "identity", "storage", "metastore", "streaming", "compute", "access",
          "orchestration", "observability")
#: Where Flux runs, and the Secrets it reads (the GitOps repository credentials).
FLUX_NAMESPACE = "flux-system"


@dataclass(frozen=True)
class Service:
    name: str
    namespace: str
    port: int

    @property
    def host(self) -> str:
        return f"{self.name}.{self.namespace}.svc.cluster.local"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Component:
    """Something the platform deploys (or configures), with its place in the graph."""

    name: str
    title: str
    layer: str
    namespace: str
    depends_on: tuple[str, ...]
    service: Service | None = None
    upstream: Upstream | None = None  # with spec.versions applied
    workloads: tuple[tuple[str, str], ...] = ()  # (kind, name) of the Deployments/StatefulSets its charts create
    deployed: bool = True  # False for configuration-only components (Spark profiles, dbt profiles): no manifests

    @property
    def folder(self) -> str:
        """Where its manifests live in out/: operators under infrastructure/, the rest under platform/."""
        return f"{'infrastructure' if self.layer == 'operators' else 'platform'}/{self.name}"


@dataclass(frozen=True)
class Reader:
    """One consumer of a Vault secret and the Kubernetes Secret VSO makes for it."""

    component: str
    namespace: str | None  # None: read by Terraform (or at bootstrap), not through VSO
    secret_name: str | None
    keys: tuple[str, ...]
    templates: tuple[tuple[str, str], ...] = ()  # extra Secret keys the consumer expects, as VSO Go templates
    secret_type: str = "Opaque"

    @property
    def via_vso(self) -> bool:
        return self.namespace is not None and self.component != "flux"


@dataclass(frozen=True)
class OidcClient:
    """A Keycloak OpenID Connect client of one web component; Terraform stores its secret in Vault."""

    component: str
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    web_origins: tuple[str, ...]
    vault_path: str  # keys client-id, client-secret


@dataclass(frozen=True)
class WebUi:
    """A browser-facing UI, routed by the ingress controller over HTTPS at https://<host>/."""

    component: str
    host: str
    service: Service  # the backend Service the Ingress routes to

    @property
    def url(self) -> str:
        return f"https://{self.host}"


@dataclass(frozen=True)
class VaultRole:
    """The Vault Kubernetes-auth role (and policy of the same name) of one consuming workload."""

    name: str
    component: str
    namespace: str
    service_account: str  # the ServiceAccount VSO authenticates as for this workload
    paths: tuple[str, ...]  # KV paths it may read, and nothing else

    @property
    def policy(self) -> str:
        return self.name


@dataclass(frozen=True)
class SecretEntry:
    path: str  # under the KV mount
    keys: tuple[str, ...]
    readers: tuple[Reader, ...]
    generated: bool  # Terraform creates it with random values; else an operator writes it
    length: int = 32
    #: keys Terraform writes with a fixed, non-secret value instead of a random one (a database's login name must
    #: be its CloudNativePG owner: the instance manager refuses "wrong username ... expected ...")
    fixed: tuple[tuple[str, str], ...] = ()

    @property
    def origin(self) -> str:
        return "generated" if self.generated else "manual"


@dataclass(frozen=True)
class Database:
    """A CloudNativePG cluster owned by one component."""

    name: str
    owner: str
    namespace: str
    size: str
    service: Service
    database: str  # database name inside the cluster
    credentials_secret: str  # basic-auth Secret (username, password) made by VSO from Vault databases/<owner>


@dataclass(frozen=True)
class LakehouseWiring:
    catalog: str
    bucket: str
    warehouse: str  # s3a://bucket/prefix/: the one warehouse URI (Spark, the Iceberg sink; the metastore: its bucket)
    s3_endpoint: str  # http://minio...:9000
    metastore_uri: str  # thrift://hive-metastore...:9083
    namespaces: tuple[str, ...]
    namespaces_sql: str  # CREATE NAMESPACE IF NOT EXISTS for each, run by the namespaces Job
    namespaces_job: str  # lakehouse-namespaces-<digest of the SQL>: a changed SQL is a new Job


@dataclass(frozen=True)
class KyuubiServer:
    name: str
    release: str  # HelmRelease name; the chart names Services <release>-thrift-binary / <release>-rest
    share_level: str
    profile: str
    idle_timeout: str
    replicas: int
    service: Service
    rest_port: int
    engine_service_account: str


@dataclass(frozen=True)
class DbtTarget:
    name: str
    server: str
    host: str
    port: int
    schema: str
    session_profile: str | None = None  # the tenant writing `schema`: its spark.env applies to the project's sessions


@dataclass(frozen=True)
class CdcTable:
    table: str  # schema.table in the source database
    topic: str
    sink_table: str  # namespace.table the Iceberg sink appends to (the change log when upserting)
    current_table: str | None  # namespace.table maintained by MERGE when upserting
    keys: tuple[str, ...]  # empty: the source's primary key
    partition_by: tuple[str, ...]


@dataclass(frozen=True)
class CdcSource:
    name: str
    engine: str
    host: str
    port: int
    database: str
    credentials_path: str
    secret_name: str
    snapshot: str
    topic_prefix: str
    source_connector: str
    sink_connector: str
    slot: str | None
    publication: str | None
    server_id: int | None
    schema_history_topic: str | None
    heartbeat_topic: str
    namespace: str  # lakehouse namespace
    upsert: bool
    tables: tuple[CdcTable, ...]
    merge_server: str | None = None  # Kyuubi server that runs the MERGE into the current-state tables (upsert only)

    @property
    def merge_job(self) -> str:
        """The CronJob (and its ConfigMap) that runs the upsert MERGE."""
        return f"cdc-merge-{self.name}"


@dataclass(frozen=True)
class ConnectPlugin:
    name: str  # Strimzi plugin name
    title: str
    archive: str  # Strimzi artifact type: tgz, zip or jar
    url: str
    sha512: str | None


@dataclass(frozen=True)
class Topic:
    """A topic a connector writes or reads, declared as a KafkaTopic (brokers create none on their own)."""

    topic: str
    purpose: str
    config: tuple[tuple[str, str | int], ...] = ()

    @property
    def resource_name(self) -> str:
        """KafkaTopic names are DNS subdomains; spec.topicName keeps the real name."""
        return re.sub(r"^[^a-z0-9]+", "", self.topic.lower().replace("_", "-"))


@dataclass(frozen=True)
class KafkaWiring:
    cluster: str
    namespace: str
    bootstrap: Service
    connect: str
    connect_api: Service
    connect_group: str
    connect_topics: tuple[str, str, str]  # configs, offsets, status
    control_topic: str
    image: str  # where Strimzi pushes the Connect image it builds with the plugins
    plugins: tuple[ConnectPlugin, ...]
    topics: tuple[Topic, ...]  # every topic a connector uses
    metrics_configmap: MappingProxyType[str, str]  # component -> ConfigMap of its JMX exporter rules
    secrets_dir: str = "/mnt/secrets"  # VSO Secrets are mounted at <secrets_dir>/<secret name>/<key>

    def secret_dir(self, secret_name: str) -> str:
        """The directory DirectoryConfigProvider reads: `${directory:<dir>:<key>}` in connector configs."""
        return f"{self.secrets_dir}/{secret_name}"


@dataclass(frozen=True)
class Tenant:
    name: str
    namespace: str
    group: str
    members: tuple[str, ...]
    kyuubi: str | None
    writes: tuple[str, ...]


@dataclass(frozen=True)
class Platform:
    """The resolved model: the only input of every emitter."""

    name: str
    spec_file: str  # as shown in generated headers
    spec_sha256: str
    labels: MappingProxyType[str, str]
    spec: PlatformSpec  # validated settings (sizes, flags) for emitters; names come from the fields below
    components: tuple[Component, ...]  # topologically ordered
    secrets: tuple[SecretEntry, ...]
    databases: tuple[Database, ...]
    lakehouse: LakehouseWiring | None
    kyuubi: tuple[KyuubiServer, ...]
    dbt: tuple[DbtTarget, ...]
    kafka: KafkaWiring | None
    sources: tuple[CdcSource, ...]
    tenants: tuple[Tenant, ...]
    vault_roles: tuple[VaultRole, ...]
    oidc_clients: tuple[OidcClient, ...]
    web_uis: tuple[WebUi, ...]
    dashboards: tuple[str, ...]  # observability.grafana.dashboards, when Grafana and Prometheus run

    @property
    def platform_sql_server(self) -> KyuubiServer | None:
        """The Kyuubi server the platform's own SQL runs through (lakehouse namespaces, upsert MERGEs without a
        writing tenant): the first SERVER-share server (one long-lived engine), else the first server."""
        return platform_sql_server(self.kyuubi)

    def web_ui(self, component: str) -> WebUi:
        return next(w for w in self.web_uis if w.component == component)

    @property
    def issuer(self) -> str:
        """The realm's issuer as browsers and tokens name it (Keycloak's frontend URL)."""
        return f"{self.web_ui('keycloak').url}/realms/{self.spec.identity.keycloak.realm}"

    @property
    def port_forwards(self) -> tuple[tuple[Component, Service, int], ...]:
        """(component, its Service, local port) of every component a Terraform provider addresses."""
        ports = {stage.server: stage.local_port for stage in STAGES if stage.server and stage.local_port}
        return tuple((c, c.service, ports[c.name]) for c in self.components
                     if c.name in ports and c.service is not None)

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.components)

    @property
    def git_auth_secret(self) -> str | None:
        """The flux-system Secret holding the GitOps repository credentials, when the spec names them."""
        auth = self.spec.gitops.auth
        return self.secret_for("flux", auth.path).secret_name if auth else None

    def lake_secret(self, component: str) -> Reader:
        """The Secret holding `component`'s own MinIO access key (Vault minio/users/<component>)."""
        return self.secret_for(component, lake_user_path(component))

    def secret_for(self, component: str, path: str) -> Reader:
        """The Kubernetes Secret through which `component` reads Vault `path`."""
        return secret_for(self.secrets, component, path)


def secret_for(secrets: tuple[SecretEntry, ...], component: str, path: str) -> Reader:
    """The reader `component` of Vault `path` in the inventory."""
    entry = next(e for e in secrets if e.path == path)
    return next(r for r in entry.readers if r.component == component)


def platform_sql_server(servers: tuple[KyuubiServer, ...]) -> KyuubiServer | None:
    """The first SERVER-share server (one long-lived engine), else the first server."""
    candidates = [k for k in servers if k.share_level == "SERVER"] or list(servers)
    return candidates[0] if candidates else None
