"""Helm values per chart, built from the resolved Platform.

One function per component. Credentials are never values: every secret a
chart needs is named by the Secret that Vault Secrets Operator writes
(`Platform.secret_for`), and Service names are pinned with fullnameOverride
(or the chart's equivalent) so they match what resolve promised.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from konoha_gen.catalog import image_tag
from konoha_gen.emit.observability import (
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    KYUUBI_METRICS_PORT,
    TRINO_JMX_EXPORTER_PORT,
    TRINO_JMX_REGISTRY_PORT,
    TRINO_JMX_SERVER_PORT,
    jmx_exporter_config,
    prometheus,
)
from konoha_gen.resolve import (
    TRINO_SHARED_SECRET_PATH,
    Component,
    KyuubiServer,
    Platform,
    Service,
    lake_user_path,
    session_conf_file,
    session_conf_path,
)

Values = dict[str, Any]
KYUUBI_CONF_DIR = "/opt/kyuubi/conf"  # the kyuubi chart's kyuubiConf.dir


def _service(c: Component) -> Service:
    assert c.service is not None
    return c.service


def _secret(p: Platform, component: str, path: str) -> str:
    name = p.secret_for(component, path).secret_name
    assert name is not None
    return name


def _database(p: Platform, owner: str) -> Any:
    return next(d for d in p.databases if d.owner == owner)


def _oidc(p: Platform, component: str) -> tuple[Any, str, str] | None:
    """(client, its Secret, the realm's issuer URL inside the cluster) when the component logs in through Keycloak."""
    client = next((c for c in p.oidc_clients if c.component == component), None)
    if client is None:
        return None
    keycloak = p.component("keycloak").service
    assert keycloak is not None
    issuer = f"http://{keycloak.host}/realms/{p.spec.identity.keycloak.realm}"
    return client, _secret(p, component, client.vault_path), issuer


def _admin_group(p: Platform) -> str:
    """The realm group whose members administer the web UIs (the first of identity.keycloak.groups)."""
    groups = p.spec.identity.keycloak.groups
    return groups[0] if groups else "platform-admins"


def _oidc_env(secret: str, prefix: str) -> list[Values]:
    """<prefix>_CLIENT_ID / <prefix>_CLIENT_SECRET from the VSO Secret Terraform fills from Keycloak."""
    return [{"name": f"{prefix}_CLIENT_{key.upper()}", "valueFrom": {"secretKeyRef": {"name": secret, "key": f"client-{key}"}}}
            for key in ("id", "secret")]


def _resources(memory: str, cpu: str = "100m") -> Values:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def traefik(p: Platform, c: Component) -> Values:
    ingress = p.spec.cluster.ingress
    return {
        "fullnameOverride": "traefik",
        "ingressClass": {"enabled": True, "isDefaultClass": True, "name": ingress.class_name},
        "providers": {"kubernetesIngress": {"enabled": True}, "kubernetesCRD": {"enabled": True}},
        "service": {"spec": {"type": "NodePort"} if p.spec.cluster.provider == "minikube" else {}},
    }


def cloudnative_pg(p: Platform, c: Component) -> Values:
    return {"crds": {"create": True}, "config": {"clusterWide": True}, "resources": _resources("256Mi")}


def strimzi(p: Platform, c: Component) -> Values:
    return {"watchAnyNamespace": True, "resources": _resources("384Mi", "200m")}


def vault(p: Platform, c: Component) -> Values:
    mode = p.spec.secrets.vault.mode
    server: Values = {"resources": _resources("256Mi")}
    if mode == "dev":
        server["dev"] = {"enabled": True}  # in-memory and auto-unsealed: laptops only
    elif mode == "standalone":
        server["standalone"] = {"enabled": True}
        server["dataStorage"] = {"enabled": True, "size": "2Gi"}
    else:
        server["ha"] = {"enabled": True, "replicas": 3, "raft": {"enabled": True}}
    return {"global": {"tlsDisable": True}, "injector": {"enabled": False},
            "csi": {"enabled": False}, "ui": {"enabled": True}, "server": server}


def vault_secrets_operator(p: Platform, c: Component) -> Values:
    vault_service = p.component("vault").service
    assert vault_service is not None
    return {
        "defaultVaultConnection": {"enabled": True, "address": f"http://{vault_service.address}", "skipTLSVerify": False},
        "controller": {"manager": {"resources": _resources("256Mi")}},
    }


def keycloak(p: Platform, c: Component) -> Values:
    db = _database(p, "keycloak")
    admin = p.spec.identity.keycloak.admin.removeprefix("vault:").split("#")[0]
    admin_secret = _secret(p, "keycloak", admin)
    env = [
        {"name": "KC_BOOTSTRAP_ADMIN_USERNAME", "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": "username"}}},
        {"name": "KC_BOOTSTRAP_ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": "password"}}},
        {"name": "KC_DB_USERNAME", "valueFrom": {"secretKeyRef": {"name": db.credentials_secret, "key": "username"}}},
    ]
    return {
        "fullnameOverride": _service(c).name.removesuffix("-http"),  # keycloakx names the Service <fullname>-http
        # The frontend URL is the HTTPS ingress host, so every token's issuer is that URL; requests from pods to the
        # Service get back-channel endpoints (token, certs, userinfo) on the Service address (hostname v2).
        "command": ["/opt/keycloak/bin/kc.sh", "start", "--http-port=8080", f"--hostname={p.web_ui('keycloak').url}",
                    "--hostname-backchannel-dynamic=true"],
        "http": {"relativePath": "/"},
        "proxy": {"enabled": True, "mode": "xforwarded"},
        "database": {"vendor": "postgres", "hostname": db.service.host, "port": db.service.port, "database": db.database,
                     "existingSecret": db.credentials_secret, "existingSecretKey": "password"},
        "dbchecker": {"enabled": True},
        "extraEnv": _yaml_list(env),
        "resources": _resources("1Gi", "250m"),
    }


