#!/usr/bin/env bash
# Installs Debian's OpenSSH server (and client tools: ssh-keygen, ssh-keyscan) for the SSH remote tests
# (test/servers/sshd.mjs starts its own sshd on a loopback port; the system service is never used).
exec bash "$(dirname "$0")/../apt-install.sh" sshd openssh-server openssh-client
