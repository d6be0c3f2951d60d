"""Stage 3: validated spec -> one immutable Platform (konoha_gen/resolved.py) that every emitter reads.

`resolve` runs the steps in a fixed order, each a pure function of the spec and of what earlier steps
returned (dbt's ManifestLoader.load pattern): nothing is patched into a half-built Platform. Derived-name
problems from every step are reported together.
"""

from __future__ import annotations

from types import MappingProxyType

from konoha_gen.load import LoadedSpec
from konoha_gen.model import PlatformDocument
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolve.graph import process_components, process_databases
from konoha_gen.resolve.identity import process_oidc_clients, process_tenants, process_web_uis
from konoha_gen.resolve.problems import Problems
from konoha_gen.resolve.secrets import process_secrets, process_vault_roles
from konoha_gen.resolve.wiring import (
    process_dbt,
    process_kafka,
    process_kyuubi,
    process_lakehouse,
    process_sources,
)
from konoha_gen.resolved import Component, Platform


def resolve(document: PlatformDocument, loaded: LoadedSpec, spec_file: str) -> Platform:
    """Compute the Platform; derived-name problems raise KonohaError."""
    spec, name = document.spec, document.metadata.name
    problems = Problems(loaded)
    components = process_components(spec, name)
    databases = process_databases(spec, components)
    web_uis = process_web_uis(spec, components)
    oidc_clients = process_oidc_clients(components, web_uis)
    secrets = process_secrets(spec, components, databases, oidc_clients)
    tenants = process_tenants(spec, name, problems)
    kyuubi = process_kyuubi(spec, components)
    sources = process_sources(spec, name, secrets, kyuubi, problems)
    platform = Platform(
        name=name,
        spec_file=spec_file,
        spec_sha256=loaded.sha256,
        labels=MappingProxyType(dict(sorted(document.metadata.labels.items()))),
        spec=spec,
        components=components,
        secrets=secrets,
        databases=databases,
        lakehouse=process_lakehouse(spec, components),
        kyuubi=kyuubi,
        dbt=process_dbt(spec, components, kyuubi, tenants),
        kafka=process_kafka(spec, name, components, sources, problems),
        sources=sources,
        tenants=tenants,
        vault_roles=process_vault_roles(name, components, secrets),
        oidc_clients=oidc_clients,
        web_uis=web_uis,
        dashboards=_dashboards(spec, components),
    )
    problems.raise_any()
    return platform


def _dashboards(spec: PlatformSpec, components: tuple[Component, ...]) -> tuple[str, ...]:
    """The dashboards to ship: those the spec names, when Grafana runs beside Prometheus."""
    grafana = spec.observability.grafana
    prometheus = any(c.name == "kube-prometheus-stack" for c in components)
    return tuple(grafana.dashboards) if prometheus and grafana.enabled else ()