def _yaml_list(items: list[Values]) -> str:
    """keycloakx takes extraEnv as a templated YAML string."""
    return yaml.safe_dump(items, sort_keys=False, default_flow_style=False)


def minio(p: Platform, c: Component) -> Values:
    store = p.spec.storage.object_store
    root = store.credentials.removeprefix("vault:").split("#")[0]
    return {
        "fullnameOverride": _service(c).name,  # the Service every consumer addresses (resolve)
        "mode": "standalone",
        "replicas": 1,
        "existingSecret": _secret(p, "minio", root),  # keys rootUser, rootPassword (VSO maps them)
        "persistence": {"enabled": True, "size": store.size},
        "resources": _resources("1Gi"),
        "users": [],  # the chart's default user carries a literal password; users come from Terraform
        "buckets": [],  # buckets, users and policies are Terraform's (terraform/10-platform)
        "policies": [],
        "svcaccts": [],
        **_minio_oidc(p),
        **({"environment": {"MINIO_PROMETHEUS_AUTH_TYPE": "public"}} if prometheus(p) else {}),  # ServiceMonitor minio
    }


def _minio_oidc(p: Platform) -> Values:
    oidc = _oidc(p, "minio")
    if oidc is None:
        return {}
    client, secret, issuer = oidc
    return {"oidc": {"enabled": True, "configUrl": f"{issuer}/.well-known/openid-configuration",
                     "existingClientSecretName": secret, "existingClientIdKey": "client-id",
                     "existingClientSecretKey": "client-secret", "claimName": "policy",
                     "scopes": "openid,profile,email", "redirectUri": client.redirect_uris[0], "displayName": "Keycloak"}}


