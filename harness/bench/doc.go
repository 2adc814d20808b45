// Package bench is wsbench's benchmark matrix: `make bench` and
// `go run ./harness bench`. It measures our server, the Node `ws`
// chat-room server, the peers under scripts/peers/ and any server a
// command line starts (--server) one at a time on loopback, with the
// loadgen as the client, and writes everything into one results directory.
//
// The pieces, in the order a run uses them:
//   - config.go: what to run (matrix, capacity search, idle connections),
//     with a Quick preset for `make bench-quick`.
//   - servers.go: servers started from a command (peer recipes and
//     --server) and their install steps.
//   - floor.go: the bare-write floor, a non-blocking write(2) per delivery
//     and nothing else, measured by two subprocesses of the bench binary.
//   - harness/target (not here): starting a server pinned to its CPU
//     (taskset, GOMAXPROCS=1), finding the process that listens when a
//     shell forked it, waiting for it, reading its resources from /proc and
//     /metrics, the other work on its CPU, and stopping it.
//   - loadgen.go: one loadgen run pinned to the other CPU, its report and
//     its own CPU time.
//   - capacity.go: the capacity search — double the rate until the SLO or
//     delivery fails, then bisect — as a pure function of a probe, and the
//     bench step that probes a server with it.
//   - idle.go: N idle WebSocket connections (a subprocess of the bench
//     binary) to measure server memory per connection.
//   - results.go: the records of runs.json; summary.go and charts.go:
//     summary.md and the plots; machine.go: machine.txt; profile.go: a CPU
//     profile of our server under load.
//   - progress.go: "step i/N, ETA" lines on stderr.
//   - bench.go: Run, which ties them together.
//
// A server is started afresh for every loadgen run, so each run's peak RSS
// (VmHWM) and CPU seconds (utime+stime) are its own.
package bench
