#!/usr/bin/env bash
# Installs OpenStack Swift (proxy with s3api, account/container/object servers) and memcached from
# Debian's packages, for the S3 tests (test/servers/s3.mjs).
exec bash "$(dirname "$0")/../apt-install.sh" swift swift-proxy swift-account swift-container swift-object memcached
