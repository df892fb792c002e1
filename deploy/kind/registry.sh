#!/usr/bin/env bash
# The local-registry pattern for the kind cluster of up.sh (run after the cluster exists):
#   1. a registry container, published on the host at 127.0.0.1:$REGISTRY_PORT, and attached to
#      the `kind` docker network under the name $REGISTRY_NAME (port 5000 inside it);
#   2. containerd in every node pulls `localhost:$REGISTRY_PORT/...` images from it (hosts.toml,
#      read because kind-config.yaml sets config_path);
#   3. the `local-registry-hosting` ConfigMap documents it for tools.
# WasmPlugins do not go through containerd: istio-agent in each pod fetches the module itself,
# so their url names the registry as the pods see it: oci://$REGISTRY_NAME:5000/...
# (meshwasm wasmplugin <filter> --registry kind-registry:5000/meshwasm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
REGISTRY_NAME=kind-registry
REGISTRY_PORT=5001
HOSTS_DIR=/etc/containerd/certs.d
CLUSTER=meshwasm
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "registry.sh: $tool is required" >&2; exit 1; }
done
if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null || true)" != 'true' ]; then
  docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" --name "$REGISTRY_NAME" registry:2
fi
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p "${HOSTS_DIR}/localhost:${REGISTRY_PORT}"
  docker cp "$here/hosts.toml" "${node}:${HOSTS_DIR}/localhost:${REGISTRY_PORT}/hosts.toml"
done
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" = 'null' ]; then
  docker network connect kind "$REGISTRY_NAME"
fi
kubectl apply -f "$here/local-registry-hosting.yaml"
echo "registry: push to localhost:${REGISTRY_PORT}/meshwasm (npx meshwasm push <filter> --registry localhost:${REGISTRY_PORT}/meshwasm);"
echo "          pods see it as ${REGISTRY_NAME}:5000 (npx meshwasm wasmplugin <filter> --registry ${REGISTRY_NAME}:5000/meshwasm)"
