// The classic Node `ws` chat-room server (see shared/reference): every
// message is relayed to every client whose readyState is OPEN, the sender
// included. Kept faithful to the tutorial so wsbench measures what its users
// run; only the port and the optional push timer are configurable.
//
//   node server.js [--port 8181] [--host 127.0.0.1] [--push-interval-ms 0]
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', '8181'));
const host = arg('--host', '127.0.0.1');
const pushMs = Number(arg('--push-interval-ms', '0'));

const wss = new WebSocketServer({ port, host });
const clients = [];

wss.on('connection', (ws) => {
  clients.push(ws);
  ws.on('message', (message) => {
    // As in the tutorial: relay to every OPEN client. ws@8 hands us a
    // Buffer, so text arrives at the receivers as binary frames.
    for (const c of clients) {
      if (c.readyState === WebSocket.OPEN) c.send(message);
    }
  });
  ws.on('close', () => {
    const i = clients.indexOf(ws);
    if (i >= 0) clients.splice(i, 1);
  });
  ws.on('error', () => {});
  if (pushMs > 0) {
    const timer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send('server push: ' + Math.random());
    }, pushMs);
    ws.on('close', () => clearInterval(timer));
  }
});

wss.on('listening', () => {
  const a = wss.address();
  console.log(`node-ws chat server listening on ${a.address}:${a.port}`);
});

function stop() {
  for (const c of clients) c.close(1001, 'shutting down');
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