def hive_metastore(p: Platform, c: Component) -> Values:
    db = _database(p, "hive-metastore")
    lake = p.lakehouse
    assert lake is not None and c.service is not None
    s3 = _secret(p, "hive-metastore", lake_user_path("hive-metastore"))
    return {
        "fullNameOverride": _service(c).name,
        "deploymentName": "hive-metastore",
        "serviceName": c.service.name,
        "servicePort": c.service.port,
        "replicaCount": p.spec.storage.metastore.replicas,
        # the chart defaults to `latest`; 4.0.1 is the image its maintainers validate chart 1.4.0 with
        "image": {"tag": c.upstream.app_version if c.upstream else "4.0.1", "pullSecrets": []},
        "networkPolicies": {"enabled": False},
        "cloud_storage": "s3",
        "gcs": {"enabled": False},
        "db": {"driverName": "postgresql", "host": db.service.host, "port": db.service.port, "databaseName": db.database,
               "user": {"name": db.database, "password": {"secretName": db.credentials_secret, "propertyName": "password"}}},
        "s3": {"url": lake.s3_endpoint, "warehouseDirectory": lake.warehouse.rstrip("/"),
               "accessKey": {"secretName": s3, "propertyName": "access-key"},
               "secretKey": {"secretName": s3, "propertyName": "secret-key"}},
        "resources": _resources("1Gi", "250m"),
    }


def kyuubi(p: Platform, c: Component, server: KyuubiServer) -> Values:
    from konoha_gen.emit.spark import kyuubi_defaults, pod_templates, profile, spark_defaults

    s3 = _secret(p, "kyuubi", lake_user_path("kyuubi"))
    return {
        "kyuubiConf": {"files": {"kyuubi-defaults.conf": kyuubi_defaults(p, server)}},
        "sparkConf": {"files": {"spark-defaults.conf": spark_defaults(p, profile(p, server.profile)), **pod_templates(p)}},
        "replicaCount": server.replicas,
        # The `-spark` variant carries the Spark distribution (SPARK_HOME) spark-submit needs to launch engines;
        # the plain tag the chart defaults to has none.
        "image": {"tag": f"{image_tag('kyuubi', p.spec.versions)}-spark"},
        "serviceAccount": {"create": True, "name": server.engine_service_account},
        "rbac": {"create": True, "rules": [
            {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
             "verbs": ["create", "get", "list", "watch", "delete"]}]},
        "server": {"thriftBinary": {"enabled": True, "port": server.service.port},
                   "thriftHttp": {"enabled": False},
                   "rest": {"enabled": True, "port": server.rest_port}},
        "envFrom": [{"secretRef": {"name": s3}}],
        **_kyuubi_session_confs(p, server),
        "resources": _resources("1Gi", "250m"),
        "metrics": _kyuubi_metrics(p),
    }


def _kyuubi_session_confs(p: Platform, server: KyuubiServer) -> Values:
    """Each tenant's spark.env file, mounted into Kyuubi's conf dir as session profile <tenant>. Optional:
    Kyuubi starts before an operator writes the Vault path; VSO restarts it when the Secret changes."""
    tenants = [t.name for t in p.tenants]
    if not tenants:
        return {}
    secrets = {t: _secret(p, "kyuubi", session_conf_path(t)) for t in tenants}
    return {"volumes": [{"name": f"session-{t}", "secret": {"secretName": secrets[t], "optional": True}} for t in tenants],
            "volumeMounts": [{"name": f"session-{t}", "mountPath": f"{KYUUBI_CONF_DIR}/{session_conf_file(t)}",
                              "subPath": session_conf_file(t), "readOnly": True} for t in tenants]}


def _kyuubi_metrics(p: Platform) -> Values:
    """Kyuubi's Prometheus reporter on the `prometheus` container port, which konoha-gen's PodMonitor scrapes.
    The chart's own PodMonitor/ServiceMonitor stay off: their CRDs come in a later layer (emit/observability.py)."""
    if not prometheus(p):
        return {"enabled": False}
    return {"enabled": True, "reporters": "PROMETHEUS", "prometheusPort": KYUUBI_METRICS_PORT,
            "podMonitor": {"enabled": False}, "serviceMonitor": {"enabled": False}}


