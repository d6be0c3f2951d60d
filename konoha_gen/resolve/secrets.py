"""Step 4: the secrets inventory (every Vault path, its keys, readers and origin) and the Vault role of
each workload that reads through Vault Secrets Operator."""

from __future__ import annotations

from konoha_gen.components.registry import components as registry
from konoha_gen.model.credentials import credential_fields
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.names import lake_user_path, secret_name
from konoha_gen.resolved import FLUX_NAMESPACE, Component, Database, OidcClient, Reader, SecretEntry, VaultRole

LAKE_KEYS = frozenset({"access-key", "secret-key"})
DATABASE_KEYS = frozenset({"username", "password"})
OIDC_KEYS = frozenset({"client-id", "client-secret"})


class _Inventory:
    """Paths -> keys, readers (component, namespace) -> keys they read, and the paths Terraform generates."""

    def __init__(self) -> None:
        self.keys: dict[str, set[str]] = {}
        self.readers: dict[str, dict[tuple[str, str | None], set[str]]] = {}
        self.generated: set[str] = set()

    def read(self, path: str, keys: frozenset[str], reader: str, namespace: str | None, *,
             replace: bool = False) -> None:
        """Record that `reader` reads `keys` of `path`; `replace` makes these the path's only keys."""
        readers = self.readers.setdefault(path, {})
        if replace:
            self.keys[path] = set(keys)
            readers[(reader, namespace)] = set(keys)
        else:
            self.keys.setdefault(path, set()).update(keys)
            readers.setdefault((reader, namespace), set()).update(keys)


def process_secrets(spec: PlatformSpec, components: tuple[Component, ...], databases: tuple[Database, ...],
                    oidc_clients: tuple[OidcClient, ...]) -> tuple[SecretEntry, ...]:
    by_name = {c.name: c for c in components}
    inventory = _Inventory()
    for cred in credential_fields(spec):  # what the spec's credential fields name
        wanted = frozenset({cred.ref.key} if cred.ref.key else cred.keys)
        for reader in cred.readers:
            owner = by_name.get(reader)
            namespace = FLUX_NAMESPACE if reader == "flux" else (owner.namespace if owner is not None else None)
            inventory.read(cred.ref.path, wanted, reader, namespace)
    definitions = [d for d in registry() if d.name in by_name]
    for d in definitions:  # each lake service's own MinIO user, which Terraform creates from the same path
        if d.lake_user and "minio" in by_name:
            path = lake_user_path(d.name)
            inventory.read(path, LAKE_KEYS, d.name, by_name[d.name].namespace, replace=True)
            inventory.read(path, LAKE_KEYS, "terraform", None, replace=True)
            inventory.generated.add(path)
    for db in databases:  # CloudNativePG bootstraps the database from this Secret; the owner logs in with it
        path = f"databases/{db.owner}"
        inventory.read(path, DATABASE_KEYS, db.owner, db.namespace, replace=True)
        inventory.generated.add(path)
    for client in oidc_clients:  # written by Terraform from Keycloak's generated client secret
        inventory.read(client.vault_path, OIDC_KEYS, client.component, by_name[client.component].namespace,
                       replace=True)
        inventory.generated.add(client.vault_path)
    for d in definitions:
        for read in d.vault_reads(spec):
            inventory.read(read.path, read.keys, d.name, by_name[d.name].namespace, replace=True)
            if read.generated:
                inventory.generated.add(read.path)

    return _entries(spec, inventory, databases)


def _entries(spec: PlatformSpec, inventory: _Inventory, databases: tuple[Database, ...]) -> tuple[SecretEntry, ...]:
    generated = {g.path: g for g in spec.secrets.generate}
    for path in spec.secrets.external:
        inventory.keys.setdefault(path, set())
    entries = []
    for path in sorted(set(inventory.keys) | set(generated)):
        gen = generated.get(path)
        all_keys = inventory.keys.get(path, set()) | set(gen.keys if gen else ())
        readers = sorted(inventory.readers.get(path, {}).items(), key=lambda i: (i[0][0], i[0][1] or ""))
        entry_readers = tuple(
            Reader(component, namespace, secret_name(component, path) if namespace else None, tuple(sorted(keys)),
                   *_shape(spec, databases, component, path, frozenset(keys)))
            for (component, namespace), keys in readers)
        entries.append(SecretEntry(path, tuple(sorted(all_keys)), entry_readers,
                                   gen is not None or path in inventory.generated, gen.length if gen else 32,
                                   _fixed(path, databases)))
    return tuple(entries)


def _fixed(path: str, databases: tuple[Database, ...]) -> tuple[tuple[str, str], ...]:
    """A database Secret's username is its owner (CloudNativePG bootstrap.initdb.owner); only the password is random."""
    owner = next((db for db in databases if path == f"databases/{db.owner}"), None)
    return (("username", owner.database),) if owner is not None else ()


def _shape(spec: PlatformSpec, databases: tuple[Database, ...], component: str, path: str,
           keys: frozenset[str]) -> tuple[tuple[tuple[str, str], ...], str]:
    """Extra Secret keys a consumer's chart expects (as VSO templates), and the Secret type."""
    definition = next((d for d in registry() if d.name == component), None)
    templates = definition.secret_shape(spec, databases, path, keys) if definition and definition.secret_shape else ()
    if path.startswith("databases/"):
        return templates, "kubernetes.io/basic-auth"  # CloudNativePG bootstraps from a basic-auth Secret
    if any(key == ".dockerconfigjson" for key, _ in templates):
        return templates, "kubernetes.io/dockerconfigjson"  # a registry credential (Kubernetes Secret types)
    return templates, "Opaque"


def process_vault_roles(platform: str, components: tuple[Component, ...],
                        secrets: tuple[SecretEntry, ...]) -> tuple[VaultRole, ...]:
    """One role per workload that reads Vault through VSO, granted exactly the paths it reads."""
    namespaces = {c.name: c.namespace for c in components}
    paths: dict[str, set[str]] = {}
    for entry in secrets:
        for reader in entry.readers:
            if reader.via_vso:
                paths.setdefault(reader.component, set()).add(entry.path)
    return tuple(VaultRole(f"{platform}-{name}", name, namespaces[name], f"{name}-vault", tuple(sorted(paths[name])))
                 for name in sorted(paths))
