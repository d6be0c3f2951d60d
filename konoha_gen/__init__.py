"""konoha-gen: compile one konoha.yaml into the GitOps tree of a lakehouse platform."""

__version__ = "0.1.0"
