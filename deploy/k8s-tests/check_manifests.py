"""Validates renderings of the CDP chart against the Kubernetes API schemas and asserts what matters.

Usage: check_manifests.py <scenario.json>...   (one process for all: the schemas load once)
scenario.json: {"name", "rendered": <file>, "kubeVersions": [...], "expect": {...}, "expectFailure": <text>?}
(written by run.sh). A scenario with expectFailure passes only when some check fails saying that text:
it proves the checks can fail. Prints one "ok"/"FAIL" line per scenario, then "N passed, N failed";
exits 1 when any scenario failed.
"""

import functools
import json
import re
import sys
from pathlib import Path

import kubernetes_validate
import kubernetes_validate.utils
import yaml

# validate() re-reads and re-parses the large _definitions.json for every manifest; parse each file once.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)

REPO = Path(__file__).resolve().parents[2]
CONTRACT_SCHEMAS = REPO / "libs" / "contracts" / "avro"
# Public contract (brief section 3).
PORTS = {"collector": 3001, "normalizer": 3002, "identity-resolver": 3003, "profile-store": 3004, "segmenter": 3005}
CONSUMES = {
    "normalizer": ["cdp.events.raw.v1"],
    "identity-resolver": ["cdp.events.normalized.v1", "cdp.profiles.changes.v1"],
    "profile-store": ["cdp.events.resolved.v1", "cdp.identity.merges.v1", "cdp.identity.removals.v1", "cdp.segments.changes.v1"],
    "segmenter": ["cdp.profiles.changes.v1"],
}
TOPICS = {
    "cdp.events.raw.v1",
    "cdp.events.normalized.v1",
    "cdp.events.dlq.v1",
    "cdp.identity.merges.v1",
    "cdp.identity.removals.v1",
    "cdp.events.resolved.v1",
    "cdp.profiles.changes.v1",
    "cdp.segments.changes.v1",
    "cdp.segments.definitions.v1",
    "cdp.privacy.suppressions.v1",
}
# Changelogs: the latest record per key is the state (libs/contracts/src/topics.ts, cleanupPolicy).
COMPACTED = {"cdp.profiles.changes.v1", "cdp.segments.definitions.v1", "cdp.privacy.suppressions.v1"}
CONFIG_KEYS = {"KAFKA_BROKERS", "SCHEMA_REGISTRY_URL", "CDP_TOPIC_NAMESPACE", "CDP_TOPIC_PARTITIONS", "CDP_TOPIC_REPLICATION", "LOG_LEVEL"}
SECRET_ENV = {"MONGO_URL", "CDP_ADMIN_TOKEN", "CDP_PII_ENCRYPTION_KEY", "CDP_PII_PREVIOUS_KEYS", "CDP_DEMO_WRITE_KEY", "CDP_DEMO_API_KEY", "KAFKA_SASL_PASSWORD", "SCHEMA_REGISTRY_PASSWORD"}
CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
RUNBOOK = REPO / "docs" / "runbook.md"
METRICS_TS = REPO / "libs" / "platform" / "src" / "metrics.ts"


