#!/usr/bin/env bash
# Installs Debian's nginx for the HTTP(S) remote tests (test/servers/nginx.mjs), which start their own
# nginx with their own config on a free port. Idempotent: does nothing when it is installed. Needs root
# (CI runs as root) and the Debian mirror.
set -euo pipefail

PKGS=(nginx openssl)
if command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
  echo "nginx: already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# The package would start a system-wide nginx on port 80; the tests start their own, so forbid service
# starts while installing unless the machine already does.
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "nginx: installing ${PKGS[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
echo "nginx: installed"
