"""Stage 3: validated spec -> one immutable Platform that every emitter reads.

Every derived name (namespace, Service host and port, Secret name, connector,
topic, slot, table) is computed here, once. Emitters never invent a name;
two emitters that must agree read the same field of the Platform.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType

from konoha_gen.catalog import CATALOG, CONNECT_PLUGINS, Upstream
from konoha_gen.catalog import pinned as pinned_version
from konoha_gen.errors import Diagnostic, KonohaError
from konoha_gen.load import LoadedSpec
from konoha_gen.model import PlatformDocument
from konoha_gen.model.common import split_vault_ref
from konoha_gen.model.credentials import credential_fields
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.model.streaming import DEFAULT_PORTS, PluginArtifact

#: Layers in the order Flux applies them (issue: GitOps delivery).
LAYERS = ("operators", "security", "storage", "metastore", "streaming", "compute", "access", "orchestration",
          "observability")
MAX_K8S_NAME = 63
CONFIG_ONLY = frozenset({"spark", "dbt"})


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

    @property
    def deployed(self) -> bool:
        """False for configuration-only components (Spark profiles, dbt profiles): no manifests of their own."""
        return self.name not in CONFIG_ONLY

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
    warehouse: str  # s3a://bucket/prefix/ (Spark, Hadoop)
    warehouse_s3: str  # s3://bucket/prefix/ (Trino, the Iceberg sink)
    s3_endpoint: str  # http://minio...:9000
    metastore_uri: str  # thrift://hive-metastore...:9083
    namespaces: tuple[str, ...]


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


@dataclass(frozen=True)
class ConnectPlugin:
    name: str  # Strimzi plugin name
    title: str
    archive: str  # Strimzi artifact type: tgz, zip or jar
    url: str
    sha512: str | None


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
    vault_roles: tuple[VaultRole, ...] = ()
    oidc_clients: tuple[OidcClient, ...] = ()
    web_uis: tuple[WebUi, ...] = ()

    @property
    def platform_sql_server(self) -> KyuubiServer | None:
        """The Kyuubi server the platform's own SQL runs through (lakehouse namespaces, upsert MERGEs without a
        writing tenant): the first SERVER-share server (one long-lived engine), else the first server."""
        candidates = [k for k in self.kyuubi if k.share_level == "SERVER"] or list(self.kyuubi)
        return candidates[0] if candidates else None

    def web_ui(self, component: str) -> WebUi:
        return next(w for w in self.web_uis if w.component == component)

    @property
    def issuer(self) -> str:
        """The realm's issuer as browsers and tokens name it (Keycloak's frontend URL)."""
        return f"{self.web_ui('keycloak').url}/realms/{self.spec.identity.keycloak.realm}"

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.components)

    @property
    def git_auth_secret(self) -> str | None:
        """The flux-system Secret holding the GitOps repository credentials, when the spec names them."""
        auth = self.spec.gitops.auth
        return self.secret_for("flux", split_vault_ref(auth)[0]).secret_name if auth else None

    def lake_secret(self, component: str) -> Reader:
        """The Secret holding `component`'s own MinIO access key (Vault minio/users/<component>)."""
        return self.secret_for(component, lake_user_path(component))

    def secret_for(self, component: str, path: str) -> Reader:
        """The Kubernetes Secret through which `component` reads Vault `path`."""
        entry = next(e for e in self.secrets if e.path == path)
        return next(r for r in entry.readers if r.component == component)


#: Trino's internal-communication.shared-secret, generated by Terraform once Trino authenticates anyone.
TRINO_SHARED_SECRET_PATH = "trino/internal-communication"
#: How the inventory shows the keys of a tenant's spark.env: any number of session properties.
SESSION_CONF_KEYS = "<spark.* or kyuubi.* property>"


def session_conf_path(tenant: str) -> str:
    """The Vault path of a tenant's `spark.env`: Spark/Kyuubi session properties its members' sessions get."""
    return f"tenants/{tenant}/spark-env"


