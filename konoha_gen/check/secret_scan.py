"""The secret scan: no artifact may carry anything that looks like a credential.

Two passes over every artifact:
- structural (YAML/JSON, every key and value once): detect-secrets' detectors
  of token-shaped credentials (private keys, cloud and VCS tokens, JWTs, URL
  passwords), whatever key holds them; and a key that holds a credential
  (password, secretKey, token, clientSecret, ...) must not hold a literal;
  keys that *name* a Secret or a key inside one (existingSecret, passwordKey,
  secretName, ...) are fine;
- textual (every line of every file): the token detectors again where no
  structural pass read the values (other formats, comments), `password=...`-
  style keywords and high-entropy quoted strings.
Each distinct text is scanned once, and a detector runs only on text that
holds one of its own patterns.
Only references pass: `${ENV:...}`, `${file:...}` / `${directory:...}` /
`${secrets:...}` (Kafka config providers), `vault:...`, Grafana's
`$__env{...}` / `$__file{...}`, and Secret references (`secretKeyRef`). A
finding names the file, line and rule, never the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.check.k8s import SECRET_NAME_KEY, load_documents
from konoha_gen.errors import OutputProblem

CHECK = "secret-scan"
REFERENCE = re.compile(r"^(\$\{(ENV|env|file|directory|secrets):[^}]+\}|vault:[a-z0-9_/#.-]+|\$__(env|file)\{[^}]+\})$")
_CREDENTIAL_WORDS = ("password", "passwd", "secret", "secretkey", "accesskey", "token", "apikey", "clientsecret",
                     "privatekey", "credentials", "fernetkey", "jwtsecret", "sshkey")
_NAMING_SUFFIXES = ("name", "ref", "keyref", "file", "path", "mount")
_CREDENTIAL_KEYS = ("secretkey", "accesskey", "apikey", "privatekey", "sshkey", "fernetkey")


@lru_cache(maxsize=4096)
def credential_key(key: str) -> bool:
    """True for keys whose value would be a credential itself, false for keys that name a Secret
    or a key inside one (existingSecret, passwordKey, secretName, apiSecretKeySecretName)."""
    if SECRET_NAME_KEY.match(key):
        return False
    flat = key.lower().replace("-", "").replace("_", "").replace(".", "")
    if flat.startswith("existing") or flat.endswith(_NAMING_SUFFIXES):
        return False
    if flat.endswith(_CREDENTIAL_KEYS):
        return True
    if flat.endswith(("key", "keys")):
        return False
    return flat.endswith(_CREDENTIAL_WORDS)


def scan(artifacts: list[Artifact]) -> list[OutputProblem]:
    problems: list[OutputProblem] = []
    for artifact in artifacts:
        structured = artifact.path.endswith((".yaml", ".yml", ".json"))
        documents = _documents(artifact) if structured else None
        if documents is not None:
            problems.extend(_structural(artifact, documents))
        problems.extend(_assignments(artifact, embedded_only=structured))
        problems.extend(_textual(artifact, values_scanned=documents is not None))
    return problems


def _documents(artifact: Artifact) -> tuple[Any, ...] | None:
    """The parsed documents, or None when the text does not parse (the structure check reports that)."""
    try:
        return load_documents(artifact.content)
    except Exception:
        return None


#: `key = value` / `key: value` lines of properties, conf, HCL and env files.
_ASSIGNMENT = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.\-]+)\s*[=:]\s*(?P<value>.+?)\s*$")


def _assignments(artifact: Artifact, *, embedded_only: bool) -> Iterator[OutputProblem]:
    """Credential-named keys with a literal value in line-oriented formats (and, in YAML/JSON, in
    `key=value` text embedded in strings, such as Trino catalogs). In HCL only quoted strings are
    literals (`var.x` or `random_password.y.result` are references)."""
    hcl = artifact.path.endswith((".tf", ".hcl"))
    shell = artifact.path.endswith(".sh")
    for number, line in enumerate(artifact.content.splitlines(), 1):
        if embedded_only and "=" not in line:
            continue
        match = _ASSIGNMENT.match(line if not embedded_only else line.strip().strip('"'))
        if match is None or line.lstrip().startswith(("#", "--", "//")):
            continue
        key, value = match.group("key"), match.group("value")
        if "secretkeyref" in key.lower():
            continue  # spark.kubernetes.*.secretKeyRef.<ENV>=<secret>:<key> names a Secret, like secretKeyRef in YAML
        if not credential_key(key.rsplit(".", 1)[-1]) and not credential_key(key):
            continue
        if hcl and not value.startswith('"'):
            continue
        if shell and value.lstrip('"').startswith("$"):
            continue  # a parameter or command substitution: the value comes from elsewhere at run time
        literal = value.strip('"').strip("'")
        if literal and not REFERENCE.match(literal):
            yield OutputProblem(artifact.path, f"line {number}: {key} holds a literal credential", CHECK)


def _structural(artifact: Artifact, documents: tuple[Any, ...]) -> Iterator[OutputProblem]:
    """Every key and value of every document: token-shaped credentials (once per distinct text) and literals under
    credential keys."""
    for index, document in enumerate(documents):
        found: list[tuple[str, str]] = []
        _visit(document, [], found)
        for path, problem in found:
            yield OutputProblem(artifact.path, f"document {index}: {path} {problem}", CHECK)


def _visit(node: Any, path: list[str], found: list[tuple[str, str]]) -> None:
    """Depth first, with one path list pushed and popped (no tuple per leaf): a key is read once, a value once."""
    if isinstance(node, dict):
        names_a_secret = "secretName" in node  # {secretName, secretKey}: which key of which Secret (Airflow's `secret`)
        for key, value in node.items():
            if key in ("secretKeyRef", "secretRef") or (names_a_secret and key in ("secretKey", "key")):  # references
                continue
            path.append(str(key))
            kind = _token_in(path[-1])  # label keys carry text too
            if kind:
                found.append((".".join(path), f"looks like a credential ({kind})"))
            elif isinstance(value, dict | list):
                _visit(value, path, found)
            else:
                _leaf(value, path, found)
            path.pop()
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _visit(item, path, found)
            else:
                _leaf(item, path, found)
    else:
        _leaf(node, path, found)


def _leaf(value: Any, path: list[str], found: list[tuple[str, str]]) -> None:
    kind = _token_in(value) if isinstance(value, str) else None
    if kind:
        found.append((".".join(path), f"looks like a credential ({kind})"))
    if path and isinstance(value, str | int) and credential_key(path[-1]):
        text = str(value)
        if text.strip() and not REFERENCE.match(text):
            found.append((".".join(path), "holds a literal credential (only Secret references, ${ENV:...}, "
                          "${file:...} or vault: may appear)"))


@cache
def _line_detectors(structured: bool) -> tuple[tuple[Any, re.Pattern[str]], ...]:
    """The detectors that need a line's context, each with a pattern every line it can flag contains: keywords (not
    in YAML/JSON, where the structural pass reads keys exactly) and high-entropy quoted strings. Token-shaped
    credentials are _token_in's, on every line whatever its key."""
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    quoted = re.compile("[\"']")
    keywords = () if structured else ((KeywordDetector(), re.compile("|".join(DENYLIST), re.IGNORECASE)),)
    return (*keywords, (Base64HighEntropyString(limit=4.5), quoted), (HexHighEntropyString(limit=3.0), quoted))


