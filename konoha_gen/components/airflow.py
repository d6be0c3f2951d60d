"""Airflow (the official chart): orchestration, logging in through Keycloak with the FAB auth manager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import MappingProxyType

from konoha_gen.components.base import (
    ComponentDef,
    HookSetting,
    MetricsPort,
    OidcDef,
    Panel,
    PodBudget,
    Release,
    ScrapeTarget,
    ServiceDef,
    Values,
    WebUiDef,
    sso,
)
from konoha_gen.components.chart_values import admin_group, database, get, oidc, prometheus, secret, setting
from konoha_gen.components.promql import selector
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Database, Platform

_FLUX_DOCS = ('chart docs "Installing the Chart with Argo CD, Flux, Rancher or Terraform": '
              '"you MUST set the four following values"')
#: The chart runs its DB migration and user creation as Helm hooks by default; under Flux's wait (helm install
#: --wait) the post-install hook never runs because the release never becomes Ready without a migrated DB.
HOOKS = tuple(HookSetting(path, False, True, _FLUX_DOCS)
              for path in ("migrateDatabaseJob.useHelmHooks", "migrateDatabaseJob.applyCustomEnv",
                           "createUserJob.useHelmHooks", "createUserJob.applyCustomEnv"))


#: The provider package each connection scheme needs (Airflow's connection types: apache-airflow-providers-apache-hive
#: registers hiveserver2 (HiveServer2Hook), apache-airflow-providers-trino registers trino (TrinoHook)). The stock
#: apache/airflow image installs neither (the Dockerfile's AIRFLOW_EXTRAS default), and _PIP_ADDITIONAL_REQUIREMENTS
#: (pip install at every container start) is a development/test feature the docker-stack docs say never to use in
#: production, so the operator builds an image with them: orchestration.airflow.image.
PROVIDERS = MappingProxyType({"kyuubi": "apache-airflow-providers-apache-hive",
                              "trino": "apache-airflow-providers-trino"})


def providers_needed(spec: PlatformSpec) -> list[str]:
    """The provider packages the spec's connections need, in order."""
    connections = spec.orchestration.airflow.connections
    return sorted({PROVIDERS["kyuubi" if conn.kyuubi is not None else "trino"] for conn in connections})


def values(p: Platform, c: Component) -> Values:
    a = p.spec.orchestration.airflow
    values: Values = {
        "fullnameOverride": "airflow",
        "executor": a.executor,
        "postgresql": {"enabled": False},
        "redis": {"enabled": a.executor in ("CeleryExecutor", "CeleryKubernetesExecutor")},
        "data": {"metadataSecretName": database(p, "airflow").credentials_secret},  # key: connection
        "apiSecretKeySecretName": secret(p, "airflow", a.webserver_secret_key.path),  # key: api-secret-key
        "migrateDatabaseJob": {},
        "createUserJob": {"enabled": False},  # its default user has a literal password; log in through Keycloak
        # the StatsD exporter's statsd-scrape port (ServiceMonitor airflow-statsd)
        "statsd": {"enabled": prometheus(p)},
    }
    for hook in HOOKS:
        job, key = hook.path.split(".")
        values[job][key] = hook.value
    if a.image is not None:
        # The chart's airflow_image helper reads images.airflow (scheduler, API server, migrations); task pods of the
        # KubernetesExecutor read images.pod_template, which falls back to defaultAirflowRepository/Tag, not to
        # images.airflow (apache/airflow chart/templates/_helpers.yaml pod_template_image): both are set.
        image = {"repository": a.image.repository, "tag": a.image.tag}
        values["images"] = {"airflow": dict(image), "pod_template": dict(image)}
    env = _connections(p)
    if env:
        values["env"] = env
    login = oidc(p, "airflow")
    if login is not None:
        _client, secret_name, backchannel = login
        # The chart's `env` takes literal values only; Secret-fed variables go through its `secret` list.
        values["secret"] = [{"envName": f"AIRFLOW_OIDC_CLIENT_{key.upper()}", "secretName": secret_name,
                             "secretKey": f"client-{key}"} for key in ("id", "secret")]
        values["apiServer"] = {"apiServerConfig": _webserver_config(p, backchannel)}
    if a.dags:
        git = a.dags.git
        sync: Values = {"enabled": True, "repo": git.url, "branch": git.branch, "subPath": git.path}
        if git.auth:
            # the chart mounts key gitSshKey of this Secret (secret_keys maps a named Vault key onto it) and
            # verifies the host with dags.gitSync.knownHosts, else not at all (chart values.yaml, dags.gitSync)
            sync["sshKeySecret"] = secret(p, "airflow", git.auth.path)
            if git.known_hosts:
                sync["knownHosts"] = git.known_hosts
        values["dags"] = {"gitSync": sync}
    return values


def _webserver_config(p: Platform, backchannel: str) -> str:
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
        f'AUTH_ROLES_MAPPING = {{{json.dumps(admin_group(p))}: ["Admin"]}}',  # FAB's keycloak provider reads groups
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


def _connections(p: Platform) -> list[Values]:
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


