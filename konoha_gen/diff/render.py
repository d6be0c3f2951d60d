"""A diff Report as text (terminal), markdown (a pull-request comment) or JSON (bots).

Rendering only: every decision about what changed and what it means is made
before. Output is deterministic: the same report renders to the same bytes.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import click

from konoha_gen import __version__
from konoha_gen.diff.compare import MISSING, FieldChange, ResourceChange, canonical, format_path, path_json
from konoha_gen.diff.impact import Finding

if TYPE_CHECKING:
    from konoha_gen.diff import Report

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- konoha-gen-diff -->"
CATEGORIES = {  # order and heading of each resource category
    "connector": "Connectors", "terraform": "Terraform", "kubernetes": "Kubernetes objects",
    "helm-values": "Helm values",
    "kustomize": "Kustomize", "conf": "Spark and Kyuubi configuration", "dbt": "dbt", "sql": "Source database SQL",
    "file": "Other files",
}
SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}
MAX_LINES = 80  # per resource; the rest is counted


# --- shared ---------------------------------------------------------------------------------------------------


def ordered(changes: Iterable[ResourceChange]) -> list[ResourceChange]:
    order = list(CATEGORIES)
    return sorted(changes,
                  key=lambda c: (order.index(c.resource.category) if c.resource.category in order else len(order),
                                 c.key))


def scalar(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value) if value == "" or value != value.strip() else value
    return canonical(value)


def _multiline(change: FieldChange) -> bool:
    return any(isinstance(v, str) and "\n" in v.strip("\n") for v in (change.old, change.new))


def field_lines(change: FieldChange) -> Iterator[tuple[str, str]]:
    """(sign, text) lines of one field change: '-' old, '+' new, '@' a heading for a multi-line value."""
    path = format_path(change.path)
    if _multiline(change):
        old = change.old.splitlines() if isinstance(change.old, str) else []
        new = change.new.splitlines() if isinstance(change.new, str) else []
        yield "@", path
        for line in difflib.unified_diff(old, new, lineterm="", n=0):
            if line.startswith(("---", "+++", "@@")):
                continue
            yield line[0], ("  " + line[1:]).rstrip()
        return
    if change.old is not MISSING:
        yield "-", f"{path}: {scalar(change.old)}"
    if change.new is not MISSING:
        yield "+", f"{path}: {scalar(change.new)}"


def resource_lines(change: ResourceChange, limit: int = MAX_LINES) -> list[tuple[str, str]]:
    """The field lines of one resource, at most `limit` of them (the rest counted)."""
    lines = [line for field in change.fields for line in field_lines(field)]
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], (" ", f"... {len(lines) - limit} more line(s); --format json has them all")]


def located(change: ResourceChange) -> str:
    """The resource's file, when its title does not already say it."""
    resource = change.resource
    return "" if resource.title.startswith(resource.file) else resource.file


def summary_rows(report: Report) -> list[tuple[str, int, list[str]]]:
    """(what, how many, which) rows of the impact table; rows with nothing are left out."""
    by_area: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_area.setdefault(finding.area, []).append(finding)
    rows: list[tuple[str, int, list[str]]] = []

    def row(title: str, findings: list[Finding], show: Callable[[Finding], str] = lambda f: f.subject) -> None:
        names = list(dict.fromkeys(show(f) for f in findings))
        if names:
            rows.append((title, len(names), names))

    row("Flux Kustomizations reconcile", by_area.get("flux", []), lambda f: f.subject.removeprefix("Kustomization "))
    helm = by_area.get("helm", [])
    for action, title in (("install", "HelmReleases install"), ("upgrade", "HelmReleases upgrade"),
                          ("uninstall", "HelmReleases uninstall")):
        row(title, [f for f in helm if f.action == action], lambda f: f.subject.removeprefix("HelmRelease "))
    row("Workloads roll", [f for f in by_area.get("workload", []) if f.action == "roll"])
    row("Workloads may roll (their HelmRelease upgrades)",
        [f for f in by_area.get("workload", []) if f.action == "may roll"])
    connectors = by_area.get("connector", [])
    for action, title in (("start", "Connectors start"), ("restart", "Connectors restart"),
                          ("re-snapshot", "Connectors snapshot again"),
                          ("delete", "Connectors deleted")):
        row(title, [f for f in connectors if f.action == action], lambda f: f.subject.removeprefix("connector "))
    terraform = by_area.get("terraform", [])
    for action, title in (("create", "Terraform creates"), ("update", "Terraform updates in place"),
                          ("replace", "Terraform replaces"),
                          ("destroy", "Terraform destroys"), ("read", "Terraform reads")):
        row(title, [f for f in terraform if f.action == action])
    row("Kubernetes objects deleted", by_area.get("kubernetes", []))
    row("Files to act on", by_area.get("files", []))
    return rows


