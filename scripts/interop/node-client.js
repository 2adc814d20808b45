// A chat client on the npm `ws` package, for the interop test
// (server/chatserver/interop_test.go): it joins a room, waits until every
// named peer is present, sends its messages and prints, as one JSON object,
// every data message it received. Run with NODE_PATH pointing at
// scripts/node-ws/node_modules.
//
//   node node-client.js URL NAME COUNT PEER...
'use strict';
const WebSocket = require('ws');

const [url, name, countArg, ...peers] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !name || !(count > 0) || peers.length === 0) {
  console.error('usage: node node-client.js URL NAME COUNT PEER...');
  process.exit(2);
}
const everyone = [...new Set([name, ...peers])];

const ws = new WebSocket(url);
const seen = new Set();      // peers whose hello arrived: they are in the room
const received = [];         // data messages in arrival order, hellos excluded
const want = everyone.length * count;
let hello = null;
let sending = false;

const timer = setTimeout(() => {
  console.error(`${name}: timed out with ${received.length}/${want} messages, peers seen: ${[...seen]}`);
  process.exit(1);
}, 20000);

ws.on('open', () => {
  // Say hello until every peer has said it: a hello sent before a peer
  // joined is lost to it, so it is repeated.
  hello = setInterval(() => ws.send(`hello ${name}`), 100);
  ws.send(`hello ${name}`);
});

ws.on('message', (data, isBinary) => {
  const text = data.toString('utf8');
  if (text.startsWith('hello ')) {
    seen.add(text.slice(6));
    if (!sending && everyone.every((p) => seen.has(p))) {
      sending = true;
      for (let i = 0; i < count; i++) ws.send(`${name} ${i}`);
    }
    return;
  }
  received.push({ text, binary: isBinary });
  if (received.length >= want) {
    clearInterval(hello);
    clearTimeout(timer);
    ws.close(1000, 'done');
  }
});

ws.on('close', (code) => {
  clearInterval(hello);
  process.stdout.write(JSON.stringify({ name, close: code, received }) + '\n');
  process.exit(received.length >= want ? 0 : 1);
});

ws.on('error', (err) => {
  console.error(`${name}: ${err.message}`);
  process.exit(1);
});
