"""The component registry: one module per component, each declaring everything true of it (base.ComponentDef)."""