def trino(p: Platform, c: Component) -> Values:
    t = p.spec.access.trino
    lake = p.lakehouse
    assert lake is not None
    s3 = _secret(p, "trino", lake_user_path("trino"))
    catalog = "\n".join([
        "connector.name=iceberg",
        "iceberg.catalog.type=hive_metastore",
        f"hive.metastore.uri={lake.metastore_uri}",
        "fs.native-s3.enabled=true",  # Trino 480: renamed fs.s3.enabled only in 481
        f"s3.endpoint={lake.s3_endpoint}",
        "s3.region=us-east-1",
        "s3.path-style-access=true",
        "s3.aws-access-key=${ENV:S3_ACCESS_KEY}",
        "s3.aws-secret-key=${ENV:S3_SECRET_KEY}",
    ]) + "\n"
    env = [{"name": "S3_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": s3, "key": "access-key"}}},
           {"name": "S3_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": s3, "key": "secret-key"}}}]
    oidc = _trino_oidc(p)
    env += oidc.get("env", [])
    return {
        "fullnameOverride": _service(c).name,
        "server": {"workers": t.workers, "config": {"query": {"maxMemory": t.query_max_memory}}},
        "coordinator": {"jvm": {"maxHeapSize": None, "maxHeapPercent": 75},
                        "resources": _resources(t.coordinator.memory, t.coordinator.cpu)},
        "worker": {"jvm": {"maxHeapSize": None, "maxHeapPercent": 75},
                   "resources": _resources(t.worker.memory, t.worker.cpu)},
        "catalogs": {lake.catalog: catalog},
        **({"additionalConfigProperties": oidc["properties"]} if oidc else {}),
        "env": env,
        **_trino_metrics(p),
    }


def _trino_oidc(p: Platform) -> Values:
    """OAuth 2.0 login of the web UI against the realm (config.properties lines and the env they read).

    Only the web UI authenticates: Airflow and Metabase keep reaching the client API inside the cluster over
    HTTP, where Trino refuses authentication anyway. Trino requires HTTPS for OAuth 2.0, which the ingress
    terminates (http-server.process-forwarded), and a shared secret for internal communication once any
    authentication is on. The issuer is the frontend URL tokens carry; discovery is off because that URL is not
    reachable from pods, so the token and key endpoints name the Keycloak Service."""
    oidc = _oidc(p, "trino")
    if oidc is None:
        return {}
    _client, secret, backchannel = oidc
    shared = _secret(p, "trino", TRINO_SHARED_SECRET_PATH)
    prefix = "http-server.authentication.oauth2"
    return {
        "properties": [
            "web-ui.authentication.type=oauth2",
            "http-server.process-forwarded=true",
            "internal-communication.shared-secret=${ENV:TRINO_INTERNAL_SHARED_SECRET}",
            f"{prefix}.issuer={p.issuer}",
            f"{prefix}.oidc.discovery=false",
            f"{prefix}.auth-url={p.issuer}/protocol/openid-connect/auth",
            f"{prefix}.token-url={backchannel}/protocol/openid-connect/token",
            f"{prefix}.jwks-url={backchannel}/protocol/openid-connect/certs",
            f"{prefix}.userinfo-url={backchannel}/protocol/openid-connect/userinfo",
            f"{prefix}.client-id=${{ENV:TRINO_OIDC_CLIENT_ID}}",
            f"{prefix}.client-secret=${{ENV:TRINO_OIDC_CLIENT_SECRET}}",
            f"{prefix}.principal-field=preferred_username",
        ],
        "env": [*_oidc_env(secret, "TRINO_OIDC"),
                {"name": "TRINO_INTERNAL_SHARED_SECRET", "valueFrom": {"secretKeyRef": {"name": shared, "key": "shared-secret"}}}],
    }


