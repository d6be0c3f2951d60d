"""out/connectors/<source>.<kind>.json: the Kafka Connect REST bodies of the connectors (components/kafka_connect.py),
for `curl -X PUT .../connectors/<name>/config` and for review; Flux applies the same configs as KafkaConnectors."""

from __future__ import annotations

import json

from konoha_gen.artifact import Artifact
from konoha_gen.components.kafka_connect import connectors
from konoha_gen.resolved import Platform


def emit(platform: Platform) -> list[Artifact]:
    return [Artifact(c.file_name, json.dumps(c.rest_body(), indent=2) + "\n") for c in connectors(platform)]
