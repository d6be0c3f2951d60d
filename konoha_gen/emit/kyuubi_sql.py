"""SQL the platform itself runs through a Kyuubi server with beeline, as Kubernetes Jobs in the Kyuubi namespace:
the lakehouse namespaces (a Job, here) and the upsert MERGEs (CronJobs, emit/merge.py).

A Job's pod template cannot change once created, so the namespaces Job is named after a digest of its SQL:
a change applies as a new Job (Flux prunes the old one), and re-running it is harmless (IF NOT EXISTS).
"""

from __future__ import annotations

import hashlib

from konoha_gen.catalog import image_tag
from konoha_gen.emit.kube import Doc, obj
from konoha_gen.resolve import Component, KyuubiServer, Platform

SQL_DIR = "/opt/konoha/sql"


def beeline_job(platform: Platform, server: KyuubiServer, name: str, file: str, *, backoff: int) -> Doc:
    """A Job spec running SQL file `file` of ConfigMap `name` through `server`'s thrift port as user `name`."""
    image = f"apache/kyuubi:{image_tag('kyuubi', platform.spec.versions)}"  # the chart's own default tag
    container = {
        "name": "beeline", "image": image,
        "command": ["/opt/kyuubi/bin/beeline", "-u", f"jdbc:kyuubi://{server.service.address}/", "-n", name,
                    "--silent=true", "-f", f"{SQL_DIR}/{file}"],
        "volumeMounts": [{"name": "sql", "mountPath": SQL_DIR, "readOnly": True}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }
    return {"backoffLimit": backoff, "activeDeadlineSeconds": 3600, "template": {"spec": {
        "restartPolicy": "Never", "containers": [container], "volumes": [{"name": "sql", "configMap": {"name": name}}]}}}


def namespaces_sql(platform: Platform) -> str:
    lake = platform.lakehouse
    assert lake is not None
    return "-- The lakehouse namespaces (lakehouse.namespaces); tables land in <warehouse>/<namespace>.db/.\n" + "".join(
        f"CREATE NAMESPACE IF NOT EXISTS {lake.catalog}.{namespace};\n" for namespace in lake.namespaces)


def manifests(platform: Platform, component: Component) -> list[Doc]:
    """The namespaces Job and its ConfigMap, in the Kyuubi component."""
    server = platform.platform_sql_server
    if component.name != "kyuubi" or server is None or platform.lakehouse is None:
        return []
    sql = namespaces_sql(platform)
    name = f"lakehouse-namespaces-{hashlib.sha256(sql.encode()).hexdigest()[:8]}"
    # Engines take minutes to start (Spark pods, packages): retry rather than fail the layer on the first try.
    return [obj("v1", "ConfigMap", name, component.namespace, component="kyuubi", platform=platform, data={"namespaces.sql": sql}),
            obj("batch/v1", "Job", name, component.namespace, component="kyuubi", platform=platform,
                spec=beeline_job(platform, server, name, "namespaces.sql", backoff=6))]
