#!/usr/bin/env bash
# Installs Debian's nginx for the HTTP(S) remote tests (test/servers/nginx.mjs), which start their own
# nginx with their own config on a free port (openssl makes the test's self-signed certificate).
exec bash "$(dirname "$0")/../apt-install.sh" nginx nginx openssl