def _trino_metrics(p: Platform) -> Values:
    """JMX over RMI plus the chart's JMX exporter sidecar (port `jmx-exporter` on the coordinator and worker
    Services, scraped by konoha-gen's ServiceMonitor); the chart's ServiceMonitor stays off (emit/observability.py)."""
    if not prometheus(p):
        return {}
    exporter = {"enabled": True, "port": TRINO_JMX_EXPORTER_PORT, "configProperties": jmx_exporter_config("trino")}
    return {"jmx": {"enabled": True, "registryPort": TRINO_JMX_REGISTRY_PORT, "serverPort": TRINO_JMX_SERVER_PORT,
                    "exporter": exporter},
            "serviceMonitor": {"enabled": False}}


def metabase(p: Platform, c: Component) -> Values:
    db = _database(p, "metabase")
    return {
        "database": {"type": "postgres", "host": db.service.host, "port": db.service.port, "dbname": db.database,
                     "existingSecret": db.credentials_secret, "existingSecretUsernameKey": "username",
                     "existingSecretPasswordKey": "password"},
        "resources": _resources("1Gi", "250m"),
    }


def airflow(p: Platform, c: Component) -> Values:
    a = p.spec.orchestration.airflow
    web = a.webserver_secret_key.removeprefix("vault:").split("#")[0]
    values: Values = {
        "fullnameOverride": "airflow",
        "executor": a.executor,
        "postgresql": {"enabled": False},
        "redis": {"enabled": a.executor in ("CeleryExecutor", "CeleryKubernetesExecutor")},
        "data": {"metadataSecretName": _database(p, "airflow").credentials_secret},  # key: connection
        "apiSecretKeySecretName": _secret(p, "airflow", web),  # key: api-secret-key
        "createUserJob": {"enabled": False},  # its default user has a literal password; log in through Keycloak
        "statsd": {"enabled": prometheus(p)},  # the StatsD exporter's statsd-scrape port (ServiceMonitor airflow-statsd)
    }
    env = _airflow_connections(p)
    if env:
        values["env"] = env
    oidc = _oidc(p, "airflow")
    if oidc is not None:
        _client, secret, backchannel = oidc
        # The chart's `env` takes literal values only; Secret-fed variables go through its `secret` list.
        values["secret"] = [{"envName": f"AIRFLOW_OIDC_CLIENT_{key.upper()}", "secretName": secret, "secretKey": f"client-{key}"}
                            for key in ("id", "secret")]
        values["apiServer"] = {"apiServerConfig": _airflow_webserver_config(p, backchannel)}
    if a.dags:
        git = a.dags.git
        sync: Values = {"enabled": True, "repo": git.url, "branch": git.branch, "subPath": git.path}
        if git.auth:
            sync["sshKeySecret"] = _secret(p, "airflow", git.auth.removeprefix("vault:").split("#")[0])
        values["dags"] = {"gitSync": sync}
    return values


def _airflow_webserver_config(p: Platform, backchannel: str) -> str:
    """webserver_config.py of the FAB auth manager (the chart's default in Airflow 3): OAuth against the realm.
    Browsers go to the frontend issuer; the API server calls the token, key and userinfo endpoints on the
    Keycloak Service. Members of the admin group become Admin, everyone else Viewer, at every login."""
    return "\n".join([
        "import os",
        "",
        "from flask_appbuilder.security.manager import AUTH_OAUTH",
        "",
        "AUTH_TYPE = AUTH_OAUTH",
        "AUTH_USER_REGISTRATION = True",
        'AUTH_USER_REGISTRATION_ROLE = "Viewer"',
        "AUTH_ROLES_SYNC_AT_LOGIN = True",
        f'AUTH_ROLES_MAPPING = {{{json.dumps(_admin_group(p))}: ["Admin"]}}',  # FAB's keycloak provider reads the groups claim
        "OAUTH_PROVIDERS = [{",
        '    "name": "keycloak",',
        '    "icon": "fa-key",',
        '    "token_key": "access_token",',
        '    "remote_app": {',
        '        "client_id": os.environ["AIRFLOW_OIDC_CLIENT_ID"],',
        '        "client_secret": os.environ["AIRFLOW_OIDC_CLIENT_SECRET"],',
        f'        "api_base_url": "{backchannel}/protocol/",  # FAB asks for openid-connect/userinfo below it',
        f'        "access_token_url": "{backchannel}/protocol/openid-connect/token",',
        f'        "authorize_url": "{p.issuer}/protocol/openid-connect/auth",',
        f'        "jwks_uri": "{backchannel}/protocol/openid-connect/certs",',
        '        "client_kwargs": {"scope": "openid email profile"},',
        "    },",
        "}]",
        "",
    ])


