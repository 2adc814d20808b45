// Package report is the loadgen's result file: the JSON schema of
// ../shared/contracts.md, its encoding, and the summaries built from
// HdrHistograms. Everything that reads results (compare, plot, merge,
// bench) reads this type, never the generator's internals.
package report

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Tool is the value of Report.Tool; files with another value are refused.
const Tool = "wsbench-loadgen"

// Latency histograms record microseconds from 1 µs to 60 s with 3
// significant digits, as the contract requires.
const (
	HistMinMicros = 1
	HistMaxMicros = 60_000_000
	HistSigFigs   = 3
)

// NewLatencyHistogram returns an empty histogram with the report's range.
func NewLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinMicros, HistMaxMicros, HistSigFigs)
}

// Per-room histograms use 2 significant digits (1 % resolution): about
// 20 KiB each instead of 220 KiB, so that --rooms 1000 stays cheap.
const RoomSigFigs = 2

// NewRoomHistogram returns an empty per-room latency histogram.
func NewRoomHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinMicros, HistMaxMicros, RoomSigFigs)
}

// Summary condenses one latency histogram, in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summarize builds a Summary from a histogram of microseconds.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h == nil || h.TotalCount() == 0 {
		return Summary{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Summary{
		Count: h.TotalCount(),
		Min:   ms(h.Min()),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

// Config is the run's configuration as recorded in the report.
type Config struct {
	Clients   int      `json:"clients"`
	Senders   int      `json:"senders"`
	Rate      float64  `json:"rate"`
	Size      int      `json:"size"`
	DurationS float64  `json:"duration_s"`
	WarmupS   float64  `json:"warmup_s"`
	Ramp      float64  `json:"ramp,omitempty"`
	Procs     int      `json:"procs,omitempty"`
	SourceIPs []string `json:"source_ips,omitempty"`
	// Payload is "text" for --payload text / --template (empty = binary);
	// Template the --template; Expect "others" for --expect others (empty
	// = all); Rooms the --rooms (0 = one room).
	Payload  string `json:"payload,omitempty"`
	Template string `json:"template,omitempty"`
	Expect   string `json:"expect,omitempty"`
	Rooms    int    `json:"rooms,omitempty"`
	// MaxDrops and MaxConnectFail are the validity limits the run was
	// judged by (--max-drops, --max-connect-fail), as fractions.
	MaxDrops       float64 `json:"max_drops"`
	MaxConnectFail float64 `json:"max_connect_fail"`
}

// Connections counts connection attempts and their handshake times.
type Connections struct {
	Attempted   int64   `json:"attempted"`
	Established int64   `json:"established"`
	Failed      int64   `json:"failed"`
	Dropped     int64   `json:"dropped"`
	ConnectMs   Summary `json:"connect_ms"`
	// DropReasons counts the dropped connections by cause: "close 1008"
	// (the server's close code) or "error" (the connection broke).
	DropReasons map[string]int64 `json:"drop_reasons,omitempty"`
}

// Messages counts broadcasts and deliveries over the measured window.
// Expected counts deliveries owed to receivers connected for the whole
// window; Lost = Expected - (Delivered - Duplicated) over those receivers.
type Messages struct {
	Sent       int64 `json:"sent"`
	Receivers  int64 `json:"receivers"` // receivers connected for the whole measured window
	Expected   int64 `json:"expected"`
	Delivered  int64 `json:"delivered"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	Reordered  int64 `json:"reordered"`
	Foreign    int64 `json:"foreign"` // messages not from this run (other runs, server pushes)
	// Unexpected counts measured messages of this run that arrived where
	// none was owed: a sender's own copy under --expect others, another
	// room's broadcast. Not in Delivered. Ignored counts messages matching
	// --ignore or --await (server chatter): neither data nor foreign.
	Unexpected int64 `json:"unexpected,omitempty"`
	Ignored    int64 `json:"ignored,omitempty"`
	// DeliveredDropped counts distinct deliveries to receivers that were
	// dropped before the close phase (not in Delivered).
	DeliveredDropped int64 `json:"delivered_dropped"`
	// ExpectedAll and LostAll count like Expected and Lost but over every
	// established receiver, dropped ones included: a dropped receiver was
	// owed every measured broadcast. --max-loss is checked against these,
	// so a server cannot pass it by closing the receivers it falls behind on.
	ExpectedAll int64 `json:"expected_all"`
	LostAll     int64 `json:"lost_all"`
}

// Throughput is per second of measured window.
type Throughput struct {
	SentPerS      float64 `json:"sent_per_s"`
	DeliveredPerS float64 `json:"delivered_per_s"`
}

// Generator describes whether the generator kept its own timetable during
// the measured window (warmup sends are not judged).
type Generator struct {
	Overloaded bool `json:"overloaded"` // max send lag exceeded MaxSendLagLimitMs
	// MaxSendLagMs is the worst lateness of a send that the generator
	// itself caused (its goroutine ran late), not counting time blocked in
	// the previous write of the connection (server backpressure).
	MaxSendLagMs float64 `json:"max_send_lag_ms"`
	// MaxSendLateMs is the worst lateness of a send against its intended
	// time from any cause, backpressure included.
	MaxSendLateMs float64 `json:"max_send_late_ms"`
	// SendLagMs summarises how late every measured send was against the
	// timetable, from any cause.
	SendLagMs         Summary `json:"send_lag_ms"`
	MaxSendLagLimitMs float64 `json:"max_send_lag_limit_ms"` // the --max-send-lag threshold
	SendErrors        int64   `json:"send_errors"`           // senders stopped by a write error
	// RSSPerClientKB is the resident memory the ramp added per established
	// connection (RSS after − before, over established), in KiB; a run
	// with --procs reports the mean over its processes.
	RSSPerClientKB float64 `json:"rss_per_client_kb"`
	FDLimit        uint64  `json:"fd_limit"`   // RLIMIT_NOFILE after raising it (per process)
	GoMaxProcs     int     `json:"gomaxprocs"` // per process
	CPUSeconds     float64 `json:"cpu_s"`      // user+system CPU of the generator (all processes)
	// Clock is where receipt times came from: "kernel" (SO_TIMESTAMPING
	// software receive stamps, --rx-timestamps), "user space" (time.Now
	// as the reader parsed the message) or "mixed"; KernelStamped counts
	// the messages timed by a kernel stamp.
	Clock         string   `json:"clock,omitempty"`
	KernelStamped int64    `json:"kernel_stamped,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Histograms holds base64 of the HdrHistogram compressed encoding
// (hdrhistogram.Histogram.Encode with V2CompressedEncodingCookieBase).
type Histograms struct {
	Latency string `json:"latency"`
	Connect string `json:"connect,omitempty"`
	Fanout  string `json:"fanout,omitempty"`
	SendLag string `json:"send_lag,omitempty"` // lateness of every measured send (generator.send_lag_ms)
}

// WindowLayout is the time format of Window: RFC 3339 in UTC with all nine
// fraction digits, so that the strings sort as the times do.
const WindowLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Window is when the measured window ran (WindowLayout, UTC).
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Report is one loadgen run.
type Report struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	Started string `json:"started"`
	URL     string `json:"url"`
	// RunID is the run id carried in every payload (16 hex digits); the
	// processes of one --procs run share it.
	RunID string `json:"run_id,omitempty"`
	// Valid is false when the run did not measure what it was configured
	// for; InvalidReasons says why and what to change (see Judge).
	Valid          bool     `json:"valid"`
	InvalidReasons []string `json:"invalid_reasons"`
	// Interrupted is set when the run was ended early (SIGINT).
	Interrupted bool        `json:"interrupted,omitempty"`
	Window      *Window     `json:"window,omitempty"` // nil when the run never sent
	Config      Config      `json:"config"`
	Connections Connections `json:"connections"`
	Messages    Messages    `json:"messages"`
	Throughput  Throughput  `json:"throughput"`
	MeasuredS   float64     `json:"measured_s"` // length of the measured window actually run (shorter when interrupted)
	LatencyMs   Summary     `json:"latency_ms"`
	FanoutMs    Summary     `json:"fanout_ms"`
	Generator   Generator   `json:"generator"`
	Histograms  Histograms  `json:"histograms"`
	// Server is the server's CPU over the window (--server-pid); nil
	// when not measured.
	Server *Server `json:"server,omitempty"`
	// Rooms has one row per room of a --rooms run (nil for one room).
	Rooms []Room `json:"rooms,omitempty"`
	// Compression records the permessage-deflate offer and answer
	// (--deflate); nil when not offered.
	Compression *Compression `json:"compression,omitempty"`
}

// ErrNotReport is returned by Read for JSON that is not a loadgen report.
var ErrNotReport = errors.New("report: not a wsbench-loadgen report")

// EncodeHistogram returns the base64 compressed encoding of h.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// DecodeHistogram reverses EncodeHistogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode histogram base64: %w", err)
	}
	h, err := hdrhistogram.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Write encodes r as indented JSON.
func (r *Report) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Read decodes a report and checks that it is one. A report written
// before validity was recorded (no "valid" field) is judged on reading,
// with the default limits.
func Read(rd io.Reader) (*Report, error) {
	var r Report
	var legacy struct {
		Valid *bool `json:"valid"`
	}
	b, err := io.ReadAll(rd)
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err == nil {
		err = json.Unmarshal(b, &legacy)
	}
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if r.Tool != Tool {
		return nil, fmt.Errorf("%w (tool %q)", ErrNotReport, r.Tool)
	}
	if legacy.Valid == nil {
		r.Config.MaxDrops, r.Config.MaxConnectFail = DefaultMaxDrops, DefaultMaxConnectFail
		if r.Messages.ExpectedAll == 0 {
			r.Messages.ExpectedAll, r.Messages.LostAll = r.Messages.Expected, r.Messages.Lost
		}
		r.Judge()
	}
	return &r, nil
}

// ReadFile reads the report stored at path.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteFile writes r to path, creating or truncating it.
func (r *Report) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
