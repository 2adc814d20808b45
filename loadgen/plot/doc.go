// Package plot draws wsbench charts with gonum.org/v1/plot: latency
// percentile curves on the HdrHistogram log scale (percentile.go), lines
// such as p99 against offered load and bar charts such as memory per
// connection (chart.go), and the `loadgen plot REPORT… -o FILE.png`
// subcommand (main.go). It reads loadgen reports (loadgen/report) and never
// the generator's internals.
package plot
