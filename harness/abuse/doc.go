// Package abuse is the hostile-input and fault program of wsbench: it runs
// bounded scenarios against a running WebSocket chat-room server on a
// loopback address and judges whether the server survived each one.
//
// The pieces fit as follows:
//
//	target   the server under test: URL (loopback only), /healthz, /metrics
//	rawconn  a minimal client that writes arbitrary (also invalid) frames
//	probe    a few normal clients broadcasting at a steady rate whose
//	         latency is recorded in an HdrHistogram
//	rss      samples the server's VmRSS/VmHWM from /proc when its pid is known
//	scenario one hostile behaviour each: handshake hold, slow consumers,
//	         huge frame lengths, a 1 GiB message, invalid UTF-8, ping floods,
//	         connect/close churn
//	run      measures a clean probe first, then each scenario with the probe
//	         running beside it, and judges: the server stays up, /healthz
//	         answers, the probe's p99 stays within Config.MaxRatio of the
//	         clean run, peak RSS stays under Config.MaxRSS, and the
//	         scenario's own expectation (close codes) holds
//	report   the table, JSON and Markdown files
//
// Every scenario is bounded in count and in time and refuses non-loopback
// targets, so the program can be run by anyone on their own machine.
package abuse
