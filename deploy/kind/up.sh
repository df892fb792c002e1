#!/usr/bin/env bash
# Creates a kind cluster with Istio, a sample workload (httpbin + curl client) in namespace
# `labs`, and applies the WasmPlugin of every filter.
#
# Needs: docker, kind, kubectl, istioctl (1.22+), and the filters published to a registry the
# cluster can pull from (see README "Publishing"); WASM_REGISTRY overrides the registry in the
# manifests, e.g. WASM_REGISTRY=ghcr.io/my-org/meshwasm.
# LOCAL_REGISTRY=1 also starts the local registry (registry.sh) and, unless WASM_REGISTRY is set,
# points the WasmPlugins at it as the pods see it: kind-registry:5000/meshwasm. Push the filters
# there first from the host: npx meshwasm push <filter> --registry localhost:5001/meshwasm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
for tool in docker kind kubectl istioctl; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is required" >&2; exit 1; }
done
kind get clusters | grep -qx meshwasm || kind create cluster --config "$here/kind-config.yaml"
if [ "${LOCAL_REGISTRY:-}" = 1 ]; then
  "$here/registry.sh"
  WASM_REGISTRY="${WASM_REGISTRY:-kind-registry:5000/meshwasm}"
fi
# The local registry speaks plain HTTP under a name that is not loopback: istio-agent retries such
# a registry over plain HTTP, and Istio versions that restrict that retry allow it for the
# registries listed in WASM_INSECURE_REGISTRIES.
istioctl install -y --set profile=minimal \
  --set meshConfig.defaultConfig.proxyStatsMatcher.inclusionPrefixes[0]=wasm \
  --set meshConfig.defaultConfig.proxyMetadata.WASM_INSECURE_REGISTRIES=kind-registry:5000
kubectl create namespace labs --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace labs istio-injection=enabled --overwrite
kubectl apply -n labs -f "$here/../istio/sample-apps.yaml"
kubectl rollout status -n labs deploy/httpbin --timeout=180s
kubectl rollout status -n labs deploy/curl --timeout=180s
for plugin in "$repo"/packages/*/wasmplugin.yaml; do
  if [ -n "${WASM_REGISTRY:-}" ]; then
    # Keep <name>:<version> and the pinned sha256 (a copied artifact keeps its digest); swap the registry.
    sed -E "s#oci://[^ ]+/([a-z0-9-]+:[^ /]+)\$#oci://${WASM_REGISTRY%/}/\1#" "$plugin" | kubectl apply -n labs -f -
  else
    kubectl apply -n labs -f "$plugin"
  fi
done
echo
echo "Try:  kubectl exec -n labs deploy/curl -- curl -si http://httpbin:8000/headers"
echo "      istioctl proxy-config log -n labs deploy/httpbin --level wasm:info"
