#!/usr/bin/env bash
# Installs Debian's OpenSSH server (and client tools: ssh-keygen, ssh-keyscan) for the SSH remote tests
# (test/servers/sshd.mjs starts its own sshd on a loopback port; the system service is never used).
# Idempotent: does nothing when installed. Needs root (CI runs as root) and the Debian mirror.
set -euo pipefail

PKGS=(openssh-server openssh-client)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "sshd: already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# The package would start the system sshd on port 22; the tests start their own, so forbid service
# starts while installing unless the machine already does (Debian container images ship such a policy).
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "sshd: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
echo "sshd: installed"