def _airflow_connections(p: Platform) -> list[Values]:
    """spec connections as AIRFLOW_CONN_<ID> URIs (Airflow's env-var connections). They carry no
    credential: Kyuubi runs with kyuubi.authentication=NONE and Trino without authentication."""
    env = []
    servers = {k.name: k for k in p.kyuubi}
    trino = p.component("trino").service if p.has("trino") else None
    for conn in p.spec.orchestration.airflow.connections:
        if conn.kyuubi is not None:
            server = servers[conn.kyuubi]
            uri = f"hiveserver2://airflow@{server.service.address}/default"
        else:
            assert trino is not None and conn.trino is not None
            uri = f"trino://airflow@{trino.address}/{conn.trino}"
        env.append({"name": f"AIRFLOW_CONN_{conn.id.upper()}", "value": uri})
    return env


def kube_prometheus_stack(p: Platform, c: Component) -> Values:
    grafana = p.spec.observability.grafana
    values: Values = {
        "fullnameOverride": "kube-prometheus-stack",
        "crds": {"enabled": True},
        "alertmanager": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheus": {"prometheusSpec": {
            "retention": p.spec.observability.metrics.retention,
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "resources": _resources("1Gi", "250m"),
        }},
        "grafana": {"enabled": grafana.enabled},
    }
    if grafana.enabled:
        admin = grafana.admin.removeprefix("vault:").split("#")[0]
        values["grafana"] = {
            "enabled": True,
            "admin": {"existingSecret": _secret(p, "kube-prometheus-stack", admin), "userKey": "username",
                      "passwordKey": "password"},
            # the dashboards konoha-gen ships are ConfigMaps with this label in Grafana's own namespace
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE}},
            **_grafana_oidc(p),
        }
    return values


def _grafana_oidc(p: Platform) -> Values:
    oidc = _oidc(p, "kube-prometheus-stack")
    if oidc is None:
        return {}
    client, secret, issuer = oidc
    browser = f"{p.issuer}/protocol/openid-connect"
    admins = _admin_group(p)
    return {
        "grafana.ini": {
            "server": {"root_url": client.web_origins[0]},
            "auth.generic_oauth": {
                "enabled": True, "name": "Keycloak", "allow_sign_up": True, "client_id": client.client_id,
                "scopes": "openid email profile", "auth_url": f"{browser}/auth",
                "token_url": f"{issuer}/protocol/openid-connect/token",
                "api_url": f"{issuer}/protocol/openid-connect/userinfo",
                "role_attribute_path": f"contains(groups[*], '{admins}') && 'Admin' || 'Viewer'",
            },
        },
        # Grafana reads any setting from GF_<SECTION>_<KEY>: the client secret comes from the VSO Secret.
        "envValueFrom": {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {"secretKeyRef": {"name": secret, "key": "client-secret"}}},
    }


Builder = Callable[[Platform, Component], Values]

#: component -> its values builder (a chart-deployed component has exactly one entry, Kyuubi aside).
BUILDERS: dict[str, Builder] = {
    "traefik": traefik, "cloudnative-pg": cloudnative_pg, "strimzi": strimzi, "vault": vault,
    "vault-secrets-operator": vault_secrets_operator, "keycloak": keycloak, "minio": minio,
    "hive-metastore": hive_metastore, "trino": trino, "metabase": metabase, "airflow": airflow,
    "kube-prometheus-stack": kube_prometheus_stack,
}
