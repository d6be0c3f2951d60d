"""Pinned upstream versions and chart coordinates: the one place they live.

`spec.versions` may override a component's `version` (the chart version, or
for non-chart components the application version). Versions follow the
vendored chart data in shared/charts/catalog.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

SourceKind = Literal["HelmRepository", "OCIRepository", "GitRepository", "none"]


@dataclass(frozen=True)
class Upstream:
    component: str  # key used in spec.versions
    chart: str | None  # chart name (None: not deployed by a chart)
    version: str  # chart version, or app version when chart is None
    app_version: str
    source_kind: SourceKind
    url: str | None  # Helm repository, OCI repository or git URL
    source_name: str | None = None  # name of the Flux source object in flux-system
    chart_path: str | None = None  # chart folder inside a GitRepository


_ENTRIES = (
    Upstream("vault", "vault", "0.34.1", "2.0.4", "HelmRepository", "https://helm.releases.hashicorp.com", "hashicorp"),
    Upstream("vault-secrets-operator", "vault-secrets-operator", "1.4.1", "1.4.1", "HelmRepository",
             "https://helm.releases.hashicorp.com", "hashicorp"),
    Upstream("minio", "minio", "5.4.0", "RELEASE.2024-12-18T13-15-44Z", "HelmRepository", "https://charts.min.io",
             "minio"),
    # App version 3.1.3: the chart's appVersion (OKDP/hive-metastore helm/hive-metastore/Chart.yaml), and a metastore
    # the Hive 2.3 clients can call (METASTORE_CLIENTS)
    Upstream("hive-metastore", "hive-metastore", "1.4.0", "3.1.3", "OCIRepository", "oci://quay.io/okdp/charts/hive-metastore",
             "hive-metastore"),
    Upstream("cloudnative-pg", "cloudnative-pg", "0.29.0", "1.30.0", "HelmRepository", "https://cloudnative-pg.github.io/charts",
             "cloudnative-pg"),
    Upstream("strimzi", "strimzi-kafka-operator", "1.2.0", "1.2.0", "OCIRepository",
             "oci://quay.io/strimzi-helm/strimzi-kafka-operator", "strimzi-kafka-operator"),
    Upstream("kafka", None, "4.1.0", "4.1.0", "none", None),
    Upstream("debezium", None, "3.6.1.Final", "3.6.1.Final", "none", None),
    Upstream("iceberg-kafka-connect", None, "1.11.0", "1.11.0", "none", None),
    Upstream("spark-operator", "spark-operator", "2.5.2", "2.5.2", "HelmRepository", "https://kubeflow.github.io/spark-operator",
             "kubeflow"),
    Upstream("kyuubi", "kyuubi", "v1.12.0", "1.12.0", "GitRepository", "https://github.com/apache/kyuubi",
             "apache-kyuubi",
             "./charts/kyuubi"),
    Upstream("airflow", "airflow", "1.21.0", "3.2.0", "HelmRepository", "https://airflow.apache.org", "apache-airflow"),
    Upstream("trino", "trino", "1.42.2", "480", "HelmRepository", "https://trinodb.github.io/charts", "trino"),
    Upstream("metabase", "metabase", "2.26.0", "v0.59.6.x", "HelmRepository", "https://pmint93.github.io/helm-charts",
             "pmint93"),
    Upstream("keycloak", "keycloakx", "7.1.11", "26.5.6", "HelmRepository", "https://codecentric.github.io/helm-charts",
             "codecentric"),
    Upstream("kube-prometheus-stack", "kube-prometheus-stack", "88.5.3", "v0.93.1", "HelmRepository",
             "https://prometheus-community.github.io/helm-charts", "prometheus-community"),
    Upstream("grafana", "grafana", "12.11.1", "13.2.0", "HelmRepository", "https://grafana-community.github.io/helm-charts",
             "grafana-community"),
    Upstream("traefik", "traefik", "41.3.0", "v3.7.11", "HelmRepository", "https://traefik.github.io/charts",
             "traefik"),
    Upstream("flux", "flux2", "2.18.3", "2.8.5", "HelmRepository", "https://fluxcd-community.github.io/helm-charts",
             "fluxcd-community"),
)

CATALOG: MappingProxyType[str, Upstream] = MappingProxyType({entry.component: entry for entry in _ENTRIES})


#: Spark and its JVM artifacts. The spec's compute.spark.version and icebergVersion default to these; the engines
#: resolve Iceberg's Spark runtime and S3A from Maven with these versions (spark.jars.packages).
SPARK_VERSION = "3.5.3"
ICEBERG_SPARK_VERSION = "1.7.1"
SCALA_VERSION = "2.12"
HADOOP_AWS_VERSION = "3.3.4"  # the Hadoop that Spark 3.5 ships
AWS_SDK_BUNDLE_VERSION = "1.12.262"  # the AWS SDK v1 bundle hadoop-aws 3.3.4 was built with


@dataclass(frozen=True)
class Provider:
    """A Terraform provider pinned to an exact version; `terraform init` records its checksums."""

    source: str
    version: str


TERRAFORM_VERSION = ">= 1.5.0"
TERRAFORM_PROVIDERS: MappingProxyType[str, Provider] = MappingProxyType({
    "minikube": Provider("scott-the-programmer/minikube", "0.5.3"),
    "helm": Provider("hashicorp/helm", "3.1.1"),
    "kubectl": Provider("alekc/kubectl", "2.1.3"),
    "vault": Provider("hashicorp/vault", "5.8.0"),
    "random": Provider("hashicorp/random", "3.8.1"),
    "minio": Provider("aminueza/minio", "3.41.1"),
    "keycloak": Provider("keycloak/keycloak", "5.8.0"),
})


@dataclass(frozen=True)
class KeyList:
    """An upstream key list in konoha_gen/data/ (each file names its source) and the release line it holds for."""

    name: str  # what it lists
    selected_by: str  # whose version picks it: a CATALOG key, or spark / iceberg-spark (spec.compute.spark)
    line: str  # versions it holds for: this version or any below it (3.5 holds 3.5.3)
    file: str
    release: str  # how messages name the release it was extracted from

    def holds(self, version: str) -> bool:
        plain = version.removeprefix("v")
        return plain == self.line or plain.startswith(f"{self.line}.")


KEY_LISTS = (
    KeyList("spark", "spark", "3.5", "spark-3.5-keys.txt", "Spark 3.5"),
    KeyList("spark-prefixes", "spark", "3.5", "spark-3.5-prefixes.txt", "Spark 3.5"),
    KeyList("iceberg-spark-catalog", "iceberg-spark", "1.7", "iceberg-spark-catalog-keys.txt", "Iceberg 1.7"),
    KeyList("kyuubi", "kyuubi", "1.12", "kyuubi-keys.txt", "Kyuubi"),
    KeyList("trino", "trino", "1.42", "trino-480-catalog-keys.txt", "Trino 480"),  # what chart 1.42.x runs
    KeyList("connect", "debezium", "3.6", "connect-keys.txt", "Debezium 3.6"),  # + Kafka Connect 4.1, Iceberg sink 1.11
)


#: Values files of the charts (shared/charts/<dir>) each component's values are checked against.
CHART_DATA_DIR = {
    "vault": "vault", "vault-secrets-operator": "vault-secrets-operator", "minio": "minio",
    "hive-metastore": "hive-metastore", "cloudnative-pg": "cloudnative-pg", "strimzi": "strimzi-kafka-operator",
    "kyuubi": "kyuubi", "airflow": "airflow", "trino": "trino", "metabase": "metabase", "keycloak": "keycloakx",
    "kube-prometheus-stack": "kube-prometheus-stack", "traefik": "traefik",
}


#: The OKDP image tag of each Hive Metastore release konoha-gen knows (quay.io/okdp/hive-metastore). 3.1.3: the last
#: 3.1.3 image release, 3.1.3-1.3.0 (OKDP/hive-metastore docker/CHANGELOG.md, .release-please-manifest.json; the
#: Dockerfile's ARG_METASTORE_VERSION=3.1.3); 4.0.1: the tag its README names. Another release is tagged as itself.
METASTORE_IMAGE_TAGS = MappingProxyType({"3.1.3": "3.1.3-1.3.0", "4.0.1": "4.0.1"})


def metastore_image_tag(version: str) -> str:
    return METASTORE_IMAGE_TAGS.get(version, version)


@dataclass(frozen=True)
class ClientRule:
    """Server releases a group of clients can call: checked against the versions in force (references.py)."""

    server: str  # CATALOG key of the server
    clients: str  # how messages name the clients
    client_version: str  # the client library they are built on
    below: str  # the first server release they cannot call
    why: str  # the upstream change that breaks them, and where it is told

    def allows(self, server_version: str) -> bool:
        return version_key(server_version) < version_key(self.below)


#: Spark 3.5's built-in Hive client is Hive 2.3 (Spark's pom.xml hive.version 2.3.9, spark.sql.hive.metastore.version
#: default 2.3.9) and the Iceberg sink's `hive` runtime bundles Hive 2.3 (kafka-connect/build.gradle
#: `hive(libs.hive2.metastore)`). Hive 4 removed the Thrift call get_table they make (HIVE-26537), so they fail with
#: "Invalid method name: 'get_table'" (apache/iceberg#12878).
METASTORE_CLIENTS = ClientRule(
    "hive-metastore", "Spark 3.5's built-in Hive client and the Iceberg sink's hive runtime", "Hive 2.3.x", "4",
    "HIVE-26537 removed the Thrift call get_table they make (apache/iceberg#12878)")
CLIENT_RULES = (METASTORE_CLIENTS,)


def version_key(version: str) -> tuple[int, ...]:
    """'3.1.3' -> (3, 1, 3); the numeric release prefix of a version (a suffix such as -beta is ignored)."""
    numbers = re.match(r"v?(\d+(?:\.\d+)*)", version)
    return tuple(int(n) for n in numbers.group(1).split(".")) if numbers else ()


def upstream(component: str, overrides: dict[str, str]) -> Upstream:
    """The catalogue entry with the spec's version override (`spec.versions`) applied: the one place it is."""
    entry = CATALOG[component]
    return replace(entry, version=overrides[component]) if component in overrides else entry


