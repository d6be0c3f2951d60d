"""Step 3: who reaches what: the web UIs behind the ingress, their Keycloak OIDC clients, and the tenants."""

from __future__ import annotations

from konoha_gen.components.registry import components as registry
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolve.problems import Problems
from konoha_gen.resolved import Component, OidcClient, Service, Tenant, WebUi


def process_web_uis(spec: PlatformSpec, components: tuple[Component, ...]) -> tuple[WebUi, ...]:
    """Every UI a person opens in a browser, at <host>.<ingress domain>, routed to its backend Service."""
    by_name = {c.name: c for c in components}
    uis = []
    for d in registry():
        component = by_name.get(d.name)
        ui = d.web_ui(spec) if component is not None else None
        if component is None or ui is None or component.service is None:
            continue
        own = component.service
        backend = own if ui.service is None else Service(ui.service(own.name), own.namespace, ui.port or own.port)
        uis.append(WebUi(d.name, f"{ui.host}.{spec.cluster.ingress.domain}", backend))
    return tuple(uis)


def process_oidc_clients(components: tuple[Component, ...], web_uis: tuple[WebUi, ...]) -> tuple[OidcClient, ...]:
    """The web UIs that log in through Keycloak, when it runs (Metabase's open-source edition has no OIDC)."""
    if not any(c.name == "keycloak" for c in components):
        return ()
    uis = {ui.component: ui for ui in web_uis}
    clients = []
    for d in registry():
        if d.oidc is None or d.name not in uis:
            continue
        url = uis[d.name].url
        clients.append(OidcClient(d.name, d.oidc.client_id, d.oidc.title, tuple(url + c for c in d.oidc.callbacks),
                                  (url,), f"oidc/{d.oidc.client_id}"))
    return tuple(clients)


def process_tenants(spec: PlatformSpec, platform: str, problems: Problems) -> tuple[Tenant, ...]:
    tenants = []
    for index, t in enumerate(spec.tenants):
        ns = problems.check_length(f"{platform}-tenant-{t.name}", ("tenants", index, "name"), "tenant namespace")
        tenants.append(Tenant(t.name, ns, f"tenant-{t.name}", tuple(t.members), t.kyuubi, tuple(t.writes)))
    return tuple(tenants)
