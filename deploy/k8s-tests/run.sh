#!/usr/bin/env bash
# Rendering tests of the Helm chart (deploy/helm/cdp), offline:
#   1. tools, cached outside the repo and reused: helm built from the Go module proxy, and the
#      PyPI package kubernetes-validate (it bundles the Kubernetes API JSON schemas) in a venv;
#   2. helm lint, then helm template with several value sets (defaults, production example, SASL/TLS
#      with inline credentials, KEDA, a namespace), each validated strictly against the schemas of the
#      oldest and newest supported Kubernetes and checked by check_manifests.py (probes, limits,
#      non-root, read-only root filesystem, replicas <= partitions, hook annotations, schemas in sync,
#      alerts on exported metrics with a runbook section each);
#   3. value sets that must be refused (helm template fails with a message saying why).
# Usage: bash deploy/k8s-tests/run.sh          (prints "N passed, N failed")
#        bash deploy/k8s-tests/run.sh tools    (only fetch/build the tools)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CHART="$REPO/deploy/helm/cdp"
CDP_STACK_HOME="${CDP_STACK_HOME:-$HOME/.cache/cdp-stack}"
TOOLS="$CDP_STACK_HOME/tools"
HELM_VERSION="v3.21.4"
KV_VERSION="1.37.0"
HELM="$TOOLS/helm-$HELM_VERSION/helm"
KV_VENV="$TOOLS/kubernetes-validate-$KV_VERSION"
KUBE_VERSIONS='["1.25.0", "1.37.0"]' # Chart.yaml kubeVersion floor, and the newest schemas bundled
# A go-installed helm defaults .Capabilities to Kubernetes 1.20 (below the chart's floor): say which.
RENDER_KUBE_VERSION="1.37.0"

log() { printf '[k8s-tests] %s\n' "$*" >&2; }

ensure_helm() {
  if [ -x "$HELM" ] && "$HELM" version --short >/dev/null 2>&1; then return; fi
  log "building helm $HELM_VERSION from the Go module proxy (first time only; a few minutes on 2 cores) ..."
  local gobin="$TOOLS/.helm-build.$$"
  rm -rf "$gobin" && mkdir -p "$gobin"
  # Same module and build caches as deploy/local/stack.sh, so CI caches them together.
  env GOBIN="$gobin" GOMODCACHE="$CDP_STACK_HOME/go/mod" GOCACHE="$CDP_STACK_HOME/go/cache" \
    GOFLAGS="-mod=readonly -buildvcs=false -trimpath" GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 \
    go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$TOOLS/helm-build.log" 2>&1 ||
    { tail -n 30 "$TOOLS/helm-build.log" >&2; log "helm build failed (log: $TOOLS/helm-build.log)"; exit 1; }
  mkdir -p "$(dirname "$HELM")"
  mv -f "$gobin/helm" "$HELM" # atomic: a half-built binary is never at $HELM
  rm -rf "$gobin"
}

ensure_kubernetes_validate() {
  if [ -f "$KV_VENV/.installed" ]; then return; fi
  log "installing kubernetes-validate $KV_VERSION from PyPI (first time only) ..."
  rm -rf "$KV_VENV"
  python3 -m venv "$KV_VENV"
  "$KV_VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
  touch "$KV_VENV/.installed"
}

