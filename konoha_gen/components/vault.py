"""Vault: every credential of the platform, read by workloads through Vault Secrets Operator."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values, WebUiDef
from konoha_gen.components.chart_values import fullname, resources, setting
from konoha_gen.components.vault_secrets_operator import connection
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Platform

#: Ready while sealed or uninitialised, so the Helm install (and Flux's wait) completes and the bootstrap can
#: initialise and unseal it (Vault API /sys/health: 501 uninitialised and 503 sealed unless overridden; the chart's
#: default exec probe `vault status` fails until unsealed: vault-helm templates/server-statefulset.yaml).
READINESS_PATH = "/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204"
#: Integrated storage (Raft) on the data volume: vault-helm values server.ha.raft.config.
DATA_SIZE = "2Gi"


def raft_config(p: Platform, c: Component, replicas: int) -> str:
    """The server's HCL: the chart's default Raft config, plus retry_join so that followers join the first server."""
    joins = "".join(f'\n  retry_join {{\n    leader_api_addr = "http://{c.name}-{i}.{c.name}-internal:8200"\n  }}'
                    for i in range(replicas) if replicas > 1)
    return ("ui = true\n\n"
            'listener "tcp" {\n  tls_disable = 1\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n}\n\n'
            f'storage "raft" {{\n  path = "/vault/data"{joins}\n}}\n\n'
            'service_registration "kubernetes" {}\n')


def replicas(p: Platform) -> int:
    """Vault servers: 3 for ha; 1 otherwise (dev is in memory, standalone one Raft node)."""
    return 3 if p.spec.secrets.vault.mode == "ha" else 1


def values(p: Platform, c: Component) -> Values:
    mode = p.spec.secrets.vault.mode
    server: Values = {"resources": resources("256Mi")}
    if mode == "dev":
        server["dev"] = {"enabled": True}  # in-memory and auto-unsealed, root token "root": asked for, never exposed
    else:
        # standalone is a one-node Raft cluster: the chart's documented route to integrated storage (ha.raft), so
        # that ha only differs in replicas. The bootstrap initialises and unseals every server.
        count = replicas(p)
        server["ha"] = {"enabled": True, "replicas": count,
                        "raft": {"enabled": True, "setNodeId": True, "config": raft_config(p, c, count)}}
        server["dataStorage"] = {"enabled": True, "size": DATA_SIZE}
        server["readinessProbe"] = {"enabled": True, "path": READINESS_PATH}
    return {"global": {"tlsDisable": True}, "injector": {"enabled": False},
            "csi": {"enabled": False}, "ui": {"enabled": True}, "server": server}


def _web_ui(spec: PlatformSpec) -> WebUiDef | None:
    """The UI, behind the ingress; not in dev mode, whose root token is the well-known "root"."""
    return None if spec.secrets.vault.mode == "dev" else WebUiDef("vault")


COMPONENT = ComponentDef(
    name="vault", title="Vault", layer="security", catalog="vault",
    enabled=lambda spec: True, switch="always on",
    depends_on=lambda spec: ["vault-secrets-operator"],  # its folder holds the VaultConnection
    service=ServiceDef(8200),
    web_ui=_web_ui,
    workloads=lambda spec: (("StatefulSet", "vault"),),
    releases=lambda p, c: [Release(c.name, values(p, c))],
    vault_objects=lambda p: [connection(p)],
    # values.yaml: `# path: /v1/sys/health?standbyok=true`; templates/server-statefulset.yaml reads it (httpGet)
    values_in_comments=("server.readinessProbe.path",),
    chart_services=lambda r, v: [(fullname("vault", r, v), (int(setting(v, "server.service.port", 8200)),))],
    # HA: server.ha.replicas pods (the chart default, 3, at values.yaml server.ha.replicas, when the values set none)
    budget=(PodBudget("server", "server.resources", replicas="server.ha.replicas",
                      replicas_when=("server.ha.enabled", True)),),
)
