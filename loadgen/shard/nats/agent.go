package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/shard"
)

// DefaultStartWait bounds how long an agent that has ramped waits for its
// start signal before giving up on the run.
const DefaultStartWait = 2 * time.Minute

// Agent is a worker waiting for runs on NATS. Serve runs it; it serves one
// run at a time and answers discovery only while idle.
type Agent struct {
	NATS      string    // NATS server URL
	ID        string    // unique agent id; "" = host-pid-random
	Log       io.Writer // progress and notices; nil = none
	StartWait time.Duration
	// Reports, when set, is a directory where the agent also writes its
	// own report of each run (<token>-<id>.json).
	Reports string

	busy atomic.Bool
	wg   sync.WaitGroup
}

// Serve connects to NATS and serves runs until ctx is done; a run in
// progress is then interrupted (it still reports). It returns an error only
// when it cannot connect or subscribe.
func (a *Agent) Serve(ctx context.Context) error {
	if a.ID == "" {
		a.ID = defaultID()
	}
	if a.StartWait == 0 {
		a.StartWait = DefaultStartWait
	}
	nc, err := nats.Connect(a.NATS, nats.Name("wsbench-agent-"+a.ID), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		return fmt.Errorf("agent: connect %s: %w", a.NATS, err)
	}
	defer nc.Close()
	host, _ := os.Hostname()
	hello, _ := json.Marshal(Hello{ID: a.ID, Host: host})
	subs := []struct {
		subj string
		h    nats.MsgHandler
	}{
		{subjDiscover, func(m *nats.Msg) {
			if !a.busy.Load() {
				_ = m.Respond(hello)
			}
		}},
		{subjClock(a.ID), func(m *nats.Msg) {
			t1 := time.Now().UnixNano()
			b, _ := json.Marshal(ClockReply{T1: t1, T2: time.Now().UnixNano()})
			_ = m.Respond(b)
		}},
		{subjRun(a.ID), func(m *nats.Msg) {
			var job Job
			if err := json.Unmarshal(m.Data, &job); err != nil || job.Token == "" {
				_ = m.Respond([]byte("error: bad job"))
				return
			}
			if err := checkSpec(job.Spec); err != nil {
				_ = m.Respond([]byte("error: " + err.Error()))
				return
			}
			if !a.busy.CompareAndSwap(false, true) {
				_ = m.Respond([]byte("error: busy"))
				return
			}
			// Subscribe to start and abort before accepting the job.
			r, err := a.prepare(ctx, nc, job)
			if err != nil {
				a.busy.Store(false)
				_ = m.Respond([]byte("error: " + err.Error()))
				return
			}
			_ = m.Respond([]byte("ok"))
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				defer a.busy.Store(false)
				r.run()
			}()
		}},
	}
	for _, s := range subs {
		if _, err := nc.Subscribe(s.subj, s.h); err != nil {
			return fmt.Errorf("agent: subscribe %s: %w", s.subj, err)
		}
	}
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("agent: %s: %w", a.NATS, err)
	}
	a.logf("agent %s waiting for runs on %s", a.ID, a.NATS)
	<-ctx.Done()
	a.wg.Wait()
	_ = nc.Drain()
	return nil
}

// unsubscribe ends every subscription in subs.
func unsubscribe(subs []*nats.Subscription) {
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
}

func (a *Agent) logf(format string, v ...any) {
	if a.Log != nil {
		fmt.Fprintf(a.Log, format+"\n", v...)
	}
}

func defaultID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", sanitize(host), os.Getpid(), hex.EncodeToString(b[:]))
}

// ValidID reports whether id can name an agent: one NATS subject token of
// letters, digits, '-' and '_'.
func ValidID(id string) bool { return id != "" && sanitize(id) == id }

// sanitize keeps an id usable as one NATS subject token.
func sanitize(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "agent"
	}
	return string(out)
}

// job is one run being served.
type job struct {
	a      *Agent
	nc     *nats.Conn
	job    Job
	ctx    context.Context
	cancel context.CancelFunc
	start  chan Start
	subs   []*nats.Subscription
}

