// Package serve turns the conformance suite around: the suite is the
// server and a client under test connects to it. The behaviour session at
// ws://ADDR/session/AGENT drives one reconnecting client through a fixed
// script of successive connections and judges, from what the client does,
// its reconnect policy (RFC 6455 §7.2.3) and heartbeat. The client needs to
// know nothing but the URL: the session speaks to it only as a server
// would, by dropping, refusing, freezing and closing connections.
//
// The script (Config names the timing; every wait is bounded):
//
//	1  idle        accept; ping every PingEvery for Idle; pongs must come back
//	2  drops       drop the TCP connection without a close frame; accept
//	               each of the next Attempts attempts and drop it at once;
//	               the delays (drop → next handshake) must grow, be jittered
//	               and stay under MaxDelay
//	3  refused     answer the next attempt 503 + Retry-After; the one after
//	               must wait at least that long (/healthz says 503 meanwhile,
//	               for browsers, which cannot see a refused handshake's status)
//	4  frozen      accept, then stop sending and answering anything with the
//	               TCP connection left open; the client must give up on it
//	               (close, or a new attempt) within HeartbeatBound
//	5  stable      accept and keep the connection for Stable; drop it and
//	               the next attempts: the delays must be back to the first
//	               ones (the backoff reset after a stable connection)
//	6  going away  close 1001; the client must come back
//	7  last        send the text "wsbench: last connection" and wait
//	               CloseWait for the client's own close: after it the client
//	               must not come back within Quiet. A client that does not
//	               close gets close 4000 instead, the wsbench "do not retry"
//	               range (4000–4099), which it should honour.
//
// Outside the frozen phase the session answers pings, echoes every data
// message (so an application heartbeat such as the chat page's "__ping__"
// gets an answer) and pings the client every PingEvery.
//
// The same server answers the Autobahn testsuite fuzzingserver's endpoints
// (/getCaseCount, /runCase?case=N&agent=A, /getCaseStatus, /updateReports),
// so a client library's Autobahn driver runs the protocol cases CP-01…CP-25
// unchanged: each is one connection on which the suite sends frames, some
// broken on purpose, and reads what the echoing client does (protocol.go,
// fuzzing.go). The run ends with the behaviour session's script, with
// /updateReports, or at Config.Timeout; the verdicts then go through the
// runner and report packages like the server cases'.
//
// A delay is measured from the moment the suite ended the previous
// connection (or refused the attempt) to the arrival of the next handshake
// request, so it includes the client's dial time (under a millisecond on
// loopback).
package serve
