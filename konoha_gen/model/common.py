"""Shared field types and the base model of every spec object.

Each constrained string type carries the upstream rule it enforces, so the
error message can quote it (SPEC.md "Validation" rule 6).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema


class SpecModel(BaseModel):
    """Every spec object: unknown keys are errors, YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )


class Switchable(SpecModel):
    """A section that deploys something and can be switched off."""

    enabled: bool = Field(True, description="false removes everything this component generates; references to it "
                                            "become errors")


def pattern_rule(name: str, regex: str, rule: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(name, "'{value}' is not valid: {rule}", {"value": value, "rule": rule})
        return value

    return AfterValidator(check)


# DNS-1123 label, kept <= 40 so derived names stay under Kubernetes' 63.
Name = Annotated[
    str,
    Field(max_length=40),
    pattern_rule("dns_label", r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
             "a name must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a "
             "letter or digit"),
]
# SQL-ish identifier for catalog, namespace and connection names (Spark/Trino/Airflow all accept it unquoted).
Identifier = Annotated[
    str,
    Field(max_length=63),
    pattern_rule("identifier", r"[a-z_][a-z0-9_]*", "an identifier must match [a-z_][a-z0-9_]* (unquoted in Spark, "
                                                    "Trino and Hive)"),
]
# Kubernetes resource.Quantity (apimachinery quantity.go regex, binary and decimal suffixes).
Quantity = Annotated[
    str,
    pattern_rule("quantity", r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?",
             "a Kubernetes quantity is a number with an optional suffix, e.g. 500m, 2, 4Gi, 20G"),
]
# JavaUtils.byteStringAs: digits with an optional b/k/m/g/t/p (optionally followed by b) suffix.
SparkMemory = Annotated[
    str,
    pattern_rule("spark_memory", r"[0-9]+([kmgtpKMGTP][bB]?|[bB])?",
             "Spark memory strings are digits with a unit: e.g. 512m, 2g (JavaUtils.byteStringAs)"),
]
# airlift DataSize, as Trino reads query.max-memory.
DataSize = Annotated[
    str,
    pattern_rule("data_size", r"[0-9]+(\.[0-9]+)?(B|kB|MB|GB|TB|PB)",
             "Trino data sizes are a number and a unit B, kB, MB, GB, TB or PB, e.g. 4GB (airlift DataSize)"),
]
# java.time.Duration.parse (ISO-8601), as Kyuubi reads its timeouts.
IsoDuration = Annotated[
    str,
    pattern_rule("iso_duration", r"P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
             "an ISO-8601 duration such as PT10M or PT1H30M (java.time.Duration)"),
]
# Go time.ParseDuration, as Flux reads interval and timeout.
GoDuration = Annotated[
    str,
    pattern_rule("go_duration", r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+", "a Go duration such as 30s, 1m or 1h30m "
                                                                   "(Flux intervals)"),
]
# Prometheus model.Duration, as retention is read.
PromDuration = Annotated[
    str,
    pattern_rule("prom_duration", r"([0-9]+(ms|s|m|h|d|w|y))+", "a Prometheus duration such as 12h, 7d or 2w"),
]
# Debezium `schema.table` / MySQL `database.table`.
TableName = Annotated[
    str,
    pattern_rule("table_name", r"[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*",
             "a table is written schema.table (Debezium table.include.list form), e.g. public.orders"),
]
Hostname = Annotated[
    str,
    Field(max_length=253),
    pattern_rule("hostname", r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
             "a DNS name: lowercase labels separated by dots"),
]
Port = Annotated[int, Field(ge=1, le=65535)]

_VAULT_PATH = r"[a-z0-9][a-z0-9_/-]*"
VAULT_REF = re.compile(rf"vault:(?P<path>{_VAULT_PATH})(#(?P<key>[A-Za-z0-9_.-]+))?")


def _check_git_url(value: str) -> str:
    if re.match(r"https?://[^/@]*@", value):
        raise PydanticCustomError(
            "plaintext_secret_url",
            "a git URL must not carry credentials",
            {},
        )
    if not re.fullmatch(r"(https://|ssh://|git@)[^\s]+", value):
        raise PydanticCustomError("git_url", "a git URL starts with https://, ssh:// or git@", {})
    return value


GitUrl = Annotated[str, AfterValidator(_check_git_url)]


class VaultReference:
    """A parsed `vault:<path>[#key]`: the KV path under the mount and, when the field names one, the key.

    Written in YAML (and described in the JSON Schema) as the string it is parsed from."""

    __slots__ = ("key", "path")

    def __init__(self, path: str, key: str | None = None) -> None:
        self.path = path
        self.key = key

    def __str__(self) -> str:
        return f"vault:{self.path}" + (f"#{self.key}" if self.key else "")

    def __repr__(self) -> str:
        return f"VaultReference({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VaultReference) and (self.path, self.key) == (other.path, other.key)

    def __hash__(self) -> int:
        return hash((self.path, self.key))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            _parse_vault_ref, core_schema.is_instance_schema(cls),
            serialization=core_schema.plain_serializer_function_ser_schema(str))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string"}


def _parse_vault_ref(value: Any) -> Any:
    """A credential field accepts only `vault:<path>[#key]`; anything else is plaintext."""
    if isinstance(value, VaultReference):
        return value
    if not isinstance(value, str) or not value.startswith("vault:"):
        raise PydanticCustomError("plaintext_secret", "a credential field takes only a vault: reference", {})
    match = VAULT_REF.fullmatch(value)
    if not match or "//" in value or value.endswith("/"):
        raise PydanticCustomError(
            "vault_ref",
            "a vault reference is vault:<path> or vault:<path>#<key>, the path matching [a-z0-9][a-z0-9_/-]*",
            {},
        )
    return VaultReference(match.group("path"), match.group("key"))


#: A credential field: parsed once at validation.
VaultRef = VaultReference


def vault_ref(text: str) -> VaultReference:
    """A reference written as in the spec, for defaults: vault_ref("vault:minio/root")."""
    parsed: VaultReference = _parse_vault_ref(text)
    return parsed
VaultPath = Annotated[
    str,
    pattern_rule("vault_path", _VAULT_PATH, "a Vault KV path matches [a-z0-9][a-z0-9_/-]* (no '..', no leading '/')"),
]
