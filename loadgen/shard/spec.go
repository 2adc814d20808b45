package shard

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wsbench/wsbench/loadgen/run"
)

// Spec is one part's share of a run: what a coordinator sends a part
// (JSON, the first message of the protocol).
type Spec struct {
	URL            string        `json:"url"`
	Clients        int           `json:"clients"`
	Senders        int           `json:"senders"` // −1: this part owns no sender
	Rate           float64       `json:"rate"`    // the whole run's rate
	Size           int           `json:"size"`
	Duration       time.Duration `json:"duration"`
	Warmup         time.Duration `json:"warmup"`
	Drain          time.Duration `json:"drain"`
	Ramp           float64       `json:"ramp"` // this part's share of the run's ramp
	ConnectTimeout time.Duration `json:"connect_timeout"`
	MaxSendLag     time.Duration `json:"max_send_lag"`
	UserClock      bool          `json:"user_clock,omitempty"`
	SourceIPs      []string      `json:"source_ips,omitempty"`
	RunID          uint64        `json:"run_id"`
	SenderBase     int           `json:"sender_base"`
	ClientBase     int           `json:"client_base"`
	TotalSenders   int           `json:"total_senders"`
	// World carries the real-world-server options (text payloads,
	// templates, join scripts, --expect, handshake, keepalive, TLS,
	// deflate); nil = none. A --ca file is read on the part's machine.
	World    *run.World `json:"world,omitempty"`
	Progress bool       `json:"progress"` // the part prints its own progress lines
	Ticks    bool       `json:"ticks"`    // the part sends per-second ticks for a merged progress line (pipe)
}

// Config turns a part's share back into the run configuration of the
// process that runs it. Output writers and the gate are the transport's.
func (s Spec) Config() run.Config {
	cfg := run.Config{
		URL: s.URL, Clients: s.Clients, Senders: max(s.Senders, 0), Rate: s.Rate, Size: s.Size,
		Duration: s.Duration, Warmup: s.Warmup, Drain: s.Drain, Ramp: s.Ramp,
		ConnectTimeout: s.ConnectTimeout, MaxSendLag: s.MaxSendLag, UserClock: s.UserClock,
		RunID: s.RunID, SenderBase: s.SenderBase, ClientBase: s.ClientBase, TotalSenders: s.TotalSenders,
	}
	for _, ip := range s.SourceIPs {
		if p := net.ParseIP(ip); p != nil {
			cfg.SourceIPs = append(cfg.SourceIPs, p)
		}
	}
	if s.World != nil {
		cfg.World = *s.World
	}
	if s.Senders < 0 {
		cfg.SenderBase = s.TotalSenders // owns no sender ids
		cfg.NoSenders = true
	}
	return cfg
}

// Plan says how to cut a run into parts.
type Plan struct {
	Parts int // how many parts, 1 up to the run's clients
	// SenderParts puts every sender on the first SenderParts parts (0 =
	// spread over all), so that the others only receive.
	SenderParts int
	// URLs, when set, replace the run's URL: part i loads URLs[i%len].
	URLs []string
}

// Specs splits cfg into p.Parts shares, clients and senders differing by
// at most one, all with one new run id; the ramp is divided so that the
// parts together open connections at cfg.Ramp. It returns the specs and
// the run's total number of senders.
func (p Plan) Specs(cfg run.Config) ([]Spec, int, error) {
	if p.Parts < 1 || p.Parts > cfg.Clients {
		return nil, 0, fmt.Errorf("%w: %d parts: want 1 up to --clients %d", run.ErrUsage, p.Parts, cfg.Clients)
	}
	senders := cfg.Senders
	if senders == 0 {
		senders = cfg.Clients
	}
	clients, sends := Split(cfg.Clients, p.Parts), Split(senders, p.Parts)
	if k := p.SenderParts; k > 0 && k < p.Parts {
		sends = append(Split(senders, k), make([]int, p.Parts-k)...)
		for i := range k {
			if sends[i] > clients[i] {
				return nil, 0, fmt.Errorf("%w: --sender-agents %d: %d senders do not fit in %d clients per agent", run.ErrUsage, k, senders, clients[i])
			}
		}
	}
	if err := Carries(cfg); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", run.ErrUsage, err)
	}
	var world *run.World
	if cfg.UsesWorld() {
		w := cfg.World
		world = &w
	}
	runID := run.NewRunID()
	specs := make([]Spec, p.Parts)
	cb, sb := 0, 0
	for i := range specs {
		s := Spec{
			URL: cfg.URL, Clients: clients[i], Senders: sends[i], Rate: cfg.Rate, Size: cfg.Size,
			Duration: cfg.Duration, Warmup: cfg.Warmup, Drain: cfg.Drain, Ramp: cfg.Ramp / float64(p.Parts),
			ConnectTimeout: cfg.ConnectTimeout, MaxSendLag: cfg.MaxSendLag, UserClock: cfg.UserClock,
			RunID: runID, SenderBase: sb, ClientBase: cb, TotalSenders: senders, World: world,
		}
		if sends[i] == 0 {
			// A part without senders must not default to "all clients".
			s.Senders = -1
		}
		if len(p.URLs) > 0 {
			s.URL = p.URLs[i%len(p.URLs)]
		}
		for _, ip := range cfg.SourceIPs {
			s.SourceIPs = append(s.SourceIPs, ip.String())
		}
		cb += clients[i]
		sb += sends[i]
		specs[i] = s
	}
	return specs, senders, nil
}

// ErrRooms is why a run with --rooms cannot be split yet.
var ErrRooms = errors.New("--procs and --agents do not carry --rooms yet: slot n goes to room n mod N from sender n mod senders, and a part's senders are not the clients of those rooms; run one process (up to ~19,000 clients)")

// Carries reports whether cfg can be split into parts: every World
// option travels in the Spec and merges exactly, except --rooms
// (ErrRooms).
func Carries(cfg run.Config) error {
	if cfg.Rooms > 1 {
		return ErrRooms
	}
	return nil
}

// Split divides n into parts shares differing by at most one, larger first.
func Split(n, parts int) []int {
	out := make([]int, parts)
	for i := range out {
		out[i] = n / parts
		if i < n%parts {
			out[i]++
		}
	}
	return out
}
