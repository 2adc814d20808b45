// Package target starts, pins, observes and stops a server under test, for
// every program of the harness (bench, abuse, soak, cluster):
//
//	Start(Spec) ─▶ Server: a free loopback port, taskset/nice (Pinned),
//	               the process group, the pid that really listens
//	               (listener.go), /healthz before it returns, RSS and
//	               goroutines sampled while it runs; Stop is idempotent.
//	ParseURL    ─▶ Endpoint: a server someone else started (loopback
//	               only): /healthz, /metrics (ParseMetrics), goroutines.
//	ReadMemory, StartPeakRSS   /proc/<pid>/status, peak per scenario
//	StartCPUMeter ─▶ Window    how busy each CPU was, and how much of
//	               that was the server's own (the rest is other work)
//
// /proc/<pid>/stat and status are read by internal/procstat, which the
// loadgen shares (--server-pid).
package target