def session_conf_tenant(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "tenants" and parts[2] == "spark-env" else None


def session_conf_file(tenant: str) -> str:
    """Kyuubi's FileSessionConfAdvisor reads kyuubi-session-<profile>.conf from its conf dir."""
    return f"kyuubi-session-{tenant}.conf"


def lake_user_path(component: str) -> str:
    """The Vault path of a lake service's MinIO credentials (Terraform creates the user from it)."""
    return f"minio/users/{component}"


def resolve(document: PlatformDocument, loaded: LoadedSpec, spec_file: str) -> Platform:
    """Compute the Platform; derived-name problems raise KonohaError."""
    return _Resolver(document, loaded).platform(spec_file)


def k8s_name(*parts: str) -> str:
    """Join parts with '-', keeping within 63 chars with a stable hash suffix."""
    name = "-".join(p for p in parts if p).replace("/", "-").replace("_", "-").replace(".", "-")
    if len(name) <= MAX_K8S_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_K8S_NAME - 9].rstrip('-')}-{digest}"


def secret_name(component: str, vault_path: str) -> str:
    """Name of the Secret VSO writes for `component` reading `vault_path`:
    minio reading minio/root -> minio-root; kafka-connect reading sources/shop
    -> kafka-connect-sources-shop."""
    if vault_path.split("/", 1)[0] == component:
        return k8s_name(vault_path)
    return k8s_name(component, vault_path)


