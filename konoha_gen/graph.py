"""The component dependency graph of a Platform, as mermaid or Graphviz dot."""

from __future__ import annotations

from konoha_gen.resolved import LAYERS, Platform


def _node_id(name: str) -> str:
    return name.replace("-", "_")


def mermaid(platform: Platform) -> str:
    """`graph TD` with one subgraph per layer; an edge A --> B means B needs A first."""
    lines = ["graph TD"]
    for layer in LAYERS:
        members = [c for c in platform.components if c.layer == layer]
        if not members:
            continue
        lines.append(f"  subgraph {layer}")
        lines.extend(f'    {_node_id(c.name)}["{c.title}"]' for c in members)
        lines.append("  end")
    for component in platform.components:
        lines.extend(f"  {_node_id(dep)} --> {_node_id(component.name)}" for dep in component.depends_on)
    return "\n".join(lines) + "\n"


def dot(platform: Platform) -> str:
    lines = [f'digraph "{platform.name}" {{', "  rankdir=LR;"]
    for layer in LAYERS:
        members = [c for c in platform.components if c.layer == layer]
        if not members:
            continue
        lines.append(f'  subgraph "cluster_{layer}" {{ label="{layer}";')
        lines.extend(f'    "{c.name}" [label="{c.title}"];' for c in members)
        lines.append("  }")
    for component in platform.components:
        lines.extend(f'  "{dep}" -> "{component.name}";' for dep in component.depends_on)
    lines.append("}")
    return "\n".join(lines) + "\n"
