"""Every Kubernetes document, validated strictly (unknown fields fail): core
kinds against the Kubernetes OpenAPI schema of spec.cluster.kubernetesVersion
(the kubernetes-validate package's strict schemas), custom resources against
their CRD's JSON Schema. A kind with no schema is an error, not a skip."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, cast

import jsonschema
import jsonschema_rs
import yaml
from referencing import Registry, Resource

from konoha_gen.artifact import Artifact
from konoha_gen.kube import load_documents as load_documents  # re-exported: the checks import it from here

#: Keys whose value is the name of a Secret (chart values and CRD fields that take an existing Secret), read by the
#: wiring check (the Secret must be produced) and the secret scan (the value is a name, not a credential):
#: Airflow dags.gitSync.sshKeySecret, Strimzi build.output.pushSecret, charts' existingSecret / *SecretName.
SECRET_NAME_KEY = re.compile(r"^(existingSecret|secretName|existingClientSecretName|sshKeySecret|pushSecret"
                             r"|[A-Za-z]+SecretName)$")

CHECK = "schema"
_GROUP_PREFIX = re.compile(r"^([^./]*)(?:\.[^/]*)?/")
VENDORED = Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class DocumentProblem:
    path: str
    index: int
    kind: str
    name: str
    field: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.index}: {self.kind}/{self.name}: {self.field}: {self.message}"


#: Top-level folders of out/ whose YAML files are Kubernetes manifests (see OUTPUT.md's layout).
MANIFEST_ROOTS = ("clusters", "layers", "infrastructure", "platform")


@cache
def is_kubernetes_file(path: str) -> bool:
    """YAML files holding Kubernetes objects: under the manifest folders, except Helm values files and
    kustomize transformer configs (checked by the values check and `kubectl kustomize` instead)."""
    posix = PurePosixPath(path)
    name = posix.name
    return (posix.parts[0] in MANIFEST_ROOTS and name.endswith((".yaml", ".yml"))
            and not name.startswith("values") and name != "kustomizeconfig.yaml")


@dataclass(frozen=True)
class _Schema:
    """One kind's schema file, with the validators built from it on first use."""

    path: Path
    core: bool  # a Kubernetes schema (JSON Schema 2020-12, $refs into _definitions.json), else a CRD's (draft 7)

    def is_valid(self, doc: dict[str, Any]) -> bool:
        return bool(_fast_validator(self.path, self.core).is_valid(doc))

    def iter_errors(self, doc: dict[str, Any]) -> Iterator[Any]:
        return cast(Iterator[Any], (_core_validator if self.core else _crd_validator)(self.path).iter_errors(doc))


