// Package abuse is the hostile-input and fault program of wsbench: it runs
// bounded scenarios against a running WebSocket chat-room server on a
// loopback address and judges whether the server survived each one.
//
// Placement (placement.go) starts our server pinned through harness/target
// and re-executes this program on the other CPU. The pieces fit as
// follows:
//
//	target   the server under test: harness/target's Endpoint (URL,
//	         loopback only, /healthz, /metrics) and a health check that
//	         also accepts a WebSocket-only server
//	rawconn  a minimal client that writes arbitrary (also invalid) frames
//	probe    a few normal clients broadcasting at a steady rate whose
//	         latency is recorded in an HdrHistogram
//	load     whether other work took the server's CPU (target.CPUMeter);
//	         the server's VmRSS/VmHWM come from target.ReadMemory and
//	         target.StartPeakRSS when its pid is known
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
