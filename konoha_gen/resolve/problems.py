"""Derived-name problems, collected across the resolve steps and raised together."""

from __future__ import annotations

from konoha_gen.errors import Diagnostic, KonohaError
from konoha_gen.load import LoadedSpec
from konoha_gen.names import MAX_K8S_NAME


class Problems:
    """Each problem is located at the spec node its name derives from (a path below `spec`)."""

    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded = loaded
        self.found: list[Diagnostic] = []

    def error(self, path: tuple[str | int, ...], message: str, hint: str) -> None:
        self.found.append(self.loaded.diagnostic(("spec", *path), message, hint))

    def check_length(self, name: str, path: tuple[str | int, ...], what: str, limit: int = MAX_K8S_NAME) -> str:
        if len(name) > limit:
            self.error(path, f"derived {what} '{name}' is {len(name)} characters; the limit is {limit}",
                       "shorten the names it is made from")
        return name

    def raise_any(self) -> None:
        if self.found:
            raise KonohaError(sorted(set(self.found)))
