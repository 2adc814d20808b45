// An Autobahn-style test driver for the npm `ws` client, as client
// libraries keep one for the Autobahn fuzzingserver: it asks
// /getCaseCount, echoes every message of /runCase?case=N&agent=A for each
// case, then calls /updateReports?agent=A. Works against conformance serve
// (conformance/serve/peers_test.go) and the Autobahn fuzzingserver alike.
// Run with NODE_PATH pointing at scripts/node-ws/node_modules.
//
//   node autobahn-client.js ws://127.0.0.1:9001 [AGENT]
'use strict';
const WebSocket = require('ws');

const [base, agent = 'node-ws'] = process.argv.slice(2);
if (!/^wss?:\/\/[^/]+$/.test(base || '')) {
  console.error('usage: node autobahn-client.js ws://HOST:PORT [AGENT]');
  process.exit(2);
}

// open connects to path and resolves when the connection ends; onMessage
// gets every message with the socket.
function open(path, onMessage) {
  return new Promise((resolve) => {
    const ws = new WebSocket(base + path, { maxPayload: 64 << 20 });
    ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
    ws.on('error', (err) => console.error(`${path}: ${err.message}`));
    ws.on('close', (code) => resolve(code));
  });
}

(async () => {
  let count = 0;
  await open('/getCaseCount', (ws, data) => { count = Number(data.toString()); });
  if (!(count > 0)) {
    console.error('autobahn-client: no case count');
    process.exit(1);
  }
  for (let i = 1; i <= count; i++) {
    await open(`/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, (ws, data, isBinary) => ws.send(data, { binary: isBinary }));
  }
  await open(`/updateReports?agent=${encodeURIComponent(agent)}`, () => {});
  console.error(`autobahn-client: ran ${count} cases`);
})();