class SchemaSet:
    """Validators for one Kubernetes version and one CRD schema folder, built once per kind.

    A document is validated by jsonschema-rs first, in compiled code; only a document it finds invalid is
    validated again by jsonschema, whose error messages and paths the reports show. Both implement the same drafts
    with formats not asserted (tests/test_schema_validators.py holds them to the same verdicts)."""

    def __init__(self, kubernetes_version: str, crd_dir: Path | None = None) -> None:
        self.core_dir = _core_dir(kubernetes_version)
        self.crd_dir = crd_dir or VENDORED
        self._schemas: dict[tuple[str, str], _Schema | None] = {}

    def errors(self, doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
        """(field path, message) for each problem of one document."""
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            yield "<root>", "not a Kubernetes object: apiVersion and kind are required"
            return
        if (api_version, kind) not in self._schemas:
            self._schemas[(api_version, kind)] = self._schema(api_version, kind)
        schema = self._schemas[(api_version, kind)]
        if schema is None:
            yield "<root>", (f"no schema for {api_version} {kind} "
                             f"(neither Kubernetes {self.core_dir.name} nor {self.crd_dir})")
            return
        if schema.is_valid(doc):
            return
        for error in sorted(schema.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
            yield ".".join(str(p) for p in error.absolute_path) or "<root>", error.message

    def _schema(self, api_version: str, kind: str) -> _Schema | None:
        group, _, version = api_version.rpartition("/")
        if group.startswith("kustomize.config.k8s.io") and kind == "Kustomization":
            return _Schema(self.crd_dir / "kustomization-file.json", core=False)
        # rbac.authorization.k8s.io/v1 -> rbac-v1; v1 -> v1 (kubernetes-validate's file names)
        flat = _GROUP_PREFIX.sub(r"\1-", api_version)
        core = self.core_dir / f"{kind.lower()}-{flat}.json"
        if core.is_file():
            return _Schema(core, core=True)
        crd = self.crd_dir / f"{kind}-{group.split('.')[0]}-{version}.json".lower()
        return _Schema(crd, core=False) if crd.is_file() else None


def _core_dir(kubernetes_version: str) -> Path:
    import kubernetes_validate.utils as kv

    versions = [v for v in kv.all_versions() if _minor(v) <= _minor(kubernetes_version)]
    if not versions:
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {kubernetes_version}")
    base = Path(kv.__file__).parent / "kubernetes-json-schema"
    return base / f"v{versions[-1]}-local-strict"


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


@cache
def _definitions(core_dir: Path) -> Registry:
    return Resource.from_contents(_read_schema(core_dir / "_definitions.json")) @ Registry()


@cache
def _core_validator(path: Path) -> Any:
    schema = _read_schema(path)
    registry = Resource.from_contents(schema) @ _definitions(path.parent)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@cache
def _crd_validator(path: Path) -> Any:
    return jsonschema.Draft7Validator(_read_schema(path))


@cache
def _read_schema(path: Path) -> Any:
    return json.loads(path.read_text())


@cache
def _fast_registry(core_dir: Path) -> Any:
    definitions = _read_schema(core_dir / "_definitions.json")
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


@cache
def _fast_validator(path: Path, core: bool) -> Any:
    """jsonschema-rs's validator of one schema file; formats are not asserted, as jsonschema does by default."""
    if core:
        return jsonschema_rs.Draft202012Validator(_read_schema(path), validate_formats=False,
                                                  registry=_fast_registry(path.parent))
    return jsonschema_rs.Draft7Validator(_read_schema(path), validate_formats=False)




def kubernetes_objects(artifacts: Iterable[Artifact]) -> Iterator[tuple[Artifact, dict[str, Any]]]:
    """(artifact, object) for every mapping document of every Kubernetes file. A file that does not parse
    is skipped: the structure check reports it."""
    for artifact in artifacts:
        if not is_kubernetes_file(artifact.path):
            continue
        try:
            documents = load_documents(artifact.content)
        except yaml.YAMLError:
            continue
        yield from ((artifact, doc) for doc in documents if isinstance(doc, dict))


def validate_text(path: str, text: str, schemas: SchemaSet) -> list[DocumentProblem]:
    """All problems of one YAML file's documents, as `path:doc-index: kind/name: field: message`."""
    try:
        documents = load_documents(text)
    except yaml.YAMLError as exc:
        return [DocumentProblem(path, 0, "?", "?", "<yaml>", f"not valid YAML: {type(exc).__name__}")]
    problems = []
    for index, doc in enumerate(d for d in documents if d is not None):
        if not isinstance(doc, dict):
            problems.append(DocumentProblem(path, index, "?", "?", "<root>", "a document must be a mapping"))
            continue
        name = str((doc.get("metadata") or {}).get("name", "-")) if isinstance(doc.get("metadata"), dict) else "-"
        for field, message in schemas.errors(doc):
            problems.append(DocumentProblem(path, index, str(doc.get("kind", "?")), name, field, message))
    return problems


def validate_tree(root: Path, schemas: SchemaSet) -> tuple[int, list[DocumentProblem]]:
    """Validate every Kubernetes YAML file under root; returns (documents checked, problems)."""
    problems: list[DocumentProblem] = []
    count = 0
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = file.relative_to(root).as_posix()
        if not is_kubernetes_file(relative):
            continue
        text = file.read_text("utf-8")
        count += sum(1 for d in load_documents(text) if d is not None)
        problems.extend(validate_text(relative, text, schemas))
    return count, problems
