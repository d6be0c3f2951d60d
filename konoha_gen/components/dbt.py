"""dbt: configuration only, one profiles.yml target per project on its Kyuubi server (emit/dbt.py)."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef

COMPONENT = ComponentDef(
    name="dbt", title="dbt profiles", layer="compute", deployed=False,
    enabled=lambda spec: spec.modeling.dbt.enabled and bool(spec.modeling.dbt.projects),
    switch="spec.modeling.dbt.enabled",
    depends_on=lambda spec: ["kyuubi"],
)
