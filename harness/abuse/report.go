package abuse

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of one abuse run, written as JSON and Markdown.
type Report struct {
	Tool        string           `json:"tool"`
	Started     time.Time        `json:"started"`
	Finished    time.Time        `json:"finished"`
	URL         string           `json:"url"`
	ServerPID   int              `json:"server_pid,omitempty"`
	Placement   string           `json:"placement,omitempty"` // where server, attacker and probe ran (Placement.Describe)
	Config      map[string]any   `json:"config"`
	RSSStartMiB float64          `json:"rss_start_mib,omitempty"`
	HWMMiB      float64          `json:"rss_hwm_mib,omitempty"` // VmHWM at the end: the server's lifetime peak
	Clean       ProbeResult      `json:"clean_probe"`
	CleanRoom   ProbeResult      `json:"clean_room_probe"`
	CleanAfter  *ProbeResult     `json:"clean_probe_after,omitempty"` // the clean probe again after the last scenario
	Scenarios   []ScenarioResult `json:"scenarios"`
	Interrupted bool             `json:"interrupted,omitempty"`
	Pass        bool             `json:"pass"`
}

// ScenarioResult is one scenario's measurements and verdict.
type ScenarioResult struct {
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	Pass             bool           `json:"pass"`
	Failures         []string       `json:"failures,omitempty"`
	Seconds          float64        `json:"seconds"`
	CleanP99ms       float64        `json:"clean_p99_ms"`
	Probe            ProbeResult    `json:"probe"`
	Ratio            float64        `json:"p99_ratio"`
	PeakRSSMiB       float64        `json:"peak_rss_mib,omitempty"`
	ServerDown       bool           `json:"server_down,omitempty"`
	ServerCloseCodes map[string]int `json:"server_close_codes,omitempty"` // from the server's /metrics, when it has them
	Outcome          Outcome        `json:"outcome"`
	// OtherServerCPUPct is the share of the server's CPU that other
	// processes used during the scenario (pinned runs only; -1 unknown).
	OtherServerCPUPct float64 `json:"other_server_cpu_pct"`
	// ProbeCPUBusyPct is how busy the CPU of the probe and attacker was
	// (pinned runs only; -1 unknown).
	ProbeCPUBusyPct float64  `json:"probe_cpu_busy_pct"`
	Notes           []string `json:"notes,omitempty"` // checks not applied, and why
}

// Verdict is "PASS" or "FAIL".
func (r ScenarioResult) Verdict() string {
	if r.Pass {
		return "PASS"
	}
	return "FAIL"
}

