#!/usr/bin/env bash
# Installs the Debian packages the full test suite needs:
#   docker-registry  a real OCI registry, started by tools/oras tests on 127.0.0.1
#   skopeo           a foreign OCI client that must read every artifact we publish
#   prometheus       for `promtool check metrics` on the local proxy's /stats/prometheus
#   openssl, git     registry token-auth certificates; the release flow's source history
#   wrk              the load generator of `npm run bench` (serve throughput)
#   wabt             `wasm-validate --disable-simd`: every dist/*.wasm must load on runtimes without SIMD
# Idempotent: does nothing when all of them are already present.
set -euo pipefail
need=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v git >/dev/null 2>&1 || need+=(git)
# wrk: the load generator of `npm run bench` (serve throughput); a Node generator stands in without it
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# wabt: wasm-validate, run by every filter's validate target with --disable-simd
command -v wasm-validate >/dev/null 2>&1 || need+=(wabt)
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: docker-registry, skopeo, promtool, openssl, git, wrk and wasm-validate already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${need[*]} with apt-get"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# Debian starts these as services on install; the tests start their own on 127.0.0.1.
for svc in docker-registry prometheus prometheus-node-exporter; do
  ($SUDO systemctl stop "$svc" 2>/dev/null || $SUDO service "$svc" stop 2>/dev/null || true) >/dev/null 2>&1
done
echo "setup-system: done"
