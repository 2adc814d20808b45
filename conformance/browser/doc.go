// Package browser is the real-browser conformance lane: it drives Debian's
// headless Chromium with chromedp and checks what the WebSocket API of a
// real browser does, and what the wsbench chat page does, against the
// WHATWG WebSockets Standard and the wsbench page contract.
//
// The pieces:
//
//   - lane.go starts one Chromium for the whole lane (a tab per case) and
//     an HTTP server on 127.0.0.1:0 that serves the probe page and the
//     scripted peer. Close stops both.
//   - probe.html (embedded) logs every event of one WebSocket with
//     performance.now() timestamps; probe.go reads that log and checks the
//     invariant every case must keep (open?, message*, error?, one close).
//   - peer.go is the scripted WebSocket peer (gobwas/ws): the path picks a
//     script (echo, kick, drop, big, bin, slow), and it records what the
//     browser sent. Cases using it test the browser, not the server.
//   - cases.go holds the BR-xx cases, chat.go the BR-CP-01 chat-page case
//     against the server under test; client.go opens the chat page as a
//     client for conformance serve. proxy.go's Proxy freezes or drops TCP
//     links to cut the network.
//
// Cases returns them all as suite.Cases for the conformance runner.
package browser