def counts(report: Report) -> str:
    tally = {action: sum(1 for c in report.changes if c.action == action) for action in ("added", "changed", "removed")}
    parts = [f"{n} {action}" for action, n in tally.items() if n]
    total = len(report.changes)
    return f"{total} resource{' differs' if total == 1 else 's differ'}: {', '.join(parts)}" if total else "no changes"


def _severe(report: Report, severity: str) -> list[Finding]:
    return [f for f in report.findings if f.severity == severity]


# --- text -----------------------------------------------------------------------------------------------------


def text(report: Report, *, color: bool = False) -> str:
    def style(value: str, **kwargs: Any) -> str:
        return click.style(value, **kwargs) if color else value

    out = [style(f"konoha-gen diff: {report.base} -> {report.head}", bold=True), counts(report)]
    if not report.changed:
        return "\n".join(out) + "\n"
    for severity, label, fg in (("danger", "DANGER", "red"), ("warning", "WARNING", "yellow")):
        findings = _severe(report, severity)
        if findings:
            out += ["", style(f"{label} ({len(findings)})", fg=fg, bold=True)]
            out += [f"  {style('!', fg=fg, bold=True)} {f.subject}: {f.action}: {f.reason}" for f in findings]
    rows = summary_rows(report)
    if rows:
        out += ["", style("IMPACT", bold=True)]
        width = max(len(title) for title, _n, _names in rows)
        out += [f"  {title.ljust(width)}  {n:>3}  {_some(names, 6)}" for title, n, names in rows]
        out += ["", style("WHY", bold=True)]
        out += [f"  {f.subject}: {f.action}: {f.reason}" for f in _severe(report, "info")]
    out += ["", style("CHANGES", bold=True)]
    colors = {"+": "green", "-": "red", "@": "cyan", " ": None}
    for change in ordered(report.changes):
        sign = SYMBOLS[change.action]
        head = f"{sign} {change.resource.title}"
        where = located(change)
        located_at = style(f"  ({where})", dim=True) if where else ""
        out.append(style(head, fg={"+": "green", "-": "red", "~": "yellow"}[sign], bold=True) + located_at)
        for mark, line in resource_lines(change):
            prefix = "" if mark in "@ " else f"{mark} "
            out.append("    " + style(prefix + line, fg=colors.get(mark)))
    return "\n".join(out) + "\n"


def _some(items: list[str], limit: int) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# --- markdown -------------------------------------------------------------------------------------------------


