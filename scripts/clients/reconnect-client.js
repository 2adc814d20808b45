// A reconnecting client on the npm `ws` package, the kind a Node service
// writes around ws: full-jitter exponential backoff (the n-th delay uniform
// in [0, min(cap, base·2^n)]), the attempt counter reset after a stable
// connection, Retry-After honoured on a 503, a protocol-ping heartbeat that
// terminates a silent link, no reconnect after its own close or a close
// 4000-4099. It knows nothing of conformance serve; the tests point it at
// the session URL (conformance/serve/peers_test.go). Run with NODE_PATH
// pointing at scripts/node-ws/node_modules.
//
//   node reconnect-client.js URL [--base MS] [--cap MS] [--stable MS]
//        [--hb MS] [--hb-timeout MS] [--close-on TEXT] [--seed N]
//
// --close-on: close (1000) when a text message equals TEXT, as a user
// leaving would; --seed: reproducible jitter.
'use strict';
const WebSocket = require('ws');

function parse(argv) {
  const o = { base: 500, cap: 30000, stable: 10000, hb: 10000, hbTimeout: 5000, closeOn: null, seed: 0 };
  const names = { '--base': 'base', '--cap': 'cap', '--stable': 'stable', '--hb': 'hb', '--hb-timeout': 'hbTimeout', '--seed': 'seed' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--close-on') o.closeOn = argv[++i];
    else if (names[a]) {
      const v = Number(argv[++i]);
      if (!(v >= 0)) usage(`${a} needs a number >= 0`);
      o[names[a]] = v;
    } else if (a.startsWith('--')) usage(`unknown flag ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1 || !/^wss?:\/\//.test(rest[0])) usage('give one ws:// or wss:// URL');
  if (!(o.base > 0) || o.cap < o.base) usage('need 0 < --base <= --cap');
  o.url = rest[0];
  return o;
}

function usage(why) {
  console.error(`reconnect-client: ${why}\nusage: node reconnect-client.js URL [--base MS] [--cap MS] [--stable MS] [--hb MS] [--hb-timeout MS] [--close-on TEXT] [--seed N]`);
  process.exit(2);
}

// mulberry32: a small seeded generator for reproducible jitter.
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const o = parse(process.argv.slice(2));
const random = o.seed ? seeded(o.seed) : Math.random;
let attempt = 0;

function connect() {
  const ws = new WebSocket(o.url);
  let retryAfter = 0, stableTimer = null, hbTimer = null, pongDue = null, leaving = false;
  ws.on('unexpected-response', (req, res) => {
    retryAfter = res.statusCode === 503 ? Number(res.headers['retry-after']) || 0 : 0;
    res.resume();
    ws.terminate();
  });
  ws.on('error', (err) => console.error(`reconnect-client: ${err.message}`));
  ws.on('open', () => {
    stableTimer = setTimeout(() => { attempt = 0; }, o.stable);
    if (o.hb > 0) {
      hbTimer = setInterval(() => {
        if (pongDue) return;
        ws.ping();
        pongDue = setTimeout(() => { console.error('reconnect-client: no pong, link dead'); ws.terminate(); }, o.hbTimeout);
      }, o.hb);
    }
  });
  ws.on('pong', () => { clearTimeout(pongDue); pongDue = null; });
  ws.on('message', (data, isBinary) => {
    if (!isBinary && o.closeOn !== null && data.toString('utf8') === o.closeOn) {
      leaving = true;
      ws.close(1000, 'leaving');
    }
  });
  ws.on('close', (code) => {
    clearTimeout(stableTimer); clearInterval(hbTimer); clearTimeout(pongDue);
    if (leaving) { console.error('reconnect-client: closed on purpose'); process.exit(0); }
    if (code >= 4000 && code <= 4099) { console.error(`reconnect-client: close ${code}, not retrying`); process.exit(0); }
    let delay = random() * Math.min(o.cap, o.base * 2 ** attempt);
    attempt++;
    delay = Math.max(delay, retryAfter * 1000);
    setTimeout(connect, delay);
  });
}

connect();
