// An echo server on Node's `ws` 8 (the package scripts/node-ws/install.sh
// installs): every message goes back to its sender only, with its opcode,
// the way `ws`'s README echo example does. The conformance suite runs
// against it with --profile echo (conformance/cases/thirdparty_test.go).
//
//   NODE_PATH=scripts/node-ws/node_modules node server.js [--port 9001] [--host 127.0.0.1] [--max-message 16777216] [--deflate]
//
// --deflate turns on ws's permessage-deflate (off by default in ws 8).
'use strict';
const { WebSocketServer } = require('ws');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', '9001'));
const host = arg('--host', '127.0.0.1');
const maxPayload = Number(arg('--max-message', String(16 << 20)));
const perMessageDeflate = process.argv.includes('--deflate');

const wss = new WebSocketServer({ port, host, maxPayload, perMessageDeflate });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => {
  const a = wss.address();
  console.log(`node-ws echo server listening on ${a.address}:${a.port}`);
});

function stop() {
  for (const c of wss.clients) c.close(1001, 'shutting down');
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