def secret_keys(spec: PlatformSpec, databases: tuple[Database, ...], path: str,
                keys: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The chart reads one SQLAlchemy URL from key `connection` of its metadata Secret, the API secret key
    from key `api-secret-key` and the git-sync SSH key from key `gitSshKey`."""
    def get_key(key: str) -> str:
        return "{{ get .Secrets " + f'"{key}"' + " }}"

    if path.startswith("databases/"):
        db = next(d for d in databases if d.owner == "airflow")
        return (("connection",
                 f"postgresql://{get_key('username')}:{get_key('password')}@{db.service.address}/{db.database}"),)
    if keys == {"secret-key"}:
        return (("api-secret-key", get_key("secret-key")),)
    dags = spec.orchestration.airflow.dags
    if dags and dags.git.auth and path == dags.git.auth.path and keys != {"gitSshKey"} and len(keys) == 1:
        (key,) = keys
        return (("gitSshKey", get_key(key)),)  # the key dags.gitSync.sshKeySecret is read from
    return ()


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    """The chart's StatsD exporter Service."""
    return [ScrapeTarget(c.name, "ServiceMonitor", "airflow-statsd", c.namespace,
                         (("tier", "airflow"), ("component", "statsd"), ("release", c.name)), "statsd-scrape",
                         ("/metrics",))]


def chart_metrics(release: str, namespace: str, values: Values, source: str) -> Iterator[MetricsPort]:
    if get(values, "statsd.enabled", True):
        yield MetricsPort("Service", namespace, (("tier", "airflow"), ("component", "statsd"), ("release", release)),
                          "statsd-scrape", frozenset({"/metrics"}), source)


def _services(release: str, values: Values) -> list[tuple[str, tuple[int, ...]]]:
    """The official chart names objects <fullnameOverride or release>-<component>."""
    base = values.get("fullnameOverride") or release
    return [(f"{base}-api-server", (int(setting(values, "ports.apiServer", 8080)),)),
            (f"{base}-statsd", (int(setting(values, "ports.statsdIngest", 9125)),
                                int(setting(values, "ports.statsdScrape", 9102))))]


def dashboard(p: Platform) -> tuple[str, list[Panel]]:
    """The chart's StatsD exporter mappings (airflow_dagrun_duration, airflow_executor_*, airflow_pool_*, ...)
    and its default naming of unmapped stats (airflow_ti_failures, ...)."""
    s = selector(p.component("airflow").namespace)
    return "Airflow", [
        Panel("Scheduler heartbeats /min", ((f"sum(rate(airflow_scheduler_heartbeat{s}[5m])) * 60", "heartbeats"),),
              stat=True),
        Panel("Running tasks", ((f"sum(airflow_executor_running_tasks{s})", "running"),), stat=True),
        Panel("Queued tasks", ((f"sum(airflow_executor_queued_tasks{s})", "queued"),), stat=True),
        Panel("Open executor slots", ((f"sum(airflow_executor_open_slots{s})", "open"),), stat=True),
        Panel("Task instances /s", ((f"sum(rate(airflow_ti_successes{s}[5m]))", "succeeded"),
                                    (f"sum(rate(airflow_ti_failures{s}[5m]))", "failed")), "ops"),
        Panel("DAG runs per hour",
              ((f"sum by (dag_id) (increase(airflow_dagrun_duration_count{s}[1h]))", "{{dag_id}} ok"),
               (f"sum by (dag_id) (increase(airflow_dagrun_failed_count{s}[1h]))", "{{dag_id}} failed"))),
        Panel("Mean successful DAG run duration",
              ((f"sum by (dag_id) (rate(airflow_dagrun_duration_sum{s}[1h])) / "
                f"sum by (dag_id) (rate(airflow_dagrun_duration_count{s}[1h]))", "{{dag_id}}"),), "s"),
        Panel("Pools", ((f"sum by (pool) (airflow_pool_open_slots{s})", "{{pool}} open"),
                        (f"sum by (pool) (airflow_pool_starving_tasks{s})", "{{pool}} starving"))),
        Panel("DAG files parse time", ((f"max(airflow_dag_processing_total_parse_time{s})", "all files"),), "s"),
    ]


def _depends_on(spec: PlatformSpec) -> list[str]:
    airflow = spec.orchestration.airflow
    targets = {"kyuubi" for c in airflow.connections if c.kyuubi} | {"trino" for c in airflow.connections if c.trino}
    return ["cloudnative-pg", "vault-secrets-operator", *sso(spec), *sorted(targets)]


COMPONENT = ComponentDef(
    name="airflow", title="Airflow", layer="orchestration", catalog="airflow",
    enabled=lambda spec: spec.orchestration.airflow.enabled, switch="spec.orchestration.airflow.enabled",
    depends_on=_depends_on,
    service=ServiceDef(8080, lambda platform: "airflow-api-server"),
    workloads=lambda spec: (("Deployment", "airflow-api-server"), ("Deployment", "airflow-scheduler")),
    web_ui=lambda spec: WebUiDef("airflow"),
    # Airflow 3's FAB auth manager lives under /auth; Flask-AppBuilder's callback is oauth-authorized/<provider>.
    oidc=OidcDef("airflow", "Airflow", ("/auth/oauth-authorized/keycloak",)),
    database_size=lambda spec: "5Gi",
    secret_shape=secret_keys,
    releases=lambda p, c: [Release(c.name, values(p, c))],
    scrape_targets=scrape_targets,
    dashboard=dashboard,
    chart_services=_services,
    chart_metrics=chart_metrics,
    hooks_under_wait=HOOKS,
    budget=tuple(PodBudget(part, f"{part}.resources", replicas=f"{part}.replicas")
                 for part in ("scheduler", "apiServer", "triggerer", "dagProcessor")),
)
