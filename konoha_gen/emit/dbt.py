"""out/dbt/profiles.yml: one dbt profile per modeling.dbt.projects[] entry, on its Kyuubi server.

dbt-spark over Thrift (`type: spark`, `method: thrift`): Kyuubi's thrift binary
frontend is HiveServer2-compatible. The port is explicit (dbt-spark defaults
to 443), `auth: NONE` matches Kyuubi's default `kyuubi.authentication=NONE`
(PyHive accepts a password only with LDAP/CUSTOM), and the user comes from the
environment, so the file holds no credential.
"""

from __future__ import annotations

from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.kube import dump
from konoha_gen.resolved import Platform

#: dbt-spark 1.11 SparkCredentials fields (and dbt-core's `threads`) this emitter sets; tests pin them.
DBT_SPARK_KEYS = frozenset({"type", "method", "host", "port", "schema", "user", "auth", "threads",
                            "connect_retries", "connect_timeout", "server_side_parameters"})


def emit(platform: Platform) -> list[Artifact]:
    if not platform.dbt:
        return []
    profiles: dict[str, Any] = {}
    for target in platform.dbt:
        output: dict[str, Any] = {
            "type": "spark",
            "method": "thrift",
            "host": target.host,
            "port": target.port,
            "schema": target.schema,
            "user": "{{ env_var('DBT_USER', 'dbt') }}",
            "auth": "NONE",
            "threads": 4,
            "connect_retries": 3,
            "connect_timeout": 60,
        }
        if target.session_profile:  # Kyuubi applies the tenant's spark.env (FileSessionConfAdvisor profile)
            output["server_side_parameters"] = {"kyuubi.session.conf.profile": target.session_profile}
        profiles[target.name] = {"target": target.server, "outputs": {target.server: output}}
    return [Artifact("dbt/profiles.yml", dump(profiles))]