def markdown(report: Report, *, limit: int = GITHUB_COMMENT_LIMIT, command: str = "konoha-gen diff") -> str:
    """A PR comment: alerts, the impact table, then one collapsible block per resource; at most `limit` characters."""
    title = [MARKER, f"### konoha-gen diff: `{report.base}` → `{report.head}`", ""]
    if not report.changed:
        return "\n".join([*title, "No change to the generated tree: nothing reconciles, upgrades, restarts or "
                                  "is destroyed.", ""])
    head = "\n".join([*title, f"**{counts(report)}.**", "", *_md_alerts(report, limit // 4), *_md_table(report),
                      *_md_why(report, limit // 4)])
    footer = f"\n<sub>konoha-gen {__version__} · `{command}` · secret values are masked</sub>\n"
    blocks = list(_markdown_blocks(report))
    budget = limit - len(head) - len(footer) - 400  # room for the truncation note
    shown: list[str] = []
    for block in blocks:
        if len(block) + 1 > budget:
            break
        shown.append(block)
        budget -= len(block) + 1
    parts = [head, *shown]
    hidden = sum(block.startswith("<details>") for block in blocks[len(shown):])
    if hidden:
        parts.append(f"\n> [!NOTE]\n> {hidden} more resource change(s) are not shown to keep this comment "
                     f"under {limit:,} characters. Run `{command}` locally or read the job log for all of them.\n")
    return "\n".join(parts) + footer


def _bounded(lines: list[str], max_chars: int, more: str) -> list[str]:
    """As many of `lines` as fit in `max_chars`, then `more` (formatted with the count left out)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > max_chars:
            return [*kept, more.format(len(lines) - len(kept))]
        kept.append(line)
        used += len(line) + 1
    return kept


def _md_alerts(report: Report, max_chars: int) -> Iterator[str]:
    for severity, kind, title in (("danger", "CAUTION", "dangerous"), ("warning", "WARNING", "to check")):
        findings = _severe(report, severity)
        if findings:
            yield from [f"> [!{kind}]", f"> **{len(findings)} {title}**"]
            yield from _bounded([f"> - **{_md(f.subject)}** ({f.action}): {_md(f.reason)}" for f in findings],
                                max_chars // 2,
                                "> - ... and {} more (--format json lists all)")
            yield ""


def _md_table(report: Report) -> Iterator[str]:
    rows = summary_rows(report)
    if rows:
        yield from ["| Impact | # | Which |", "|---|--:|---|"]
        yield from (f"| {title} | {n} | {_cell(names)} |" for title, n, names in rows)
        yield ""


def _md_why(report: Report, max_chars: int) -> Iterator[str]:
    reasons = _severe(report, "info")
    if reasons:
        yield from ["<details><summary>Why</summary>", ""]
        yield from _bounded([f"- **{_md(f.subject)}** ({f.action}): {_md(f.reason)}" for f in reasons], max_chars,
                            "- ... and {} more (--format json lists all)")
        yield from ["", "</details>", ""]


def _markdown_blocks(report: Report) -> Iterator[str]:
    current = ""
    for change in ordered(report.changes):
        category = change.resource.category
        if category != current:
            current = category
            yield f"#### {CATEGORIES.get(category, category)}\n"
        yield _details(change)


def _details(change: ResourceChange) -> str:
    resource = change.resource
    lines = resource_lines(change)
    fields = len(change.fields)
    what = {"added": "added", "removed": "removed",
            "changed": f"{fields} field{'' if fields == 1 else 's'} changed"}[change.action]
    where = located(change)
    located_at = f" <sub>{_html(where)}</sub>" if where else ""
    summary = f"<code>{SYMBOLS[change.action]}</code> <b>{_html(resource.title)}</b> — {what}" + located_at
    body = "\n".join(("  " if mark == " " else "@@ " if mark == "@" else f"{mark} ") + line
                     + (" @@" if mark == "@" else "")
                     for mark, line in lines)
    fence = "```"
    while fence in body:
        fence += "`"
    return f"<details><summary>{summary}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>\n"


def _md(value: str) -> str:
    """Plain text inside markdown: no emphasis, tables, HTML or line breaks by accident."""
    for char in "\\`*|":
        value = value.replace(char, "\\" + char)
    return value.replace("<", "&lt;").replace("\n", " ")


def _html(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(names: list[str], limit: int = 8) -> str:
    shown = ", ".join("`" + n.replace("|", "¦").replace("`", "'") + "`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --- JSON -----------------------------------------------------------------------------------------------------


def as_json(report: Report) -> str:
    payload = {
        "base": report.base,
        "head": report.head,
        "changed": report.changed,
        "summary": {
            "added": sum(c.action == "added" for c in report.changes),
            "changed": sum(c.action == "changed" for c in report.changes),
            "removed": sum(c.action == "removed" for c in report.changes),
            "danger": len(_severe(report, "danger")),
            "warning": len(_severe(report, "warning")),
            "impact": [{"what": title, "count": n, "which": names} for title, n, names in summary_rows(report)],
        },
        "findings": [{"area": f.area, "subject": f.subject, "action": f.action, "severity": f.severity,
                      "reason": f.reason}
                     for f in report.findings],
        "resources": [_resource_json(c) for c in ordered(report.changes)],
    }
    return json.dumps(payload, indent=2, default=str) + "\n"


def _resource_json(change: ResourceChange) -> dict[str, Any]:
    resource = change.resource
    fields = []
    for field in change.fields:
        item: dict[str, Any] = {"path": format_path(field.path), "pathParts": path_json(field.path)}
        if field.old is not MISSING:
            item["old"] = field.old
        if field.new is not MISSING:
            item["new"] = field.new
        fields.append(item)
    return {"key": change.key, "action": change.action, "category": resource.category, "title": resource.title,
            "file": resource.file, "meta": dict(resource.meta), "fields": fields}
