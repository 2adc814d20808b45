// Package compare judges a change from two sets of loadgen reports: the
// `loadgen compare OLD NEW` subcommand.
//
// OLD and NEW are each a report file or a results directory (as written by
// `make bench`). Reports are loaded into Entries (load.go), matched by Key
// — the folder they sit in below the directory (e.g. matrix/ours) plus the
// run's clients, senders, rate and size — and each matched pair of groups
// is judged metric by metric (judge.go): latency p50/p90/p99/p99.9/max,
// delivered throughput and loss. When a config was run several times (bench
// --repeat N) each side has a spread, min–max, and a change whose ranges
// overlap is called "within noise" rather than a regression. The text
// output (format.go) shows both sides, the delta and a verdict; Main exits
// 1 when any checked metric regressed past --max-regress.
package compare
