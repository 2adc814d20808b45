#!/usr/bin/env bash
# The python-websockets-broadcast peer needs Debian's python3-websockets
# (10.4) under /usr/bin/python3; .ci/run installs it. This checks, and says
# what to do when it is missing.
set -euo pipefail
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	echo "python-websockets-broadcast: /usr/bin/python3 cannot import websockets: apt-get install python3-websockets" >&2
	exit 1
fi
