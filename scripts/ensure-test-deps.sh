#!/usr/bin/env bash
# Installs the system packages the test suite uses: Chromium for the browser tests, PyJWT and
# OpenSSL for independently signed tokens, shellcheck, kubectl and python3-grpcio for the exported
# deploy script, Ironic,
# OpenIPMI and ipmitool for the bare-metal tests.
# As root it installs what is missing with apt-get; otherwise it says what to install and fails.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
/usr/bin/python3 -c 'import jwt' >/dev/null 2>&1 || need+=(python3-jwt)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
# kubectl and a Python gRPC client run the exported solution.zip deploy script for real.
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || need+=(python3-grpcio)
# Real Ironic and a real IPMI BMC for test/integration/ironic-real.test.ts (the `ironic` command
# itself ships in ironic-common; the api and conductor packages bring the drivers' dependencies).
dpkg -s ironic-api >/dev/null 2>&1 || need+=(ironic-api)
dpkg -s ironic-conductor >/dev/null 2>&1 || need+=(ironic-conductor)
command -v ipmi_sim >/dev/null 2>&1 || need+=(openipmi)
command -v ipmitool >/dev/null 2>&1 || need+=(ipmitool)
# curl and jq: the package installer image's script, run for real by
# test/integration/installer-images.test.ts (which also runs shellcheck on both installer scripts).
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)

# The real Kubernetes control plane (tools/kube) builds from Go modules once per machine (about
# 8 minutes on 2 cores the first time, seconds after). Without Go its tests are skipped — unless
# CI=true, where that is a failure.
if command -v go >/dev/null 2>&1; then
  bash "$(dirname "$0")/kube-build.sh" >/dev/null
elif [ "${CI:-}" = true ]; then
  echo "CI=true but there is no Go toolchain: the real-control-plane tests need it (tools/kube/README.md)" >&2
  exit 1
else
  echo "No Go toolchain: the tests against the real Kubernetes control plane will be skipped" >&2
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${need[*]}" >&2
  echo "Install them with: sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "Installing test dependencies: ${need[*]}" >&2
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
  apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