mkdir -p "$TOOLS"
# One setup at a time (parallel test runs on one machine share the cache).
exec 9>"$TOOLS/.k8s-tests.lock"
flock 9
ensure_helm
ensure_kubernetes_validate
flock -u 9
[ "${1:-}" = tools ] && { log "tools ready: $HELM, $KV_VENV"; exit 0; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

# render NAME EXPECT_JSON HELM_ARGS...: template, validate and assert.
scenarios=()

# render NAME EXPECT_JSON HELM_ARGS...: template now; validated and asserted by check_manifests.py below.
render() {
  local name="$1" expect="$2"
  shift 2
  local out="$WORK/$name.yaml"
  if ! "$HELM" template cdp "$CHART" --namespace cdp --kube-version "$RENDER_KUBE_VERSION" "$@" >"$out" 2>"$WORK/$name.err"; then
    bad "$name: helm template failed: $(grep -v 'found symbolic link' "$WORK/$name.err" | tr '\n' ' ')"
    return
  fi
  printf '{"name": "%s", "rendered": "%s", "kubeVersions": %s, "expect": %s}\n' "$name" "$out" "$KUBE_VERSIONS" "$expect" >"$WORK/$name.json"
  scenarios+=("$WORK/$name.json")
}

# refuse NAME EXPECTED_MESSAGE HELM_ARGS...: helm template must fail, saying why.
refuse() {
  local name="$1" message="$2"
  shift 2
  if "$HELM" template cdp "$CHART" --kube-version "$RENDER_KUBE_VERSION" "$@" >/dev/null 2>"$WORK/refuse.err"; then
    bad "refuses $name: rendered without error"
  elif grep -qF -- "$message" "$WORK/refuse.err"; then
    ok "refuses $name"
  else
    bad "refuses $name: error does not say '$message': $(tr '\n' ' ' <"$WORK/refuse.err")"
  fi
}

# detect NAME EXPECTED_FAILURE SED_SCRIPT HELM_ARGS...: a defect put into a rendering (by sed, or by values
# that bypass the chart's own guards) must be reported by check_manifests.py, so its checks are not vacuous.
detect() {
  local name="$1" message="$2" script="$3"
  local file="$WORK/detect-${#scenarios[@]}"
  shift 3
  "$HELM" template cdp "$CHART" --kube-version "$RENDER_KUBE_VERSION" "$@" 2>/dev/null | sed -e "$script" >"$file.yaml"
  printf '{"name": "%s", "rendered": "%s", "kubeVersions": ["%s"], "expect": {"demoEnabled": true}, "expectFailure": "%s"}\n' \
    "$name" "$file.yaml" "$RENDER_KUBE_VERSION" "${message//\"/\\\"}" >"$file.json"
  scenarios+=("$file.json")
}

for values in "" "-f $CHART/values-production.yaml"; do
  # shellcheck disable=SC2086
  if "$HELM" lint --strict "$CHART" $values >"$WORK/lint.log" 2>&1; then ok "helm lint --strict ${values:+(production values)}"; else
    bad "helm lint ${values}"
    sed 's/^/      /' "$WORK/lint.log"
  fi
done

render defaults '{"demoEnabled": true}'
render production '{"existingSecret": "cdp-credentials", "keda": true, "ingress": true, "serviceMonitor": true, "prometheusRule": true, "demoEnabled": false}' \
  -f "$CHART/values-production.yaml"
render inline-credentials '{"keda": true, "ingress": true, "serviceMonitor": true, "demoEnabled": false, "topicNamespace": "staging.", "compatibility": "BACKWARD_TRANSITIVE"}' \
  --set keda.enabled=true,ingress.enabled=true,serviceMonitor.enabled=true,auth.demo.enabled=false \
  --set config.topicNamespace=staging.,topicsJob.compatibility=BACKWARD_TRANSITIVE \
  --set kafka.sasl.enabled=true,kafka.sasl.username=cdp,kafka.sasl.password=secret-pass \
  --set kafka.tls.enabled=true,kafka.tls.caSecret.name=kafka-ca \
  --set schemaRegistry.username=reg,schemaRegistry.password=reg-pass,auth.adminToken=0123456789abcdef0123 \
  --set 'mongo.url=mongodb+srv://u:p@cluster0.example.net/cdp'
render fixed-replicas '{"demoEnabled": true}' --set serviceDefaults.autoscaling.enabled=false,serviceDefaults.replicaCount=3

refuse "HPA maxReplicas above partitions" "above the partition count" --set topics.partitions=4
refuse "KEDA maxReplicas above partitions" "above the partition count" --set keda.enabled=true,serviceDefaults.autoscaling.enabled=false,topics.partitions=3
refuse "a per-topic partition count below maxReplicas" "services.profile-store: autoscaling.maxReplicas (6)" \
  --set 'topics.items.cdp\.events\.resolved\.v1.partitions=2,topics.items.cdp\.identity\.merges\.v1.partitions=2,topics.items.cdp\.identity\.removals\.v1.partitions=2,topics.items.cdp\.segments\.changes\.v1.partitions=2'
refuse "fixed replicas above partitions" "replicaCount (8) is above" --set serviceDefaults.autoscaling.enabled=false,serviceDefaults.replicaCount=8
refuse "min.insync.replicas above replication" "min.insync.replicas (2)" --set topics.replicationFactor=1
refuse "an unknown compatibility mode" "topicsJob.compatibility must be one of" --set topicsJob.compatibility=LOOSE
refuse "a short admin token" "at least 16 characters" --set auth.adminToken=short
refuse "SASL without credentials" "kafka.sasl.username is required" --set kafka.sasl.enabled=true
refuse "an unknown SASL mechanism" "kafka.sasl.mechanism must be plain" --set kafka.sasl.enabled=true,kafka.sasl.username=u,kafka.sasl.password=p,kafka.sasl.mechanism=gssapi

detect "a missing readiness probe" "readinessProbe path is None" '' --set serviceDefaults.readinessProbe=null
detect "a writable root filesystem" "readOnlyRootFilesystem is not true" '' --set containerSecurityContext.readOnlyRootFilesystem=false
detect "a container allowed to run as root" "runAsNonRoot is not true" '' --set containerSecurityContext.runAsNonRoot=false,podSecurityContext.runAsNonRoot=false
detect "missing limits" "no limits.memory" '' --set serviceDefaults.resources.limits=null
detect "an HPA above the partition count" "maxReplicas 7 > 6 partitions" 's/^  maxReplicas: 6$/  maxReplicas: 7/'
detect "a setup Job without its hook" "Job hook is ''" '/helm.sh\/hook: pre-install,pre-upgrade/d'
detect "a chart schema out of sync with libs/contracts" "differs from libs/contracts/avro" '0,/"name": "messageId"/s//"name": "messageIdX"/'
detect "an alert without a runbook section" "runbook 'docs/runbook.md#nowhere' is not a section of docs/runbook.md" \
  's|runbook.md#cdpdeadletters|runbook.md#nowhere|' --set prometheusRule.enabled=true
detect "an alert on a metric no service exports" "cdp_chunk_failure_total is not a metric" \
  's|cdp_chunk_failures_total|cdp_chunk_failure_total|' --set prometheusRule.enabled=true
detect "a field the Kubernetes API does not know" "Additional properties are not allowed ('bogus'" 's/maxSkew: 1/maxSkew: 1\n          bogus: 1/'

"$KV_VENV/bin/python" "$HERE/check_manifests.py" "${scenarios[@]}" >"$WORK/check.log" 2>&1 || true
grep -vE '^[0-9]+ passed, [0-9]+ failed$' "$WORK/check.log" || true
read -r p _ f _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/check.log" || echo "0 passed, 1 failed")
passed=$((passed + p))
failed=$((failed + f))
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
