#!/usr/bin/env bash
# Installs OpenStack Swift (proxy with s3api, account/container/object servers) and memcached from
# Debian's packages, for the S3 tests (test/servers/s3.mjs). Idempotent: does nothing when all are
# installed. Needs root (CI runs as root) and the Debian mirror.
set -euo pipefail

PKGS=(swift-proxy swift-account swift-container swift-object memcached)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "swift: already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# The packages' maintainer scripts would start system-wide swift and memcached services (on the
# default ports, reading /etc/swift). We start our own per test run, so forbid service starts while
# installing unless the machine already does (Debian container images ship such a policy-rc.d).
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "swift: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
echo "swift: installed"
