#!/usr/bin/env bash
# Installs the Node ws peer server's packages from the lockfile (npm ci).
# Skips the install when node_modules already matches the lockfile.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json .installed-lock 2>/dev/null; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json .installed-lock