class _Resolver:
    def __init__(self, document: PlatformDocument, loaded: LoadedSpec) -> None:
        self.doc = document
        self.spec = document.spec
        self.loaded = loaded
        self.name = document.metadata.name
        self.problems: list[Diagnostic] = []
        self.databases: tuple[Database, ...] = ()
        self.oidc_clients: tuple[OidcClient, ...] = ()
        self.web_uis: tuple[WebUi, ...] = ()

    def platform(self, spec_file: str) -> Platform:
        components = self._components()
        by_name = {c.name: c for c in components}
        self.databases = self._databases(by_name)
        self.web_uis = self._web_uis(by_name)
        self.oidc_clients = self._oidc_clients(by_name)
        platform = Platform(
            name=self.name,
            spec_file=spec_file,
            spec_sha256=self.loaded.sha256,
            labels=MappingProxyType(dict(sorted(self.doc.metadata.labels.items()))),
            spec=self.spec,
            components=components,
            secrets=self._secrets(by_name),
            databases=self.databases,
            oidc_clients=self.oidc_clients,
            web_uis=self.web_uis,
            lakehouse=self._lakehouse(by_name),
            kyuubi=self._kyuubi(by_name),
            dbt=(),
            kafka=self._kafka(by_name),
            sources=(),
            tenants=self._tenants(),
        )
        platform = replace(platform, dbt=self._dbt(platform), sources=self._sources(platform),
                           vault_roles=_vault_roles(platform))
        if self.problems:
            raise KonohaError(sorted(set(self.problems)))
        return platform

    # -- names ---------------------------------------------------------------
    def namespace(self, layer: str) -> str:
        """<platform>-<layer>; at most 40 + 14 characters, within Kubernetes' 63."""
        return f"{self.name}-{layer}"

    def _error(self, path: tuple[str | int, ...], message: str, hint: str) -> None:
        """A derived-name problem, located at the spec node it derives from (path below `spec`)."""
        self.problems.append(self.loaded.diagnostic(("spec", *path), message, hint))

    def _check_length(self, name: str, path: tuple[str | int, ...], what: str, limit: int = MAX_K8S_NAME) -> str:
        if len(name) > limit:
            self._error(path, f"derived {what} '{name}' is {len(name)} characters; the limit is {limit}",
                        "shorten the names it is made from")
        return name

    # -- components and their graph -------------------------------------------
    def _components(self) -> tuple[Component, ...]:
        s = self.spec
        wanted: list[tuple[str, str, str, list[str], Service | None, str | None]] = []

        def add(name: str, title: str, layer: str, deps: Iterable[str], port: int | None = None,
                service: str | None = None, catalog: str | None = None) -> None:
            ns = self.namespace(layer)
            svc = Service(service or name, ns, port) if port else None
            wanted.append((name, title, layer, list(deps), svc, catalog))

        add("traefik", "Traefik (ingress)", "operators", [], 80, catalog="traefik")
        add("cloudnative-pg", "CloudNativePG operator", "operators", [], catalog="cloudnative-pg")
        add("vault", "Vault", "security", [], 8200, catalog="vault")
        add("vault-secrets-operator", "Vault Secrets Operator", "security", ["vault"], catalog="vault-secrets-operator")
        vso = "vault-secrets-operator"
        if s.identity.keycloak.enabled:
            add("keycloak", "Keycloak", "security", [vso, "cloudnative-pg"], 80, "keycloak-http", "keycloak")
        sso = ["keycloak"] if s.identity.keycloak.enabled else []
        if s.storage.object_store.enabled:
            add("minio", "MinIO", "storage", [vso], 9000, catalog="minio")
        if s.storage.metastore.enabled:
            add("hive-metastore", "Hive Metastore", "metastore", ["minio", "cloudnative-pg", vso], 9083,
                catalog="hive-metastore")
        if s.streaming.kafka.enabled:
            add("strimzi", "Strimzi operator", "operators", [], catalog="strimzi")
            add("kafka", "Kafka", "streaming", ["strimzi"], 9092, f"{self.name}-kafka-bootstrap", "kafka")
        if s.streaming.connect.enabled and s.streaming.kafka.enabled:
            add("kafka-connect", "Kafka Connect (Debezium, Iceberg sink)", "streaming",
                ["kafka", "strimzi", vso] + (["hive-metastore", "minio"] if s.streaming.sources else []),
                8083, f"{self.name}-cdc-connect-api")
        if s.compute.spark.enabled:
            add("spark", "Spark (profiles, images)", "compute", [])
        if s.compute.kyuubi.enabled:
            add("kyuubi", "Kyuubi", "compute", ["spark", "hive-metastore", "minio", vso], catalog="kyuubi")
        if s.modeling.dbt.enabled and s.modeling.dbt.projects:
            add("dbt", "dbt profiles", "compute", ["kyuubi"])
        if s.access.trino.enabled:
            add("trino", "Trino", "access", ["hive-metastore", "minio", vso, *sso], 8080, catalog="trino")
        if s.access.metabase.enabled:
            add("metabase", "Metabase", "access", ["trino", "cloudnative-pg", vso, *sso], 80, catalog="metabase")
        airflow = s.orchestration.airflow
        if airflow.enabled:
            targets = {"kyuubi" for c in airflow.connections if c.kyuubi} | {"trino" for c in airflow.connections if c.trino}
            add("airflow", "Airflow", "orchestration", ["cloudnative-pg", vso, *sso, *sorted(targets)], 8080,
                "airflow-api-server", "airflow")
        if s.observability.metrics.enabled:
            add("kube-prometheus-stack", "Prometheus + Grafana", "observability", [vso, *sso], 9090,
                "prometheus-operated", "kube-prometheus-stack")
        names = {w[0] for w in wanted}
        workloads = self._workloads()
        components = []
        for name, title, layer, deps, svc, catalog_key in wanted:
            upstream = None
            if catalog_key:
                pin = CATALOG[catalog_key]
                upstream = replace(pin, version=self.spec.versions.get(catalog_key, pin.version))
            components.append(Component(name, title, layer, self.namespace(layer),
                                        tuple(sorted(d for d in set(deps) if d in names)), svc, upstream,
                                        workloads.get(name, ())))
        return _toposort(components)

    def _web_uis(self, by_name: dict[str, Component]) -> tuple[WebUi, ...]:
        """Every UI a person opens in a browser, at <name>.<ingress domain>, routed to its Service."""
        domain = self.spec.cluster.ingress.domain
        wanted: list[tuple[str, str, Service | None]] = [
            (name, name, by_name[name].service) for name in ("vault", "keycloak", "trino", "metabase", "airflow") if name in by_name]
        minio = by_name["minio"].service if "minio" in by_name else None
        if minio is not None:  # the chart's console Service: <fullname>-console
            wanted.append(("minio", "minio-console", Service(f"{minio.name}-console", minio.namespace, 9001)))
        if "kube-prometheus-stack" in by_name and self.spec.observability.grafana.enabled:
            wanted.append(("kube-prometheus-stack", "grafana",
                           Service("kube-prometheus-stack-grafana", by_name["kube-prometheus-stack"].namespace, 80)))
        return tuple(WebUi(component, f"{name}.{domain}", service) for component, name, service in wanted if service is not None)

    def _oidc_clients(self, by_name: dict[str, Component]) -> tuple[OidcClient, ...]:
        """Web UIs that log in through Keycloak: Grafana, the MinIO console, Trino's web UI and Airflow.
        Metabase is not among them: its open-source edition has no OpenID Connect login (a paid feature)."""
        if "keycloak" not in by_name:
            return ()
        uis = {ui.component: ui for ui in self.web_uis}
        wanted = [(component, client_id, title, callbacks) for component, client_id, title, callbacks in (
            ("kube-prometheus-stack", "grafana", "Grafana", ("/login/generic_oauth",)),
            ("minio", "minio-console", "MinIO console", ("/oauth_callback",)),
            ("trino", "trino", "Trino web UI", ("/oauth2/callback",)),
            # Airflow 3's FAB auth manager lives under /auth; Flask-AppBuilder's callback is oauth-authorized/<provider>.
            ("airflow", "airflow", "Airflow", ("/auth/oauth-authorized/keycloak",)),
        ) if component in uis]
        return tuple(OidcClient(component, client_id, title, tuple(uis[component].url + c for c in callbacks),
                                (uis[component].url,), f"oidc/{client_id}") for component, client_id, title, callbacks in wanted)

    def _workloads(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """The Deployments/StatefulSets each chart creates (names pinned by the release names and
        fullnameOverride in the values): VSO restarts them when a Secret they read rotates."""
        kyuubi = tuple(("StatefulSet", f"kyuubi-{k.name}") for k in self.spec.compute.kyuubi.servers)
        return {
            "minio": (("Deployment", "minio"),),
            "keycloak": (("StatefulSet", "keycloak"),),
            "hive-metastore": (("Deployment", "hive-metastore"),),
            "kyuubi": kyuubi,
            "trino": (("Deployment", "trino-coordinator"), ("Deployment", "trino-worker")),
            "metabase": (("Deployment", "metabase"),),
            "airflow": (("Deployment", "airflow-api-server"), ("Deployment", "airflow-scheduler")),
            "kube-prometheus-stack": (("Deployment", "kube-prometheus-stack-grafana"),),
        }

    def _shape(self, component: str, path: str, keys: set[str]) -> tuple[tuple[tuple[str, str], ...], str]:
        """Extra Secret keys a consumer's chart expects (as VSO templates), and the Secret type."""
        def get(key: str) -> str:
            return "{{ get .Secrets " + f'"{key}"' + " }}"

        if path.startswith("databases/"):  # CloudNativePG bootstraps from a basic-auth Secret
            if component == "airflow":  # the chart reads one SQLAlchemy URL from key `connection`
                db = next(d for d in self.databases if d.owner == component)
                url = f"postgresql://{get('username')}:{get('password')}@{db.service.address}/{db.database}"
                return (("connection", url),), "kubernetes.io/basic-auth"
            return (), "kubernetes.io/basic-auth"
        if component == "minio" and path == split_vault_ref(self.spec.storage.object_store.credentials)[0]:
            return (("rootUser", get("username")), ("rootPassword", get("password"))), "Opaque"
        if component == "airflow" and keys == {"secret-key"}:
            return (("api-secret-key", get("secret-key")),), "Opaque"
        if component == "kyuubi" and (tenant := session_conf_tenant(path)):  # every key is a session property
            return ((session_conf_file(tenant), "{{- range $key, $value := .Secrets }}{{ $key }}={{ $value }}\n{{ end }}"),), "Opaque"
        return (), "Opaque"

    # -- secrets inventory -----------------------------------------------------
    def _secrets(self, by_name: dict[str, Component]) -> tuple[SecretEntry, ...]:
        readers: dict[str, dict[tuple[str, str | None], set[str]]] = {}
        keys: dict[str, set[str]] = {}
        for cred in credential_fields(self.spec):
            path, key = split_vault_ref(cred.ref)
            wanted = {key} if key else set(cred.keys)
            keys.setdefault(path, set()).update(wanted)
            for reader in cred.readers:
                namespace = "flux-system" if reader == "flux" else (by_name[reader].namespace if reader in by_name else None)
                readers.setdefault(path, {}).setdefault((reader, namespace), set()).update(wanted)
        for component in ("hive-metastore", "kafka-connect", "kyuubi", "trino"):
            if component in by_name and "minio" in by_name:
                path = lake_user_path(component)
                keys[path] = {"access-key", "secret-key"}
                readers.setdefault(path, {})[(component, by_name[component].namespace)] = {"access-key", "secret-key"}
                readers[path][("terraform", None)] = {"access-key", "secret-key"}
        for owner in self._database_sizes():
            if owner in by_name:  # CloudNativePG bootstraps the database from this Secret; the owner logs in with it
                path = f"databases/{owner}"
                keys[path] = {"username", "password"}
                readers.setdefault(path, {})[(owner, by_name[owner].namespace)] = {"username", "password"}
        for client in self.oidc_clients:  # written by Terraform from Keycloak's generated client secret
            keys[client.vault_path] = {"client-id", "client-secret"}
            readers.setdefault(client.vault_path, {})[(client.component, by_name[client.component].namespace)] = \
                {"client-id", "client-secret"}
        if "kyuubi" in by_name:  # each tenant's Spark overrides, read by its default server (FileSessionConfAdvisor)
            for tenant in self.spec.tenants:
                if self.spec.compute.kyuubi.servers:
                    keys[session_conf_path(tenant.name)] = {SESSION_CONF_KEYS}
                    readers.setdefault(session_conf_path(tenant.name), {})[("kyuubi", by_name["kyuubi"].namespace)] = {SESSION_CONF_KEYS}
        if any(client.component == "trino" for client in self.oidc_clients):  # internal communication, once authenticating
            keys[TRINO_SHARED_SECRET_PATH] = {"shared-secret"}
            readers.setdefault(TRINO_SHARED_SECRET_PATH, {})[("trino", by_name["trino"].namespace)] = {"shared-secret"}
        generated = {g.path: g for g in self.spec.secrets.generate}
        implicit = {p for p in keys if p.startswith(("minio/users/", "databases/", "oidc/")) or p == TRINO_SHARED_SECRET_PATH}
        for path in self.spec.secrets.external:
            keys.setdefault(path, set())
        entries = []
        for path in sorted(set(keys) | set(generated)):
            gen = generated.get(path)
            all_keys = keys.get(path, set()) | set(gen.keys if gen else ())
            entry_readers = tuple(
                Reader(component, namespace, secret_name(component, path) if namespace else None, tuple(sorted(ks)),
                       *self._shape(component, path, ks))
                for (component, namespace), ks in sorted(readers.get(path, {}).items(), key=lambda i: (i[0][0], i[0][1] or "")))
            entries.append(SecretEntry(path, tuple(sorted(all_keys)), entry_readers, gen is not None or path in implicit,
                                       gen.length if gen else 32))
        return tuple(entries)

    # -- per-layer wiring ------------------------------------------------------
    def _database_sizes(self) -> dict[str, str]:
        """Components that own a CloudNativePG database, and its volume size."""
        return {"hive-metastore": self.spec.storage.metastore.database_size, "keycloak": "2Gi",
                "airflow": "5Gi", "metabase": "2Gi"}

    def _databases(self, by_name: dict[str, Component]) -> tuple[Database, ...]:
        databases = []
        for owner, size in self._database_sizes().items():
            if owner in by_name:
                ns = by_name[owner].namespace
                name = f"{owner}-db"
                databases.append(Database(name, owner, ns, size, Service(f"{name}-rw", ns, 5432),
                                          owner.replace("-", "_"), secret_name(owner, f"databases/{owner}")))
        return tuple(databases)

    def _lakehouse(self, by_name: dict[str, Component]) -> LakehouseWiring | None:
        if "minio" not in by_name or "hive-metastore" not in by_name:
            return None
        lake = self.spec.lakehouse
        warehouse = lake.warehouse if lake.warehouse.endswith("/") else lake.warehouse + "/"
        minio, hms = by_name["minio"].service, by_name["hive-metastore"].service
        assert minio is not None and hms is not None
        return LakehouseWiring(
            catalog=lake.catalog,
            bucket=warehouse.removeprefix("s3a://").split("/", 1)[0],
            warehouse=warehouse,
            warehouse_s3="s3://" + warehouse.removeprefix("s3a://"),
            s3_endpoint=f"http://{minio.address}",
            metastore_uri=f"thrift://{hms.address}",
            namespaces=tuple(lake.namespaces),
        )

    def _kyuubi(self, by_name: dict[str, Component]) -> tuple[KyuubiServer, ...]:
        if "kyuubi" not in by_name:
            return ()
        ns = by_name["kyuubi"].namespace
        return tuple(
            KyuubiServer(k.name, f"kyuubi-{k.name}", k.share_level, k.profile, k.idle_timeout, k.replicas,
                         Service(f"kyuubi-{k.name}-thrift-binary", ns, 10009), 10099, f"kyuubi-{k.name}-spark")
            for k in self.spec.compute.kyuubi.servers)

    def _dbt(self, platform: Platform) -> tuple[DbtTarget, ...]:
        if not platform.has("dbt"):
            return ()
        servers = {k.name: k for k in platform.kyuubi}
        writers = {namespace: t.name for t in reversed(platform.tenants) for namespace in t.writes}
        return tuple(DbtTarget(p.name, p.server, servers[p.server].service.host, servers[p.server].service.port, p.schema_,
                               writers.get(p.schema_) if platform.tenants else None)
                     for p in self.spec.modeling.dbt.projects)

    def _kafka(self, by_name: dict[str, Component]) -> KafkaWiring | None:
        if "kafka" not in by_name:
            return None
        ns = by_name["kafka"].namespace
        connect = f"{self.name}-cdc"
        plugins = self._connect_plugins()
        bootstrap = by_name["kafka"].service
        assert bootstrap is not None
        return KafkaWiring(
            cluster=self.name, namespace=ns, bootstrap=bootstrap, connect=connect,
            connect_api=Service(f"{connect}-connect-api", ns, 8083), connect_group=f"{connect}-connect",
            connect_topics=(f"{connect}-configs", f"{connect}-offsets", f"{connect}-status"),
            control_topic="control-iceberg", image=self._connect_image(plugins), plugins=plugins)

    def _connect_plugins(self) -> tuple[ConnectPlugin, ...]:
        """Exactly the plugins the sources need, each from the spec's artifact override or the catalogue."""
        overrides: dict[str, PluginArtifact] = {str(k): v for k, v in self.spec.streaming.connect.artifacts.items()}
        engines = sorted({source.engine for source in self.spec.streaming.sources})
        wanted = [f"debezium-{engine}" for engine in engines] + (["iceberg-sink"] if engines else [])
        plugins = []
        for name in wanted:
            pinned = CONNECT_PLUGINS[name]
            override = overrides.get(name)
            url = override.url if override else pinned.url(self.spec.versions)
            sha512 = override.sha512 if override else pinned.sha512
            if url is None:
                how = pinned.how_to_build.format(version=pinned_version(pinned.component, self.spec.versions))
                self._error(("streaming", "connect"), f"Kafka Connect needs the {pinned.title} plugin, which has no published artifact",
                            f"build it ({how}), host it and set streaming.connect.artifacts.{name}.url (and sha512)")
                continue
            plugins.append(ConnectPlugin(name, pinned.title, pinned.archive_type(url), url, sha512))
        return tuple(plugins)

    def _connect_image(self, plugins: tuple[ConnectPlugin, ...]) -> str:
        """<repository>:<tag>, the tag a digest of the plugin set so a plugin change builds and rolls a new image."""
        repository = self.spec.streaming.connect.image
        if repository is None:
            if plugins:
                self._error(("streaming", "connect"), "Strimzi builds the Kafka Connect image with the plugins and needs a registry "
                            "to push it to, one the nodes can pull from", "set streaming.connect.image, e.g. registry.example.com/data/cdc-connect")
            return ""
        digest = hashlib.sha256(json.dumps([dataclasses.astuple(p) for p in plugins]).encode()).hexdigest()[:12]
        return f"{repository}:{digest}"

    def _sources(self, platform: Platform) -> tuple[CdcSource, ...]:
        sources = []
        server_ids: dict[int, str] = {}
        slots: dict[str, str] = {}
        for index, src in enumerate(self.spec.streaming.sources):
            path = ("streaming", "sources", index)
            ident = f"{self.name}_{src.name}".replace("-", "_")
            slot = publication = history = None
            server_id = None
            if src.engine == "postgres":
                slot = self._check_length(src.slot or ident, (*path, "name"), "replication slot")
                publication = self._check_length(src.publication or ident, (*path, "name"), "publication")
                if slot in slots:
                    self._error((*path, "slot" if src.slot else "name"),
                                f"replication slot '{slot}' is also used by source '{slots[slot]}'",
                                "each Debezium connector needs its own slot; set a distinct 'slot'")
                slots.setdefault(slot, src.name)
            else:
                server_id = src.server_id or 100000 + zlib.crc32(f"{self.name}/{src.name}".encode()) % 900000
                if server_id in server_ids:
                    self._error((*path, "serverId" if src.server_id else "name"),
                                f"database.server.id {server_id} is also used by source '{server_ids[server_id]}' "
                                "(Debezium: must be unique among all MySQL replication clients)", "set a distinct 'serverId'")
                server_ids.setdefault(server_id, src.name)
                history = f"{src.name}.schema-history"
            vault_path, _ = split_vault_ref(src.credentials)
            sources.append(CdcSource(
                name=src.name, engine=src.engine, host=src.host, port=src.port or DEFAULT_PORTS[src.engine],
                database=src.database, credentials_path=vault_path,
                secret_name=platform.secret_for("kafka-connect", vault_path).secret_name or "", snapshot=src.snapshot, topic_prefix=src.name,
                source_connector=f"{src.name}-source", sink_connector=f"{src.name}-iceberg-sink",
                slot=slot, publication=publication, server_id=server_id, schema_history_topic=history,
                heartbeat_topic=f"__debezium-heartbeat.{src.name}", namespace=src.target.namespace,
                upsert=src.target.upsert, tables=tuple(self._tables(src.name, src.target.namespace, src.target.upsert,
                                                                    src.tables, src.target.keys, src.target.partition_by)),
                merge_server=self._merge_server(platform, src.target.namespace, (*path, "target", "upsert")) if src.target.upsert else None,
            ))
        return tuple(sources)

    def _merge_server(self, platform: Platform, namespace: str, path: tuple[str | int, ...]) -> str | None:
        """The Kyuubi server whose Spark runs the upsert MERGE: that of a tenant writing the namespace,
        else the first SERVER-share server (one long-lived engine), else the first server."""
        if not platform.kyuubi:
            self._error(path, "upsert needs a Kyuubi server to run the MERGE that maintains the current-state tables "
                              "(the Iceberg sink only appends)", "enable spec.compute.kyuubi with a server, or set upsert: false")
            return None
        writers = [t.kyuubi for t in self.spec.tenants if namespace in t.writes and t.kyuubi]
        shared = platform.platform_sql_server
        return writers[0] if writers else (shared.name if shared else None)

    @staticmethod
    def _tables(source: str, namespace: str, upsert: bool, tables: list[str], keys: dict[str, list[str]],
                partition_by: dict[str, list[str]]) -> list[CdcTable]:
        result = []
        for table in tables:
            base = f"{namespace}.{source}_{table.replace('.', '_')}".replace("-", "_").lower()
            result.append(CdcTable(table, f"{source}.{table}", f"{base}_changelog" if upsert else base,
                                   base if upsert else None, tuple(keys.get(table, ())), tuple(partition_by.get(table, ()))))
        return result

    def _tenants(self) -> tuple[Tenant, ...]:
        tenants = []
        for index, t in enumerate(self.spec.tenants):
            ns = self._check_length(f"{self.name}-tenant-{t.name}", ("tenants", index, "name"), "tenant namespace")
            tenants.append(Tenant(t.name, ns, f"tenant-{t.name}", tuple(t.members), t.kyuubi, tuple(t.writes)))
        return tuple(tenants)


def _vault_roles(platform: Platform) -> tuple[VaultRole, ...]:
    """One role per workload that reads Vault through VSO, granted exactly the paths it reads."""
    paths: dict[str, set[str]] = {}
    for entry in platform.secrets:
        for reader in entry.readers:
            if reader.via_vso:
                paths.setdefault(reader.component, set()).add(entry.path)
    return tuple(VaultRole(f"{platform.name}-{name}", name, platform.component(name).namespace, f"{name}-vault",
                           tuple(sorted(paths[name]))) for name in sorted(paths))


def _toposort(components: list[Component]) -> tuple[Component, ...]:
    """Dependencies first; ties broken by layer order, then name (deterministic)."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    pending = {c.name: c for c in components}
    done: list[Component] = []
    placed: set[str] = set()
    while pending:
        ready = sorted((c for c in pending.values() if set(c.depends_on) <= placed),
                       key=lambda c: (rank[c.layer], c.name))
        if not ready:
            raise RuntimeError(f"dependency cycle among {sorted(pending)}")
        done.append(ready[0])
        placed.add(ready[0].name)
        del pending[ready[0].name]
    return tuple(done)