func (a *Agent) prepare(ctx context.Context, nc *nats.Conn, j Job) (*job, error) {
	r := &job{a: a, nc: nc, job: j, start: make(chan Start, 1)}
	r.ctx, r.cancel = context.WithCancel(ctx)
	s1, err := nc.Subscribe(subjStart(a.ID, j.Token), func(m *nats.Msg) {
		var s Start
		if json.Unmarshal(m.Data, &s) != nil {
			s.Abort = true
		}
		select {
		case r.start <- s:
		default:
		}
	})
	if err != nil {
		r.cancel()
		return nil, err
	}
	s2, err := nc.Subscribe(subjAbort(a.ID, j.Token), func(*nats.Msg) { r.cancel() })
	if err != nil {
		s1.Unsubscribe()
		r.cancel()
		return nil, err
	}
	r.subs = []*nats.Subscription{s1, s2}
	if err := nc.Flush(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *job) close() {
	unsubscribe(r.subs)
	r.cancel()
}

// run runs the job's share and publishes the result.
func (r *job) run() {
	defer r.close()
	spec := r.job.Spec
	a := r.a
	a.logf("run %s: %d clients, %d senders of %d, %s", r.job.Token, spec.Clients, max(spec.Senders, 0), spec.TotalSenders, spec.URL)
	cfg := spec.Config()
	if spec.Progress {
		cfg.Progress = a.Log
	}
	out := Result{ID: a.ID, Result: shard.RunPart(r.ctx, cfg, shard.Link{Ready: r.ready, Start: r.awaitStart})}
	if a.Reports != "" && out.Report != nil {
		path := filepath.Join(a.Reports, r.job.Token+"-"+a.ID+".json")
		if err := out.Report.WriteFile(path); err != nil {
			a.logf("run %s: %v", r.job.Token, err)
		}
	}
	b, _ := json.Marshal(out)
	if max := r.nc.MaxPayload(); int64(len(b)) > max && out.LastReceipts != "" {
		out.LastReceipts = ""
		out.Report.Generator.Warnings = append(out.Report.Generator.Warnings, fmt.Sprintf("agent %s: fan-out data left out (result over the NATS max_payload of %d bytes)", a.ID, max))
		b, _ = json.Marshal(out)
	}
	if err := r.nc.Publish(subjResult(r.job.Token), b); err != nil {
		a.logf("run %s: publish result: %v", r.job.Token, err)
	}
	_ = r.nc.Flush()
	a.logf("run %s done: %d delivered, %d lost", r.job.Token, rep(out.Report).Messages.Delivered, rep(out.Report).Messages.Lost)
}

// ready is the job's ready message: its ramp is done.
func (r *job) ready(established int) error {
	b, _ := json.Marshal(Ready{ID: r.a.ID, Established: established})
	if err := r.nc.Publish(subjReady(r.job.Token), b); err != nil {
		return err
	}
	return r.nc.Flush()
}

// awaitStart waits for the start message, at most the agent's StartWait.
func (r *job) awaitStart() (time.Time, error) {
	t := time.NewTimer(r.a.StartWait)
	defer t.Stop()
	select {
	case s := <-r.start:
		if s.Abort {
			return time.Time{}, errors.New("controller aborted the run")
		}
		return time.Unix(0, s.UnixNs), nil
	case <-r.ctx.Done():
		return time.Time{}, r.ctx.Err()
	case <-t.C:
		return time.Time{}, fmt.Errorf("no start signal within %v", r.a.StartWait)
	}
}

// rep is r, or an empty report for a part that returned none.
func rep(r *report.Report) *report.Report {
	if r == nil {
		return &report.Report{}
	}
	return r
}

// MaxClients bounds the clients one agent accepts to open (memory guard
// against a bad job; the fd limit allows far fewer anyway).
const MaxClients = 1 << 20

// checkSpec refuses a job the agent cannot run.
func checkSpec(spec shard.Spec) error {
	if spec.Clients > MaxClients {
		return fmt.Errorf("%d clients: an agent opens at most %d", spec.Clients, MaxClients)
	}
	return spec.Config().Validate()
}
