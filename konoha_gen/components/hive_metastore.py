"""Hive Metastore (the OKDP chart): the Iceberg catalog Spark, Trino and the Iceberg sink share."""

from __future__ import annotations

from konoha_gen.catalog import metastore_image_tag
from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values
from konoha_gen.components.chart_values import database, fullname, resources, secret, service, setting
from konoha_gen.names import lake_user_path
from konoha_gen.resolved import Component, Platform


def metastore_version(p: Platform, c: Component) -> str:
    """The Hive Metastore release the image runs: spec.storage.metastore.version, else the catalogue's app version."""
    assert c.upstream is not None
    return p.spec.storage.metastore.version or c.upstream.app_version


def values(p: Platform, c: Component) -> Values:
    db = database(p, "hive-metastore")
    lake = p.lakehouse
    assert lake is not None and c.service is not None
    s3 = secret(p, "hive-metastore", lake_user_path("hive-metastore"))
    return {
        "fullNameOverride": service(c).name,
        "deploymentName": "hive-metastore",
        "serviceName": c.service.name,
        "servicePort": c.service.port,
        "replicaCount": p.spec.storage.metastore.replicas,
        # the chart defaults to `latest`: pin the OKDP image of the release in force (catalog.METASTORE_IMAGE_TAGS), one
        # its Hive 2.3 clients can call (references.py refuses another)
        "image": {"tag": metastore_image_tag(metastore_version(p, c)), "pullSecrets": []},
        "networkPolicies": {"enabled": False},
        "cloud_storage": "s3",
        "gcs": {"enabled": False},
        "db": {"driverName": "postgresql", "host": db.service.host, "port": db.service.port,
               "databaseName": db.database,
               "user": {"name": db.database, "password": {"secretName": db.credentials_secret,
                                                          "propertyName": "password"}}},
        # a bucket name: the image's docker/metastore.sh makes it s3a://<bucket>/hive-warehouse/
        "s3": {"url": lake.s3_endpoint, "warehouseDirectory": lake.bucket,
               "accessKey": {"secretName": s3, "propertyName": "access-key"},
               "secretKey": {"secretName": s3, "propertyName": "secret-key"}},
        "resources": resources("512Mi", "250m"),  # the chart default request (values.yaml resources)
    }


def _services(release: str, values: Values) -> list[tuple[str, tuple[int, ...]]]:
    """The OKDP chart: serviceName, else its fullname (whose override it spells fullNameOverride)."""
    name = values.get("serviceName") or fullname("hive-metastore", release,
                                                 {"fullnameOverride": values.get("fullNameOverride")})
    return [(str(name), (int(setting(values, "servicePort", 9083)),))]


COMPONENT = ComponentDef(
    name="hive-metastore", title="Hive Metastore", layer="metastore", catalog="hive-metastore",
    enabled=lambda spec: spec.storage.metastore.enabled, switch="spec.storage.metastore.enabled",
    depends_on=lambda spec: ["minio", "cloudnative-pg", "vault-secrets-operator"],
    service=ServiceDef(9083),
    workloads=lambda spec: (("Deployment", "hive-metastore"),),
    database_size=lambda spec: spec.storage.metastore.database_size,
    lake_user=True,
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=_services,
    budget=(PodBudget("server", replicas="replicaCount"),),
)