def pinned(component: str, overrides: dict[str, str]) -> str:
    """The version to use: the spec's override, else the catalogue's pin."""
    return upstream(component, overrides).version


def image_tag(component: str, overrides: dict[str, str]) -> str:
    """The application's image tag for the pinned version (git-tag charts such as Kyuubi's pin `v<version>`)."""
    return pinned(component, overrides).removeprefix("v")


@dataclass(frozen=True)
class PinnedPlugin:
    """A Kafka Connect plugin archive the Connect image is built with (Strimzi `spec.build.plugins`)."""

    name: str  # Strimzi plugin name: the folder under the image's plugin path
    title: str
    component: str  # CATALOG entry whose version it follows
    url_template: str | None  # {version} is substituted; None: no published artifact
    sha512: str | None  # of the archive at the pinned version; None: not pinned here (see README)
    how_to_build: str = ""

    def url(self, overrides: dict[str, str]) -> str | None:
        return self.url_template.format(version=pinned(self.component, overrides)) if self.url_template else None

    @staticmethod
    def archive_type(url: str) -> Literal["tgz", "zip", "jar"]:
        if url.endswith((".tgz", ".tar.gz")):
            return "tgz"
        return "zip" if url.endswith(".zip") else "jar"


_MAVEN_DEBEZIUM = "https://repo1.maven.org/maven2/io/debezium/debezium-connector-{db}/{{version}}/debezium-connector-{db}-{{version}}-plugin.tar.gz"

#: Debezium publishes its plugin archives on Maven Central. Their SHA-512 could not be read on the
#: machine this catalogue was written on (no route to Maven Central), so they are not pinned here:
#: set streaming.connect.artifacts.<plugin>.sha512 (out/README.md lists the unverified archives).
#: The Apache Iceberg sink runtime has no Maven artifact at all (DOMAIN-NOTES.md, Iceberg section).
CONNECT_PLUGINS: MappingProxyType[str, PinnedPlugin] = MappingProxyType({
    "debezium-postgres": PinnedPlugin("debezium-postgres", "Debezium PostgreSQL connector", "debezium",
                                      _MAVEN_DEBEZIUM.format(db="postgres"), None),
    "debezium-mysql": PinnedPlugin("debezium-mysql", "Debezium MySQL connector", "debezium",
                                   _MAVEN_DEBEZIUM.format(db="mysql"), None),
    "iceberg-sink": PinnedPlugin(
        "iceberg-sink", "Apache Iceberg sink", "iceberg-kafka-connect", None, None,
        "apache/iceberg at apache-iceberg-{version}: ./gradlew -x test -x integrationTest "
        ":iceberg-kafka-connect:iceberg-kafka-connect-runtime:distZip, the 'hive' distribution"),
})
