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

from konoha_gen.errors import shown


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
            raise PydanticCustomError(name, "'{value}' is not valid: {rule}", {"value": shown(value), "rule": rule})
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


# An unquoted SQL identifier (column names in keys, partitionBy, columns): the grammar Postgres, MySQL, Spark SQL
# and Trino all accept without quoting, so the value can never close a quote or end a statement.
SQL_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
SqlIdentifier = Annotated[
    str,
    pattern_rule("sql_identifier", SQL_IDENTIFIER,
             "a column name is an unquoted SQL identifier: a letter or '_', then letters, digits or '_', at most 63 "
             "characters"),
]
# A database name: Postgres (NAMEDATALEN 63) and MySQL (64, '$' allowed) unquoted identifier rules, intersected.
DatabaseName = Annotated[
    str,
    pattern_rule("database_name", r"[A-Za-z_][A-Za-z0-9_$]{0,62}",
             "a database name is an unquoted Postgres/MySQL identifier: a letter or '_', then letters, digits, '_' "
             "or '$', at most 63 characters"),
]
# Iceberg partition transform over a column: col, years/months/days/hours(col), bucket/truncate(col, N).
PartitionField = Annotated[
    str,
    pattern_rule("partition_field",
             rf"{SQL_IDENTIFIER}|(years|months|days|hours)\({SQL_IDENTIFIER}\)"
             rf"|(bucket|truncate)\(\s*({SQL_IDENTIFIER}\s*,\s*[0-9]+|[0-9]+\s*,\s*{SQL_IDENTIFIER})\s*\)",
             "a partition field is a column, years(col), months(col), days(col), hours(col), bucket(col, N) or "
             "truncate(col, N), the column an unquoted SQL identifier"),
]
# apimachinery validation.IsQualifiedName: an optional DNS-1123 subdomain prefix and '/', then a name of at most
# 63 characters.
_K8S_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LabelKey = Annotated[
    str,
    Field(max_length=317),
    pattern_rule("label_key", rf"({_DNS_SUBDOMAIN}/)?{_K8S_NAME}",
             "a label key is a qualified name: an optional DNS subdomain prefix and '/', then at most 63 "
             "alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric (apimachinery IsQualifiedName)"),
]
LabelValue = Annotated[
    str,
    pattern_rule("label_value", rf"{_K8S_NAME}?",
             "a label value is empty or at most 63 alphanumerics, '-', '_' or '.', starting and ending with an "
             "alphanumeric (apimachinery IsValidLabelValue)"),
]
# A key of a Kubernetes Secret's data (apimachinery IsConfigMapKey): where VSO writes each key of a Vault secret.
SecretKey = Annotated[
    str,
    Field(max_length=253),
    pattern_rule("secret_key", r"[-._a-zA-Z0-9]+",
             "a secret key becomes a key of a Kubernetes Secret: letters, digits, '-', '_' and '.' only "
             "(apimachinery IsConfigMapKey)"),
]
# DNS-1123 subdomain (apimachinery IsDNS1123Subdomain), e.g. an IngressClass name.
DnsSubdomain = Annotated[
    str,
    Field(max_length=253),
    pattern_rule("dns_subdomain", _DNS_SUBDOMAIN,
             "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or "
             "digit"),
]
# distribution/reference grammar: [domain[:port]/]path[:tag][@digest].
_REF_DOMAIN = r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(\.([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*"
_REF_PATH = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
ImageReference = Annotated[
    str,
    Field(max_length=255),
    pattern_rule("image_reference",
             rf"({_REF_DOMAIN}(:[0-9]+)?/)?{_REF_PATH}(/{_REF_PATH})*(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
             r"(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?",
             "an image reference is [registry[:port]/]path[:tag][@digest] (distribution reference grammar), e.g. "
             "registry.example.com/team/spark:3.5.3"),
]
# A version string (catalogue override): the image tag grammar, so it is safe in a tag, a URL and a file name.
Version = Annotated[
    str,
    pattern_rule("version", r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}",
             "a version is letters, digits, '.', '_', '+' or '-' (at most 128), e.g. 1.2.3 or v0.48.1"),
]
# git check-ref-format, restricted: no spaces, control characters, '..', '~^:?*[\\' or leading '-'/'/'.
GitRef = Annotated[
    str,
    Field(max_length=255),
    pattern_rule("git_ref", r"(?!.*\.\.)(?!.*//)[A-Za-z0-9_][A-Za-z0-9._/-]*(?<![./])",
             "a git branch is letters, digits, '.', '_', '/' and '-' (git check-ref-format), e.g. main or "
             "release/1.2"),
]
RepoPath = Annotated[
    str,
    pattern_rule("repo_path", r"(?!.*\.\.)[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*",
             "a folder inside the repository is letters, digits, '.', '_' and '-' separated by '/', without '..'"),
]

_SECRET_QUERY = re.compile(r"[?&;](?P<name>[^=&;#]*(token|password|passwd|pwd|secret|key|signature|auth)[^=&;#]*)=",
                           re.IGNORECASE)


def check_url(value: str) -> str:
    """No whitespace or control characters, an http(s)/ssh scheme or scp-like git@host:, no password in the userinfo
    and no credential in the query string."""
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029" for ch in value):
        raise PydanticCustomError("url_characters", "a URL must not contain whitespace or control characters", {})
    userinfo = re.match(r"[a-z][a-z0-9+.-]*://(?P<userinfo>[^/?#@]*)@", value)
    if userinfo and ":" in userinfo.group("userinfo"):
        raise PydanticCustomError("plaintext_secret_url", "a URL must not carry credentials (user:password@)", {})
    if userinfo and value.startswith(("http://", "https://")):
        raise PydanticCustomError("plaintext_secret_url", "an https URL must not carry credentials (user@)", {})
    query = _SECRET_QUERY.search(value.split("#", 1)[0])
    if query:
        raise PydanticCustomError("plaintext_secret_url",
                                  "a URL must not carry credentials (query parameter '{name}')",
                                  {"name": query.group("name")[:40]})
    return value


def _check_git_url(value: str) -> str:
    check_url(value)
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
