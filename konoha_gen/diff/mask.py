"""Which values a diff must not show: anything that would be a credential.

konoha-gen never writes a credential into out/ (only references to Vault and
to VSO-made Secrets), but a diff is posted where many can read it, so it masks
defensively:

- every value under `data`/`stringData` of a Kubernetes Secret;
- the payload Terraform writes to Vault (`vault_kv_secret_v2` data), generated
  values (`random_password` / `random_string` results), defaults of
  `sensitive` variables;
- a string under a credential-looking key (password, secret, token, private or
  access key, ...) unless it is a reference: the key names a Secret, a key of
  one, a file or a provider (`existingSecret`, `passwordKey`,
  `secretKeyRef...`), or the value is an interpolation (`${...}`, `{{ ... }}`)
  or a `vault:`/`file:`/`env:` pointer;
- anything that looks like PEM key material.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from konoha_gen.diff.resources import Resource

MASK = "(masked)"

_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?$|password|secret|token|credential|private[-_.]?key|api[-_.]?key|access[-_.]?key|"
    r"client[-_.]?key|tls\.key|\.pem$|jaas|pwd$|^auth[-_.]?string$", re.I)
_REFERENCE_KEY = re.compile(
    r"^existing|ref$|ref[-_.]|keyref|secretref|name$|names$|file$|path$|provider|class$|enabled$|type$|mode$|"
    r"(password|username|user|token)[-_.]?key$|keys$|url$|endpoint$|mount$|policies$|data$|length$|ttl$",
    re.I)
_REFERENCE_VALUE = re.compile(r"\$\{|\{\{|^(vault|file|env|secret|directory):|^/", re.I)
_TF_SECRET_ATTRIBUTES = {
    "vault_kv_secret_v2": {"data_json", "data"},
    "vault_kv_secret": {"data_json", "data"},
    "vault_generic_secret": {"data_json"},
    "random_password": {"result", "bcrypt_hash"},
    "random_string": {"result"},
}

PathPart = Any  # str | int | an item selector; only str parts matter here


def is_secret(resource: Resource, path: Sequence[PathPart], value: Any) -> bool:
    """Whether the leaf `value` at `path` of `resource` must be shown as (masked)."""
    if value is None or isinstance(value, bool):
        return False
    keys = [p for p in path if isinstance(p, str)]
    if resource.category == "kubernetes" and resource.meta.get("kind") == "Secret" \
            and keys[:1] in (["data"], ["stringData"]):
        return True
    if resource.category == "terraform" and _terraform_secret(resource, keys):
        return True
    if isinstance(value, str) and "-----BEGIN" in value and "PRIVATE KEY" in value:
        return True
    if not isinstance(value, str | int | float) or value == "" or not keys:
        return False
    key = keys[-1]
    if not _SECRET_KEY.search(key) or _REFERENCE_KEY.search(key):
        return False
    return not (isinstance(value, str) and _REFERENCE_VALUE.search(value))


def _terraform_secret(resource: Resource, keys: list[str]) -> bool:
    if not keys:
        return False
    if keys[0] in _TF_SECRET_ATTRIBUTES.get(resource.meta.get("type", ""), set()):
        return True
    return resource.meta.get("block") == "variable" and keys[0] == "default" and resource.body.get("sensitive") is True