@cache
def _token_detectors() -> tuple[Any, ...]:
    """Detectors of credentials by their own shape (key IDs, VCS and Slack tokens, JWTs, PEM headers, URL
    passwords): a match is a credential whatever key holds it. Not the entropy ones: digests would match."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector

    return (PrivateKeyDetector(), AWSKeyDetector(), GitHubTokenDetector(), GitLabTokenDetector(), SlackDetector(),
            JwtTokenDetector(), BasicAuthDetector())


@cache
def _token_shapes() -> tuple[re.Pattern[str], ...]:
    """Every token detector's own patterns: a text none of them matches holds no token, so the detectors (a
    generator and filters per pattern) run only on the few texts one matches. (Searched one by one: an alternation
    of them all is twice as slow, as it loses each pattern's literal prefix.)"""
    return tuple(regex for detector in _token_detectors() for regex in detector.denylist)


@lru_cache(maxsize=65536)
def _token_in(text: str) -> str | None:
    """The type of the first token-shaped credential in one value or line (once per distinct text)."""
    if len(text) < 10 or REFERENCE.match(text) or not any(shape.search(text) for shape in _token_shapes()):
        return None
    for line in text.splitlines() or [text]:
        for detector in _token_detectors():
            for found in detector.analyze_string(line):
                if not REFERENCE.match(found):
                    return str(detector.secret_type)
    return None


def _textual(artifact: Artifact, *, values_scanned: bool) -> Iterator[OutputProblem]:
    """Every line: token shapes (in parsed YAML/JSON only comment lines: the structural pass read every key and
    value), then keywords and high-entropy quoted strings."""
    suffix = artifact.path.rsplit(".", 1)[-1]
    filename = f"artifact.{suffix}"  # detectors tune their patterns by file type
    for number, line in enumerate(artifact.content.splitlines(), 1):
        stripped = line.strip()
        kind = _token_in(stripped) if not values_scanned or stripped.startswith("#") else None
        if kind:
            yield OutputProblem(artifact.path, f"line {number}: looks like a credential ({kind})", CHECK)
            continue
        if len(stripped) < 16:
            continue  # shorter than any token or key the detectors know; keywords are the other passes' job
        for kind, value in _findings(filename, line):
            if REFERENCE.match(value) or _names_a_secret(line, value):
                continue
            yield OutputProblem(artifact.path, f"line {number}: looks like a credential ({kind})", CHECK)


#: (file name, line) -> what the detectors find in it: a line is scanned once per distinct text and file type,
#: however many artifacts repeat it (the detectors depend on nothing else; the line number only labels results).
_FOUND: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}


def _findings(filename: str, line: str) -> tuple[tuple[str, str], ...]:
    """(type, value) of every secret the detectors see in `line` of a file named `filename`, in detector order."""
    key = (filename, line)
    found = _FOUND.get(key)
    if found is None:
        structured = filename.endswith((".yaml", ".yml", ".json"))
        found = tuple(dict.fromkeys(finding for detector, needed in _line_detectors(structured) if needed.search(line)
                                    for finding in _detect(detector, filename, line)))
        _FOUND[key] = found
    return found


def _detect(detector: Any, filename: str, line: str) -> Iterator[tuple[str, str]]:
    """What detector.analyze_line finds. For the high-entropy detectors, their own two steps (the quoted strings,
    then the entropy above the limit), skipping the entropy of a string too short to exceed it: n characters hold
    at most log2(n) bits each."""
    limit = getattr(detector, "entropy_limit", None)
    if limit is None:
        for secret in detector.analyze_line(filename=filename, line=line, line_number=0):
            yield str(secret.type), str(secret.secret_value or "")
        return
    for value in detector.analyze_string(line):
        if math.log2(len(value) or 1) > limit and detector.calculate_shannon_entropy(value) > limit:
            yield str(detector.secret_type), value


def _names_a_secret(line: str, value: str) -> bool:
    """`existingSecret: minio-root`, `passwordKey: password`: the value names a Secret or a key, it is not one."""
    key = line.split(":", 1)[0].strip().strip('"').strip("-").strip()
    return bool(key) and not credential_key(key) and ":" in line
