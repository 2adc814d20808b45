package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/loadgen/report"
)

// RunRecord is one loadgen run and what the server used during it.
type RunRecord struct {
	Kind    string  `json:"kind"` // "matrix" or "capacity"
	Server  string  `json:"server"`
	Repeat  int     `json:"repeat,omitempty"`
	Step    int     `json:"step,omitempty"`
	Clients int     `json:"clients"`
	Senders int     `json:"senders"`
	Rate    float64 `json:"rate"`
	Size    int     `json:"size"`
	// OfferedPerS is the deliveries per second the load asks for: every
	// broadcast goes to every client of the room, the sender included.
	OfferedPerS float64 `json:"offered_per_s"`
	Report      string  `json:"report,omitempty"` // path relative to the results directory
	ExitCode    int     `json:"exit_code"`
	Pass        bool    `json:"pass"`
	Why         string  `json:"why,omitempty"` // why it did not pass
	// InvalidReasons are the loadgen's reasons for an invalid run.
	InvalidReasons []string       `json:"invalid_reasons,omitempty"`
	Latency        report.Summary `json:"latency_ms"`
	DeliveredPerS  float64        `json:"delivered_per_s"`
	Expected       int64          `json:"expected"`
	Lost           int64          `json:"lost"`
	Established    int64          `json:"established"`
	Overloaded     bool           `json:"generator_overloaded"`
	ServerUsage    ServerUsage    `json:"server_usage"`
	LoadgenCPU     float64        `json:"loadgen_cpu_s"`
	WallSeconds    float64        `json:"wall_s"`
	MaxSendLagMs   float64        `json:"max_send_lag_ms"`
	// OtherServerCPU and OtherLoadgenCPU are the busy seconds of the
	// server's and the loadgen's CPUs not spent by them during the run:
	// other processes on a shared machine (and the bench itself). Large
	// values mean a noisy result.
	OtherServerCPU  float64 `json:"other_server_cpu_s"`
	OtherLoadgenCPU float64 `json:"other_loadgen_cpu_s"`
	QuietWaitS      float64 `json:"quiet_wait_s,omitempty"` // time spent waiting for a quiet machine first
}

// ServerUsage is what the server used during one run (harness/target),
// with its CPU per delivery; in the run JSON its fields sit flat in
// "server_usage".
type ServerUsage struct {
	target.Usage
	// CPUUsPerDelivery is the server's CPU µs per delivery over the
	// loadgen's measured window (the loadgen's report server section);
	// 0 when unknown.
	CPUUsPerDelivery float64 `json:"cpu_us_per_delivery,omitempty"`
}

// OtherLoad is the larger foreign share of the server's and the loadgen's
// CPUs during the run, as a fraction of its wall time.
func (r RunRecord) OtherLoad() float64 {
	if r.WallSeconds <= 0 {
		return 0
	}
	return max(r.OtherServerCPU, r.OtherLoadgenCPU) / r.WallSeconds
}

// LoadgenBusy is the loadgen's CPU time as a fraction of the run's wall
// time: near 1 its core was saturated and the result may be the
// generator's limit rather than the server's.
func (r RunRecord) LoadgenBusy() float64 {
	if r.WallSeconds <= 0 {
		return 0
	}
	return r.LoadgenCPU / r.WallSeconds
}

// CapacitySearch is one of a server's repeated capacity searches.
type CapacitySearch struct {
	Repeat           int     `json:"repeat"`
	BestRate         float64 `json:"best_rate"`
	FailedRate       float64 `json:"failed_rate"`
	DeliveriesPerS   float64 `json:"deliveries_per_s"`
	P99Ms            float64 `json:"p99_ms"`
	CPUUsPerDelivery float64 `json:"cpu_us_per_delivery,omitempty"` // the server's, at the best step
	Steps            int     `json:"steps"`
	Limit            string  `json:"limit"`
	FailWhy          string  `json:"fail_why,omitempty"`
	GeneratorBound   bool    `json:"generator_bound"`
}

// CapacityRecord is the outcome of one server's capacity searches
// (--cap-repeat of them, see Capacity): the median search's numbers, and
// the range over all of them.
type CapacityRecord struct {
	Server     string  `json:"server"`
	Clients    int     `json:"clients"`
	Size       int     `json:"size"`
	BestRate   float64 `json:"best_rate"`   // broadcasts/s of the highest passing step
	FailedRate float64 `json:"failed_rate"` // lowest failing step above it (0: none)
	// DeliveriesPerS is Clients × BestRate, the capacity: the median over
	// the searches, whose min and max follow.
	DeliveriesPerS    float64 `json:"deliveries_per_s"`
	MinDeliveriesPerS float64 `json:"min_deliveries_per_s"`
	MaxDeliveriesPerS float64 `json:"max_deliveries_per_s"`
	// CPUUsPerDelivery is the server's CPU µs per delivery at the median
	// search's best step.
	CPUUsPerDelivery float64          `json:"cpu_us_per_delivery,omitempty"`
	Searches         []CapacitySearch `json:"searches,omitempty"`
	P99Ms            float64          `json:"p99_ms"` // at the best step
	Steps            int              `json:"steps"`
	Limit            string           `json:"limit"`
	FailWhy          string           `json:"fail_why,omitempty"` // why the lowest failing step failed
	GeneratorBound   bool             `json:"generator_bound"`    // the failing step had a saturated or overloaded loadgen
}

// Results is runs.json: everything one bench run measured.
type Results struct {
	Machine  Machine          `json:"machine"`
	Config   Config           `json:"config"`
	SLOMs    float64          `json:"slo_ms"`
	Runs     []RunRecord      `json:"runs"`
	Capacity []CapacityRecord `json:"capacity"`
	Idle     []IdleResult     `json:"idle"`
	// Floor is the bare-write floor at each rate (floor.go).
	Floor   []FloorResult `json:"floor,omitempty"`
	Profile *Profile      `json:"profile,omitempty"`
	Aborted string        `json:"aborted,omitempty"`
}

// write stores runs.json, summary.md and the plots.
func (b *bench) write() error {
	out := b.cfg.Out
	f, err := os.Create(filepath.Join(out, "runs.json"))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b.res); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return render(out, b.res, b.env)
}

// render writes the plots and summary.md of res into out.
func render(out string, res Results, env Env) error {
	plots, perr := Charts(out, res)
	md := Summary(res, res.Config, plots)
	if err := os.WriteFile(filepath.Join(out, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if env.Stdout != nil {
		fmt.Fprint(env.Stdout, md)
	}
	fmt.Fprintf(env.Stderr, "[bench] wrote %s (summary.md, runs.json, machine.txt, plots/)\n", out)
	return perr
}

// Replot redraws the plots and summary.md of a results directory from its
// runs.json, e.g. after a change to the charts.
func Replot(dir string, env Env) error {
	b, err := os.ReadFile(filepath.Join(dir, "runs.json"))
	if err != nil {
		return err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s/runs.json: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		return err
	}
	return render(dir, res, env)
}
