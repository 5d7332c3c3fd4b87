#!/usr/bin/env bash
# Installs Debian's chromium (and a font for its text) for the browser test of the HTML content-diff
# report (test/e2e/content-report-browser.test.ts): not a server, but installed the same way.
exec bash "$(dirname "$0")/../apt-install.sh" chromium chromium fonts-dejavu-core
