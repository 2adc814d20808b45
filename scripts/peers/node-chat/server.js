// Chat-room servers on Node's `ws` 8 written the way tutorials and small
// production apps write them, one per --style, so that loadgen is tried
// against what users run (loadgen/run/world_integration_test.go). Unlike
// scripts/node-ws/server.js (the byte-for-byte relay the benchmarks use),
// each style does one thing that a naive load generator gets wrong:
//
//   except-sender  relays to every client except the sender (`client !== ws`)
//   json           wraps every message: JSON.stringify({from, time, text})
//   join           {"type":"join","room":R} first (answered {"type":"joined"}),
//                  then {"type":"msg","text":T} goes to room R only
//   keepalive      closes (1008) a client that sent no text "ping" for
//                  --keepalive-ms (default 5000); answers "pong"; relays the rest
//
//   NODE_PATH=scripts/node-ws/node_modules node server.js --style STYLE
//       [--port 8181] [--host 127.0.0.1] [--keepalive-ms 5000] [--deflate]
//
// --deflate turns on permessage-deflate (ws's perMessageDeflate: messages
// of 1 KiB and more are compressed).
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const style = arg('--style', '');
const port = Number(arg('--port', '8181'));
const host = arg('--host', '127.0.0.1');
const keepaliveMs = Number(arg('--keepalive-ms', '5000'));
const deflate = process.argv.includes('--deflate');

const styles = {
  // The most common chat snippet: broadcast to everyone else.
  'except-sender': (wss, ws) => {
    ws.on('message', (data, isBinary) => {
      wss.clients.forEach((client) => {
        if (client !== ws && client.readyState === WebSocket.OPEN) {
          client.send(data, { binary: isBinary });
        }
      });
    });
  },

  // Every message wrapped in a JSON envelope with sender and time.
  json: (wss, ws, req) => {
    const from = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    ws.on('message', (data) => {
      const msg = JSON.stringify({ from, time: Date.now(), text: data.toString() });
      wss.clients.forEach((client) => {
        if (client.readyState === WebSocket.OPEN) client.send(msg);
      });
    });
  },

  // Join a room first, then chat in it.
  join: (wss, ws) => {
    let room = null;
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(data);
      } catch (e) {
        ws.send(JSON.stringify({ type: 'error', error: 'not JSON' }));
        return;
      }
      if (m.type === 'join') {
        if (room) rooms.get(room).delete(ws);
        room = String(m.room);
        if (!rooms.has(room)) rooms.set(room, new Set());
        rooms.get(room).add(ws);
        ws.send(JSON.stringify({ type: 'joined', room }));
      } else if (m.type === 'msg') {
        if (!room) {
          ws.send(JSON.stringify({ type: 'error', error: 'join a room first' }));
          return;
        }
        const out = JSON.stringify({ type: 'msg', room, text: m.text });
        for (const client of rooms.get(room)) {
          if (client.readyState === WebSocket.OPEN) client.send(out);
        }
      }
    });
    ws.on('close', () => {
      if (room) rooms.get(room).delete(ws);
    });
  },

  // An application heartbeat: clients must say "ping" or be dropped.
  keepalive: (wss, ws) => {
    ws.lastPing = Date.now();
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'ping') {
        ws.lastPing = Date.now();
        ws.send('pong');
        return;
      }
      wss.clients.forEach((client) => {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      });
    });
  },
};

if (!styles[style]) {
  console.error(`--style must be one of: ${Object.keys(styles).join(', ')}`);
  process.exit(2);
}

const rooms = new Map();
const wss = new WebSocketServer({ port, host, perMessageDeflate: deflate });
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  styles[style](wss, ws, req);
});

if (style === 'keepalive') {
  const timer = setInterval(() => {
    const now = Date.now();
    wss.clients.forEach((ws) => {
      if (now - ws.lastPing > keepaliveMs) ws.close(1008, 'no ping');
    });
  }, Math.max(50, keepaliveMs / 5));
  wss.on('close', () => clearInterval(timer));
}

wss.on('listening', () => {
  const a = wss.address();
  console.log(`node-chat ${style} server listening on ${a.address}:${a.port}`);
});

function stop() {
  for (const c of wss.clients) c.close(1001, 'shutting down');
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
