"""Ingress for every web UI (resolve.WebUi): https://<name>.<domain>/ through the ingress controller.

TLS terminates at Traefik's websecure entry point. With no certificate named, Traefik serves its
default (self-signed) one, which is enough on Minikube; a real certificate goes into the Ingress'
tls.secretName. HTTPS matters beyond privacy: Trino only runs OAuth 2.0 login over HTTPS, and
Keycloak's frontend URL (the token issuer) is https://keycloak.<domain>.
"""

from __future__ import annotations

from konoha_gen.emit.kube import Doc, obj
from konoha_gen.resolve import Component, Platform

TRAEFIK_ANNOTATIONS = {"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                       "traefik.ingress.kubernetes.io/router.tls": "true"}


def manifests(platform: Platform, component: Component) -> list[Doc]:
    documents = []
    for ui in (w for w in platform.web_uis if w.component == component.name):
        backend = {"service": {"name": ui.service.name, "port": {"number": ui.service.port}}}
        doc = obj("networking.k8s.io/v1", "Ingress", ui.host.split(".")[0], ui.service.namespace, component=component.name,
                  platform=platform, spec={
                      "ingressClassName": platform.spec.cluster.ingress.class_name,
                      "tls": [{"hosts": [ui.host]}],
                      "rules": [{"host": ui.host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
                  })
        if platform.spec.cluster.ingress.class_name == "traefik":
            doc["metadata"]["annotations"] = dict(TRAEFIK_ANNOTATIONS)
        documents.append(doc)
    return documents
