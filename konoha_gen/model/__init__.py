"""The spec schema (pydantic v2), one module per layer; PlatformDocument is the root."""

from konoha_gen.model.platform import API_VERSION, PlatformDocument

__all__ = ["API_VERSION", "PlatformDocument"]
