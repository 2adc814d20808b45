package cluster

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/loadgen/report"
)

const tableHead = "| run | conns | sent | delivered | lost | delivered/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|---|\n"

// agentClock is what the merged report of a run over agents says about
// each agent's clock (loadgen/shard/nats), read beside report.Report.
type agentClock struct {
	ID       string  `json:"id"`
	OffsetMs float64 `json:"clock_offset_ms"`
	BoundMs  float64 `json:"offset_bound_ms"`
}

// readReport reads a loadgen report, or nil when there is none (the part
// was skipped or its loadgen failed before writing).
func readReport(path string) *report.Report {
	r, err := report.ReadFile(path)
	if err != nil {
		return nil
	}
	return r
}

func readClocks(path string) []agentClock {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var v struct {
		Generator struct {
			Agents []agentClock `json:"agents"`
		} `json:"generator"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v.Generator.Agents
}

// row is one table row. part marks an agent's own report, whose lost
// count only covers what its own senders owed, so it is not shown.
func row(name string, r *report.Report, part bool) string {
	if r == nil {
		return fmt.Sprintf("| %s | (no report) |||||||\n", name)
	}
	m, l := r.Messages, r.LatencyMs
	lost := strconv.FormatInt(m.Lost, 10)
	if part {
		lost = "—"
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %s | %.0f | %.2f | %.2f | %.1f |\n", name, r.Connections.Established, m.Sent, m.Delivered, lost,
		r.Throughput.DeliveredPerS, l.P50, l.P99, l.Max)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// WriteSummary writes the markdown summary of the reports in dir: the
// scale table with the nodes' CPU and the ratios against one node, the
// cross-node table per agent and merged with each agent's clock offset,
// and the big run per agent and merged with the generator's warnings.
func WriteSummary(w io.Writer, dir string) error {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# bench-cluster (%s, %d cores)\n\n", host, runtime.NumCPU())
	var scale [3]*report.Report
	haveScale := false
	for k := range scale {
		scale[k] = readReport(filepath.Join(dir, fmt.Sprintf("scale-%d.json", k+1)))
		haveScale = haveScale || scale[k] != nil
	}
	if haveScale {
		b.WriteString("## Scale: same load, 1 vs 2 vs 3 nodes on one port (SO_REUSEPORT)\n\n" + tableHead)
		for k, r := range scale {
			b.WriteString(row(fmt.Sprintf("%d node(s)", k+1), r, false))
		}
		var cpu []string
		for k := 1; k <= 3; k++ {
			t, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("scale-%d.cpu", k)))
			if v, perr := strconv.ParseFloat(strings.TrimSpace(string(t)), 64); err == nil && perr == nil {
				cpu = append(cpu, fmt.Sprintf("%d node(s) %.1f s", k, v))
			}
		}
		if len(cpu) > 0 {
			fmt.Fprintf(&b, "\nServer CPU seconds for the whole run (all nodes, embedded NATS included): %s\n", strings.Join(cpu, ", "))
		}
		if one := scale[0]; one != nil {
			b.WriteString("\nRatios against 1 node (delivered/s, p50, p99):\n")
			for k, r := range scale[1:] {
				if r != nil {
					fmt.Fprintf(&b, "- %d nodes: %.2f× delivered/s, %.2f× p50, %.2f× p99\n", k+2,
						ratio(r.Throughput.DeliveredPerS, one.Throughput.DeliveredPerS), ratio(r.LatencyMs.P50, one.LatencyMs.P50), ratio(r.LatencyMs.P99, one.LatencyMs.P99))
				}
			}
		}
		b.WriteString("\n2 cores run every node, NATS and the generator: more nodes add bus work, not CPU.\n\n")
	}
	if c := readReport(filepath.Join(dir, "cross.json")); c != nil {
		b.WriteString("## Cross-node latency: one run, senders on node A\n\n" + tableHead)
		for _, p := range agentReports(dir, "cross") {
			r := readReport(p)
			if r == nil {
				continue
			}
			path := "node B (every message via NATS)"
			if r.Config.Senders > 0 {
				path = "node A (local, no NATS)"
			}
			b.WriteString(row(path, r, true))
		}
		b.WriteString(row("merged", c, false))
		b.WriteString("\n(lost is only meaningful merged: each agent's report counts what its own senders owed)\n")
		for _, a := range readClocks(filepath.Join(dir, "cross.json")) {
			fmt.Fprintf(&b, "\n- %s: clock offset %+.3f ms ± %.3f ms\n", a.ID, a.OffsetMs, a.BoundMs)
		}
		b.WriteString("\n")
	}
	if big := readReport(filepath.Join(dir, "big.json")); big != nil {
		b.WriteString("## Big: clients over 3 nodes and 3 agents, one merged report\n\n" + tableHead)
		for _, p := range agentReports(dir, "big") {
			name := strings.TrimSuffix(filepath.Base(p), ".json")
			if _, after, ok := strings.Cut(name, "-"); ok {
				name = after
			}
			b.WriteString(row(name, readReport(p), true))
		}
		b.WriteString(row("merged", big, false))
		if ws := big.Generator.Warnings; len(ws) > 0 {
			b.WriteString("\nWarnings:\n")
			for _, x := range ws {
				fmt.Fprintf(&b, "- %s\n", x)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// agentReports lists the agents' own reports of a part, sorted.
func agentReports(dir, part string) []string {
	ps, _ := filepath.Glob(filepath.Join(dir, part, "*.json"))
	sort.Strings(ps)
	return ps
}
