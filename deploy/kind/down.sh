#!/usr/bin/env bash
# Deletes the kind cluster created by up.sh, and the local registry container of registry.sh if
# there is one.
set -euo pipefail
kind delete cluster --name meshwasm
if docker inspect kind-registry >/dev/null 2>&1; then docker rm -f kind-registry; fi
