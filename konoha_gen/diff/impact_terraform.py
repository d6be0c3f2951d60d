"""The Terraform impact rules: what a changed resource, `for_each` set, variable default or provider
version does to the objects Terraform manages."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import Any

from konoha_gen.diff.compare import ResourceChange, canonical
from konoha_gen.diff.findings import Context, Finding, field_summary, short_value, under
from konoha_gen.diff.resources import Resource, parse_tree

STATEFUL_TERRAFORM = {
    "minio_s3_bucket": "the bucket and every object in it",
    "vault_mount": "the secrets engine and every secret stored under it",
    "keycloak_realm": "the realm with its users, groups, clients and sessions",
    "vault_auth_backend": "the auth method and every role under it; logins through it fail",
    "vault_kv_secret_v2": "the secret and all its versions",
    "random_password": "the generated value; anything that used it gets a new one",
    "random_string": "the generated value; anything that used it gets a new one",
    "minikube_cluster": "the cluster and everything running in it",
    "keycloak_user": "the user with their credentials",
    "keycloak_openid_client": "the client; its secret changes when it is created again",
    "minio_iam_user": "the user and its access keys",
    "helm_release": "the Helm release (for Flux: its controllers and CRDs, and with them every Flux object)",
}

ALL_ARGUMENTS = frozenset({"*"})
FORCE_NEW = {
    "minio_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_locking"}),
    "minio_ilm_policy": frozenset({"bucket"}),
    "minio_iam_user": frozenset({"name"}),
    "minio_iam_group": frozenset({"name"}),
    "minio_iam_policy": frozenset({"name"}),
    "vault_mount": frozenset({"type", "local"}),
    "vault_auth_backend": frozenset({"type"}),
    "vault_kv_secret_v2": frozenset({"mount", "name"}),
    "vault_policy": frozenset({"name"}),
    "vault_kubernetes_auth_backend_role": frozenset({"backend", "role_name"}),
    "keycloak_realm": frozenset({"realm"}),
    "keycloak_group": frozenset({"realm_id", "parent_id"}),
    "keycloak_user": frozenset({"realm_id"}),
    "keycloak_openid_client": frozenset({"realm_id"}),
    "helm_release": frozenset({"name", "namespace"}),
    "random_password": ALL_ARGUMENTS,
    "random_string": ALL_ARGUMENTS,
    "minikube_cluster": ALL_ARGUMENTS,
}

#: `for_each = toset([...])` as HCL-to-JSON renders it.
_FOR_EACH_SET = re.compile(r"^\$\{toset\(\[(?P<items>[^\]]*)\]\)\}$")


def terraform(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category != "terraform":
            continue
        block, tf_type, address = resource.meta["block"], resource.meta["type"], resource.meta["address"]
        subject = resource.title
        if block == "resource":
            yield from _resource_change(change, tf_type, subject)
        elif block == "data" and change.action != "removed":
            yield Finding("terraform", subject, "read", "info", "data source changed")
        elif block == "variable" and change.action == "changed" and any(under(f, ("default",)) for f in change.fields):
            yield from _variable_users(resource, address, change, context)
        elif block == "terraform" and change.action == "changed":
            versions = [f for f in change.fields if under(f, ("required_providers",))]
            if versions:
                yield Finding("terraform", subject, "update", "warning",
                              f"provider versions change: {field_summary(versions)}")


def _resource_change(change: ResourceChange, tf_type: str, subject: str) -> Iterator[Finding]:
    stateful = STATEFUL_TERRAFORM.get(tf_type)
    if change.action == "added":
        yield Finding("terraform", subject, "create", "info", "new resource")
        return
    if change.action == "removed":
        assert change.old is not None
        guard = "; apply fails: lifecycle.prevent_destroy is set" if _prevents_destroy(change.old.body) else ""
        yield Finding("terraform", subject, "destroy", "danger" if stateful else "warning",
                      f"removed: destroys {stateful or 'it'}{guard}")
        return
    assert change.old is not None and change.new is not None
    yield from _instances_removed(change, tf_type, subject)
    arguments = sorted({str(f.path[0]) for f in change.fields if f.path and f.path[0] != "for_each"})
    if not arguments:
        return
    forcing = _forcing(tf_type, arguments)
    if forcing:
        yield Finding("terraform", subject, "replace", "danger" if stateful else "warning",
                      f"{', '.join(forcing)} cannot change in place: destroyed and created again"
                      + (f" ({stateful} is lost)" if stateful else "") + f"; {field_summary(change.fields)}")
    else:
        yield Finding("terraform", subject, "update", "info", f"in place: {field_summary(change.fields)}")


def _forcing(tf_type: str, arguments: Iterable[str]) -> list[str]:
    force_new = FORCE_NEW.get(tf_type, frozenset())
    return [a for a in arguments if force_new is ALL_ARGUMENTS or a in force_new]


def _prevents_destroy(body: Any) -> bool:
    lifecycle = body.get("lifecycle") if isinstance(body, dict) else None
    blocks = lifecycle if isinstance(lifecycle, list) else [lifecycle]
    return any(isinstance(b, dict) and b.get("prevent_destroy") is True for b in blocks)


def _instances_removed(change: ResourceChange, tf_type: str, subject: str) -> Iterator[Finding]:
    """`for_each = toset([...])` keys that went away: those instances are destroyed."""
    assert change.old is not None and change.new is not None
    before, after = _for_each_keys(change.old.body), _for_each_keys(change.new.body)
    if before is None or after is None:
        return
    stateful = STATEFUL_TERRAFORM.get(tf_type)
    address, module = change.resource.meta["address"], change.resource.meta["module"]
    for key in sorted(before - after):
        yield Finding("terraform", f'{address}["{key}"] ({module})', "destroy", "danger" if stateful else "warning",
                      f"for_each no longer has {key!r}: destroys {stateful or 'that instance'}")
    for key in sorted(after - before):
        yield Finding("terraform", f'{address}["{key}"] ({module})', "create", "info", f"for_each gains {key!r}")


def _for_each_keys(body: Any) -> set[str] | None:
    match = _FOR_EACH_SET.match(str(body.get("for_each", ""))) if isinstance(body, dict) else None
    if match is None:
        return None
    return {item.strip().strip('"') for item in match.group("items").split(",") if item.strip()}


def _variable_users(variable: Resource, address: str, change: ResourceChange, context: Context) -> Iterator[Finding]:
    """Resources of the module whose arguments read the variable change with it."""
    module = variable.meta["module"]
    paths = [p for p in context.head if p.endswith(".tf") and posixpath.dirname(p) == module]
    pattern = re.compile(rf"\b{re.escape(address)}\b")
    old, new = next((f.old, f.new) for f in change.fields if under(f, ("default",)))
    for resource in parse_tree(context.head, paths).values():
        if resource.meta.get("block") != "resource" or not isinstance(resource.body, dict):
            continue
        arguments = sorted(k for k, v in resource.body.items() if pattern.search(canonical(v)))
        if not arguments:
            continue
        tf_type, stateful = resource.meta["type"], STATEFUL_TERRAFORM.get(resource.meta["type"])
        via = f"{', '.join(arguments)} (from {address}: {short_value(old)} → {short_value(new)})"
        if _forcing(tf_type, arguments):
            yield Finding("terraform", resource.title, "replace", "danger" if stateful else "warning",
                          f"{via} cannot change in place: destroyed and created again"
                          + (f" ({stateful} is lost)" if stateful else ""))
        else:
            yield Finding("terraform", resource.title, "update", "info", f"in place: {via}")