func reportConfig(c Config) map[string]any {
	return map[string]any{
		"conns": c.Conns, "slow_conns": c.SlowConns, "window_s": c.Window.Seconds(),
		"clean_s": c.CleanDuration.Seconds(), "max_ratio": c.MaxRatio, "p99_floor_ms": float64(c.P99Floor) / 1e6,
		"max_rss_mib": mib(c.MaxRSS), "max_cut_mib": mib(c.MaxCut), "probe": c.Probe, "room_probe": c.RoomProbe,
		"slowloris_conns": c.SlowlorisConns, "newcomer_max_p99_ms": float64(c.NewcomerMaxP99) / 1e6, "write_timeout_s": c.WriteTimeout.Seconds(),
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// probeCells renders the probe columns; "-" for a scenario without a probe.
func probeCells(s ScenarioResult) (clean, abuse, ratio string) {
	if s.Probe.Connected == 0 {
		return "-", "-", "-"
	}
	return fmt.Sprintf("%.2f ms", s.CleanP99ms), fmt.Sprintf("%.2f ms", s.Probe.P99ms), fmt.Sprintf("%.2f", s.Ratio)
}

// loadCell shows the other processes' share of the server's CPU and how
// busy the probe's CPU was ("–" when not pinned).
func loadCell(s ScenarioResult) string {
	if s.OtherServerCPUPct < 0 || s.ProbeCPUBusyPct < 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%% / %.0f%%", s.OtherServerCPUPct, s.ProbeCPUBusyPct)
}

func rssCell(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", v)
}

// WriteTable writes the summary table: scenario, verdict, probe p99 clean
// vs under abuse, ratio, peak RSS, close codes seen by the abusive clients
// and sent by the server.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tVERDICT\tP99 CLEAN\tP99 ABUSE\tRATIO\tCPU OTHER/PROBE\tPEAK RSS\tCLIENTS SAW\tSERVER SENT")
	for _, s := range r.Scenarios {
		c, a, ratio := probeCells(s)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Verdict(), c, a, ratio, loadCell(s), rssCell(s.PeakRSSMiB), FormatCodes(s.Outcome.Codes), FormatCodes(s.ServerCloseCodes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	if r.CleanAfter != nil {
		fmt.Fprintf(w, "clean probe p99: %.2f ms before the scenarios, %.2f ms after them (machine noise)\n", r.Clean.P99ms, r.CleanAfter.P99ms)
	}
	_, err := fmt.Fprintf(w, "%s: %d scenarios, %d failed\n", verdict, len(r.Scenarios), r.failed())
	return err
}

func (r *Report) failed() int {
	n := 0
	for _, s := range r.Scenarios {
		if !s.Pass {
			n++
		}
	}
	return n
}

// WriteMarkdown writes the report for results/abuse-<date>.md.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Abuse run %s\n\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "Target `%s`", r.URL)
	if r.ServerPID != 0 {
		fmt.Fprintf(&b, " (pid %d, RSS at start %.0f MiB, lifetime peak VmHWM %.0f MiB)", r.ServerPID, r.RSSStartMiB, r.HWMMiB)
	}
	fmt.Fprintf(&b, ", %s.", r.Finished.Sub(r.Started).Round(time.Second))
	if r.Placement != "" {
		fmt.Fprintf(&b, " Placement: %s.", r.Placement)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Clean probe (%s, %d clients): p50 %.2f ms, p99 %.2f ms.", r.Config["probe"].(ProbeConfig).Room, r.Clean.Connected, r.Clean.P50ms, r.Clean.P99ms)
	if r.CleanRoom.Connected > 0 {
		fmt.Fprintf(&b, " Clean room probe (%d clients): p50 %.2f ms, p99 %.2f ms.", r.CleanRoom.Connected, r.CleanRoom.P50ms, r.CleanRoom.P99ms)
	}
	if r.CleanAfter != nil {
		fmt.Fprintf(&b, " The same clean probe after the last scenario: p50 %.2f ms, p99 %.2f ms (how much the machine itself drifted).", r.CleanAfter.P50ms, r.CleanAfter.P99ms)
	}
	b.WriteString("\n\n| scenario | verdict | p99 clean | p99 under abuse | ratio | other processes on the server's CPU / probe CPU busy | peak RSS | clients saw | server sent |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		c, a, ratio := probeCells(s)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Name, s.Verdict(), c, a, ratio, loadCell(s), rssCell(s.PeakRSSMiB), FormatCodes(s.Outcome.Codes), FormatCodes(s.ServerCloseCodes))
	}
	b.WriteString("\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "## %s: %s\n\n%s. %d attempted, %.1f s.", s.Name, s.Verdict(), s.Description, s.Outcome.Attempted, s.Seconds)
		if len(s.Outcome.Facts) > 0 {
			keys := make([]string, 0, len(s.Outcome.Facts))
			for k := range s.Outcome.Facts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				v := s.Outcome.Facts[k]
				if f, ok := v.(float64); ok {
					v = fmt.Sprintf("%.2f", f)
				}
				parts[i] = fmt.Sprintf("%s=%v", k, v)
			}
			fmt.Fprintf(&b, " %s.", strings.Join(parts, ", "))
		}
		b.WriteString("\n")
		for _, f := range s.Failures {
			fmt.Fprintf(&b, "\n- FAIL: %s", f)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "\n- note: %s", n)
		}
		b.WriteString("\n\n")
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "**%s**: %d scenarios, %d failed.\n", verdict, len(r.Scenarios), r.failed())
	_, err := io.WriteString(w, b.String())
	return err
}