class StrictLoader(yaml.SafeLoader):
    """Refuses duplicate keys: PyYAML keeps the last silently, the API server's strict decoding does not."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class Checks:
    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.failures: list[str] = []
        self.passed = 0
        self.manifests = 0

    def that(self, ok: bool, message: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failures.append(message)
        return ok


def component(obj: dict) -> str:
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")


def hook_of(obj: dict) -> str:
    return obj["metadata"].get("annotations", {}).get("helm.sh/hook", "")


def validate_schemas(docs: list[dict], versions: list[str], c: Checks) -> None:
    for doc in docs:
        ref = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in CRD_KINDS:
            continue  # no offline schema; structural checks below
        for v in versions:
            try:
                kubernetes_validate.validate(doc, v, strict=True)
                c.that(True, "")
            except kubernetes_validate.SchemaNotFoundError as e:
                c.that(False, f"{ref}: no schema for {doc['apiVersion']} in Kubernetes {v} ({e})")
            except kubernetes_validate.ValidationError as e:
                path = "/".join(str(p) for p in e.path)
                c.that(False, f"{ref}: invalid for Kubernetes {v} at {path}: {e.message}")


def check_pod(ref: str, pod: dict, c: Checks, needs_probes: bool) -> None:
    psc = pod.get("securityContext") or {}
    c.that(pod.get("automountServiceAccountToken") is False, f"{ref}: service account token is mounted")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for ctr in pod.get("initContainers", []) + pod["containers"]:
        cref = f"{ref} container {ctr['name']}"
        sc = ctr.get("securityContext") or {}
        c.that(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{cref}: runAsNonRoot is not true")
        c.that(int(sc.get("runAsUser", psc.get("runAsUser", 0))) != 0, f"{cref}: runs as uid 0")
        c.that(sc.get("readOnlyRootFilesystem") is True, f"{cref}: readOnlyRootFilesystem is not true")
        c.that(sc.get("allowPrivilegeEscalation") is False, f"{cref}: allowPrivilegeEscalation is not false")
        c.that("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{cref}: capabilities do not drop ALL")
        c.that((sc.get("capabilities") or {}).get("add") in (None, []), f"{cref}: adds capabilities")
        seccomp = sc.get("seccompProfile") or psc.get("seccompProfile") or {}
        c.that(seccomp.get("type") == "RuntimeDefault", f"{cref}: seccomp profile is not RuntimeDefault")
        res = ctr.get("resources") or {}
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                c.that(r in (res.get(kind) or {}), f"{cref}: no {kind}.{r}")
        mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
        tmp = volumes.get(mounts.get("/tmp", ""), {})
        c.that("emptyDir" in tmp, f"{cref}: /tmp is not an emptyDir (root filesystem is read-only)")
        for env in ctr.get("env", []):
            if env["name"] in SECRET_ENV:
                c.that("value" not in env, f"{cref}: {env['name']} given as a plain value, not from a Secret")
        if needs_probes:
            port = next((p for p in ctr.get("ports", []) if p.get("name") == "http"), None)
            if c.that(port is not None, f"{cref}: no port named http"):
                for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
                    get = (ctr.get(probe) or {}).get("httpGet") or {}
                    c.that(get.get("path") == path, f"{cref}: {probe} path is {get.get('path')}, want {path}")
                    c.that(get.get("port") in ("http", port["containerPort"]), f"{cref}: {probe} port {get.get('port')} is not the http port")


def check(scenario: dict) -> Checks:
    rendered = Path(scenario["rendered"]).read_text()
    expect = scenario.get("expect", {})
    c = Checks(scenario["name"])
    try:
        docs = [d for d in yaml.load_all(rendered, Loader=StrictLoader) if d]
    except yaml.YAMLError as e:
        c.that(False, f"rendered YAML is invalid: {e}")
        return c
    c.manifests = len(docs)
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}

    validate_schemas(docs, scenario["kubeVersions"], c)

    # The topic plan as the setup hook will apply it: the source of truth for partitions.
    setup_cms = [d for d in by_kind.get("ConfigMap", []) if "topics.json" in d.get("data", {})]
    plan = json.loads(setup_cms[0]["data"]["topics.json"]) if setup_cms else None
    partitions = {t["name"]: t["partitions"] for t in plan["topics"]} if plan else {}
    namespace = expect.get("topicNamespace", "")

    # One Deployment and one Service per service, contract ports, image per service.
    deployments = {component(d): d for d in by_kind.get("Deployment", [])}
    services = {component(d): d for d in by_kind.get("Service", [])}
    c.that(set(deployments) == set(PORTS), f"deployments {sorted(deployments)} != {sorted(PORTS)}")
    c.that(set(services) == set(PORTS), f"services {sorted(services)} != {sorted(PORTS)}")
    for svc, dep in deployments.items():
        ref = f"Deployment/{dep['metadata']['name']}"
        pod = dep["spec"]["template"]["spec"]
        ctr = pod["containers"][0]
        c.that(ctr["ports"][0]["containerPort"] == PORTS.get(svc), f"{ref}: port {ctr['ports'][0]['containerPort']} != {PORTS.get(svc)}")
        c.that(f"cdp-{svc}:" in ctr["image"], f"{ref}: image {ctr['image']} is not cdp-{svc}")
        env = {e["name"]: e for e in ctr.get("env", [])}
        c.that(env.get("PORT", {}).get("value") == str(PORTS.get(svc)), f"{ref}: PORT env is not {PORTS.get(svc)}")
        mongo = env.get("MONGO_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
        c.that(bool(mongo) and not mongo.get("optional"), f"{ref}: MONGO_URL is not a required secretKeyRef")
        for e in env.values():
            ref_secret = e.get("valueFrom", {}).get("secretKeyRef")
            if ref_secret:
                known = ("Secret", ref_secret["name"]) in names or ref_secret["name"] == expect.get("existingSecret")
                c.that(known, f"{ref}: env {e['name']} references unknown Secret {ref_secret['name']}")
        for src in ctr.get("envFrom", []):
            cm = src.get("configMapRef", {}).get("name")
            c.that(cm is None or ("ConfigMap", cm) in names, f"{ref}: envFrom references unknown ConfigMap {cm}")
        check_pod(ref, pod, c, needs_probes=True)
        labels = dep["spec"]["template"]["metadata"]["labels"]
        sel = dep["spec"]["selector"]["matchLabels"]
        c.that(all(labels.get(k) == v for k, v in sel.items()), f"{ref}: selector does not match pod labels")
        s = services.get(svc)
        if s:
            c.that(s["spec"]["selector"] == sel, f"Service/{s['metadata']['name']}: selector differs from its Deployment")
            c.that(s["spec"]["ports"][0]["port"] == PORTS[svc], f"Service/{s['metadata']['name']}: port is not {PORTS[svc]}")
        pdbs = [p for p in by_kind.get("PodDisruptionBudget", []) if p["spec"]["selector"]["matchLabels"] == sel]
        c.that(len(pdbs) == 1, f"{ref}: {len(pdbs)} PodDisruptionBudgets select it, want 1")

    # Config through a ConfigMap, and no credentials in it.
    config_cms = [d for d in by_kind.get("ConfigMap", []) if "KAFKA_BROKERS" in d.get("data", {}) and not hook_of(d)]
    if c.that(len(config_cms) == 1, f"{len(config_cms)} service ConfigMaps, want 1"):
        data = config_cms[0]["data"]
        c.that(CONFIG_KEYS <= set(data), f"ConfigMap lacks {sorted(CONFIG_KEYS - set(data))}")
        c.that(not (SECRET_ENV & set(data)), f"ConfigMap holds credentials {sorted(SECRET_ENV & set(data))}")
        c.that(data.get("CDP_TOPIC_NAMESPACE") == namespace, f"CDP_TOPIC_NAMESPACE is {data.get('CDP_TOPIC_NAMESPACE')!r}")
        if "demoEnabled" in expect:
            c.that(data.get("CDP_DEMO_WORKSPACE") == str(expect["demoEnabled"]).lower(), "CDP_DEMO_WORKSPACE does not follow auth.demo.enabled")
    release_secrets = [d for d in by_kind.get("Secret", []) if not hook_of(d)]
    if expect.get("existingSecret"):
        c.that(not release_secrets, "existingSecret is set but the chart renders its own Secret")
    else:
        c.that(len(release_secrets) == 1 and "MONGO_URL" in release_secrets[0].get("stringData", {}), "no chart Secret with MONGO_URL")
        if expect.get("demoEnabled") is False and release_secrets:
            sd = release_secrets[0]["stringData"]
            c.that(sd.get("CDP_DEMO_WRITE_KEY") not in (None, "dev-write-key"), "demo off but the well-known demo write key is set")
            c.that(sd.get("CDP_DEMO_API_KEY") not in (None, "dev-api-key"), "demo off but the well-known demo API key is set")

    # Autoscaling: never more replicas than partitions; exactly one autoscaler per service.
    hpas = {component(h): h for h in by_kind.get("HorizontalPodAutoscaler", [])}
    scaled = {component(s): s for s in by_kind.get("ScaledObject", [])}
    for svc in PORTS:
        c.that(not (svc in hpas and svc in scaled), f"{svc}: both an HPA and a KEDA ScaledObject")
    for svc, topics in CONSUMES.items():
        ceiling = max(partitions.get(t, 0) for t in topics)
        c.that(ceiling > 0, f"{svc}: no partitions known for {topics}")
        if svc in hpas:
            h = hpas[svc]["spec"]
            c.that(h["maxReplicas"] <= ceiling, f"HPA {svc}: maxReplicas {h['maxReplicas']} > {ceiling} partitions")
            c.that(h["minReplicas"] <= h["maxReplicas"], f"HPA {svc}: minReplicas > maxReplicas")
        if svc in scaled:
            s = scaled[svc]["spec"]
            c.that(s["maxReplicaCount"] <= ceiling, f"ScaledObject {svc}: maxReplicaCount {s['maxReplicaCount']} > {ceiling} partitions")
            c.that(s["scaleTargetRef"]["name"] == deployments[svc]["metadata"]["name"], f"ScaledObject {svc}: targets another Deployment")
            kafka = [t for t in s["triggers"] if t["type"] == "kafka"]
            c.that(sorted(t["metadata"]["topic"] for t in kafka) == sorted(namespace + t for t in topics), f"ScaledObject {svc}: topics differ")
            for t in kafka:
                md = t["metadata"]
                c.that(md["consumerGroup"] == f"{namespace}cdp.{svc}", f"ScaledObject {svc}: group {md['consumerGroup']}")
                c.that(md.get("allowIdleConsumers") == "false", f"ScaledObject {svc}: allows idle consumers")
                auth = t.get("authenticationRef", {}).get("name")
                c.that(auth is None or ("TriggerAuthentication", auth) in names, f"ScaledObject {svc}: unknown TriggerAuthentication {auth}")
        if not expect.get("keda"):
            replicas = deployments[svc]["spec"].get("replicas")
            c.that(svc in hpas or (replicas or 1) <= ceiling, f"{svc}: {replicas} replicas > {ceiling} partitions")
    for svc, h in hpas.items():
        c.that(h["spec"]["scaleTargetRef"]["name"] == deployments.get(svc, {}).get("metadata", {}).get("name"), f"HPA {svc}: wrong target")
    c.that(bool(scaled) == bool(expect.get("keda")), f"KEDA ScaledObjects rendered: {bool(scaled)}, expected {bool(expect.get('keda'))}")
    if expect.get("keda"):
        c.that(set(scaled) == set(CONSUMES), f"ScaledObjects for {sorted(scaled)}, want every consumer {sorted(CONSUMES)}")
        c.that("collector" in hpas, "collector (HTTP, not a consumer) has no CPU HPA with KEDA on")

    # The setup hook: creates topics and registers schemas before install/upgrade.
    jobs = by_kind.get("Job", [])
    if c.that(len(jobs) == 1 and plan is not None, f"{len(jobs)} setup Jobs / plan present: {plan is not None}"):
        job = jobs[0]
        c.that(set(hook_of(job).split(",")) == {"pre-install", "pre-upgrade"}, f"Job hook is {hook_of(job)!r}")
        weight = int(job["metadata"]["annotations"].get("helm.sh/hook-weight", "0"))
        for d in docs:
            if d is not job and hook_of(d):
                w = int(d["metadata"]["annotations"].get("helm.sh/hook-weight", "0"))
                c.that(w < weight, f"hook {d['kind']}/{d['metadata']['name']} (weight {w}) is not created before the Job ({weight})")
        pod = job["spec"]["template"]["spec"]
        check_pod(f"Job/{job['metadata']['name']}", pod, c, needs_probes=False)
        c.that(pod["restartPolicy"] == "Never", "setup Job pod restarts in place")
        for ctr in pod["containers"]:
            for e in ctr.get("env", []):
                ref_secret = e.get("valueFrom", {}).get("secretKeyRef")
                if ref_secret:
                    hooked = any(d["kind"] == "Secret" and d["metadata"]["name"] == ref_secret["name"] and hook_of(d) for d in docs)
                    c.that(hooked or ref_secret["name"] == expect.get("existingSecret"), f"setup Job reads Secret {ref_secret['name']}, which does not exist at pre-install")
        c.that({t["name"] for t in plan["topics"]} == TOPICS, f"plan topics {sorted(t['name'] for t in plan['topics'])}")
        for t in plan["topics"]:
            want = "compact" if t["name"] in COMPACTED else "delete"
            c.that(t["cleanupPolicy"] == want, f"{t['name']}: cleanup.policy {t['cleanupPolicy']}, want {want}")
            c.that(t["minInsyncReplicas"] <= t["replicationFactor"], f"{t['name']}: min.insync.replicas > replication")
            schema = setup_cms[0]["data"].get(f"{t['name']}.avsc", "")
            contract = (CONTRACT_SCHEMAS / f"{t['name']}.avsc").read_text()
            c.that(json.loads(schema) == json.loads(contract), f"chart schema of {t['name']} differs from libs/contracts/avro")
        c.that(plan["compatibility"] == expect.get("compatibility", "FULL_TRANSITIVE"), f"compatibility {plan['compatibility']}")

    # Ingress: collector and the APIs, every backend an existing Service port.
    ingresses = by_kind.get("Ingress", [])
    c.that(bool(ingresses) == bool(expect.get("ingress")), f"Ingress rendered: {bool(ingresses)}")
    routed: dict[str, str] = {}
    for ing in ingresses:
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                be = p["backend"]["service"]
                svc = next((s for s in services.values() if s["metadata"]["name"] == be["name"]), None)
                if c.that(svc is not None, f"Ingress {ing['metadata']['name']}: unknown Service {be['name']}"):
                    c.that(svc["spec"]["ports"][0]["port"] == be["port"]["number"], f"Ingress path {p['path']}: wrong port")
                    routed[p["path"]] = component(svc)
    if expect.get("ingress"):
        for path, svc in {"/v1/track": "collector", "/v1/batch": "collector", "/v1/profiles": "profile-store", "/v1/segments": "segmenter", "/v1/identities": "identity-resolver", "/v1/identity-rules": "identity-resolver"}.items():
            c.that(routed.get(path) == svc, f"Ingress: {path} goes to {routed.get(path)}, want {svc}")

    monitors = {component(m): m for m in by_kind.get("ServiceMonitor", [])}
    c.that(bool(monitors) == bool(expect.get("serviceMonitor")), f"ServiceMonitors rendered: {bool(monitors)}")
    if expect.get("serviceMonitor"):
        c.that(set(monitors) == set(PORTS), f"ServiceMonitors for {sorted(monitors)}")
        for svc, m in monitors.items():
            c.that(m["spec"]["endpoints"][0]["path"] == "/metrics" and m["spec"]["endpoints"][0]["port"] == "http", f"ServiceMonitor {svc}: not /metrics on http")
            svc_labels = services[svc]["metadata"]["labels"]
            sel = m["spec"]["selector"]["matchLabels"]
            c.that(all(svc_labels.get(k) == v for k, v in sel.items()), f"ServiceMonitor {svc}: does not select its Service")
            c.that(m["spec"]["endpoints"][0].get("honorLabels") is True, f"ServiceMonitor {svc}: the services' own service label is not kept")

    rules = by_kind.get("PrometheusRule", [])
    c.that(bool(rules) == bool(expect.get("prometheusRule")), f"PrometheusRule rendered: {bool(rules)}")
    if rules:
        anchors = {re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-") for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")}
        exported = set(re.findall(r"name: '(cdp_[a-z_]+)'", METRICS_TS.read_text()))
        for rule in (r for g in rules[0]["spec"]["groups"] for r in g["rules"]):
            name = rule.get("alert", "?")
            c.that(rule.get("labels", {}).get("severity") in ("warning", "critical"), f"alert {name}: no severity")
            c.that(bool(rule.get("for")), f"alert {name}: fires on one bad sample (no for)")
            runbook = rule.get("annotations", {}).get("runbook", "")
            c.that(runbook.startswith("docs/runbook.md#") and runbook.split("#")[1] in anchors, f"alert {name}: runbook {runbook!r} is not a section of docs/runbook.md")
            for metric in re.findall(r"\bcdp_[a-z_]+", rule["expr"]):
                c.that(metric in exported, f"alert {name}: {metric} is not a metric of @cdp/platform's Metrics")
            c.that(re.search(r'namespace="[^"]+"', rule["expr"]) is not None, f"alert {name}: not scoped to the release's namespace")

    return c


def main() -> int:
    passed = failed = 0
    for arg in sys.argv[1:]:
        scenario = json.loads(Path(arg).read_text())
        c = check(scenario)
        wanted = scenario.get("expectFailure")
        if wanted is None:
            ok = not c.failures
            line = f"{c.scenario}: {c.manifests} manifests, {c.passed} checks passed, {len(c.failures)} failed"
            details = c.failures
        else:
            ok = any(wanted in f for f in c.failures)
            line = f"detects {c.scenario}" + ("" if ok else f": no failure says {wanted!r}")
            details = [] if ok else c.failures or ["(every check passed)"]
        print(f"{'ok  ' if ok else 'FAIL'}  {line}")
        for f in details:
            print(f"        {f}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
