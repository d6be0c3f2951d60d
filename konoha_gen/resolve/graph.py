"""Step 1: the components the spec turns on (from the registry), their namespaces and dependency order,
and the databases they own."""

from __future__ import annotations

from konoha_gen.catalog import upstream
from konoha_gen.components.registry import components as registry
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.names import secret_name
from konoha_gen.resolved import LAYERS, Component, Database, Service


def namespace(platform: str, layer: str) -> str:
    """<platform>-<layer>; at most 40 + 14 characters, within Kubernetes' 63."""
    return f"{platform}-{layer}"


def process_components(spec: PlatformSpec, platform: str) -> tuple[Component, ...]:
    """Every enabled component, dependencies first; a dependency on a disabled component is dropped."""
    wanted = [definition for definition in registry() if definition.enabled(spec)]
    names = {definition.name for definition in wanted}
    resolved = []
    for d in wanted:
        deps = set(d.depends_on(spec))
        if "vault-secrets-operator" in deps and d.name != "vault":
            deps.add("vault")  # its VaultAuth names the VaultConnection, which lives beside Vault
        ns = namespace(platform, d.layer)
        name = d.service_name(platform)
        service = Service(name, ns, d.service.port) if d.service is not None and name is not None else None
        resolved.append(Component(
            d.name, d.title, d.layer, ns, tuple(sorted(dep for dep in deps if dep in names)),
            service, upstream(d.catalog, spec.versions) if d.catalog else None, d.workloads(spec), d.deployed))
    return _toposort(resolved)


def process_databases(spec: PlatformSpec, components: tuple[Component, ...]) -> tuple[Database, ...]:
    """A CloudNativePG cluster per component that owns a database, bootstrapped from Vault databases/<owner>."""
    by_name = {c.name: c for c in components}
    databases = []
    for d in registry():
        if d.database_size is None or d.name not in by_name:
            continue
        ns, name = by_name[d.name].namespace, f"{d.name}-db"
        databases.append(Database(name, d.name, ns, d.database_size(spec), Service(f"{name}-rw", ns, 5432),
                                  d.name.replace("-", "_"), secret_name(d.name, f"databases/{d.name}")))
    return tuple(databases)


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
