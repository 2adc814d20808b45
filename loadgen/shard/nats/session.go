package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard"
)

// session is one run on the agents: its token (which names its subjects)
// and the subscriptions to their ready and result messages.
type session struct {
	c        *Controller
	nc       *nats.Conn
	hellos   []Hello
	token    string
	readyCh  chan *nats.Msg
	resultCh chan *nats.Msg
	subs     []*nats.Subscription
}

// open picks the run's token and subscribes to its ready and result
// subjects before any agent is given the job.
func (c *Controller) open(nc *nats.Conn, hellos []Hello) (*session, error) {
	var tb [6]byte
	_, _ = rand.Read(tb[:])
	s := &session{c: c, nc: nc, hellos: hellos, token: hex.EncodeToString(tb[:]),
		readyCh: make(chan *nats.Msg, len(hellos)*2), resultCh: make(chan *nats.Msg, len(hellos)*2)}
	rs, err := nc.ChanSubscribe(subjReady(s.token), s.readyCh)
	if err != nil {
		return nil, err
	}
	s.subs = append(s.subs, rs)
	ress, err := nc.ChanSubscribe(subjResult(s.token), s.resultCh)
	if err != nil {
		s.close()
		return nil, err
	}
	s.subs = append(s.subs, ress)
	_ = ress.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() { unsubscribe(s.subs) }

// hand gives agent i the job specs[i]; when one refuses, the ones that
// accepted are aborted.
func (s *session) hand(specs []shard.Spec, clocks []Clock) error {
	for i, h := range s.hellos {
		clocks[i].Clients, clocks[i].Senders = specs[i].Clients, max(specs[i].Senders, 0)
		b, _ := json.Marshal(Job{Token: s.token, Spec: specs[i]})
		msg, err := s.nc.Request(subjRun(h.ID), b, 5*time.Second)
		if err != nil || string(msg.Data) != "ok" {
			if err == nil {
				err = errors.New(string(msg.Data))
			}
			s.abort(s.hellos[:i])
			return fmt.Errorf("agent %s refused the run: %w", h.ID, err)
		}
	}
	return nil
}

// awaitReady waits until every agent has ramped (or failed its ramp) and
// returns how many connections they established together.
func (s *session) awaitReady(ctx context.Context, cfg run.Config) (int, error) {
	rampWait := cfg.ConnectTimeout + ResultGrace
	if cfg.Ramp > 0 {
		rampWait += time.Duration(float64(cfg.Clients) / cfg.Ramp * float64(time.Second))
	}
	readyBy := time.NewTimer(rampWait)
	defer readyBy.Stop()
	total, got := 0, 0
	for got < len(s.hellos) {
		select {
		case m := <-s.readyCh:
			var r Ready
			if json.Unmarshal(m.Data, &r) == nil {
				total += r.Established
				got++
			}
		case <-ctx.Done():
			s.abortAll()
			return 0, ctx.Err()
		case <-readyBy.C:
			s.abortAll()
			return 0, fmt.Errorf("only %d of %d agents finished their ramp within %v", got, len(s.hellos), rampWait)
		}
	}
	return total, nil
}

// start sends every agent the common start instant in its own clock
// (an abort when nothing connected) and returns it in the controller's.
func (s *session) start(total int, clocks []Clock, offsets []time.Duration) time.Time {
	maxRTT := 0.0
	for _, k := range clocks {
		maxRTT = max(maxRTT, k.RTTMs)
	}
	startAt := time.Now().Add(StartLead + time.Duration(maxRTT*4*1e6))
	for i, h := range s.hellos {
		b, _ := json.Marshal(Start{UnixNs: startAt.UnixNano() + int64(offsets[i]), Abort: total == 0})
		_ = s.nc.Publish(subjStart(h.ID, s.token), b)
	}
	_ = s.nc.Flush()
	return startAt
}

// collect gathers the agents' results, in agent order, until all have
// come or wait has passed; missing names the agents that sent none.
func (s *session) collect(wait time.Duration) (results []*Result, missing []string) {
	endBy := time.NewTimer(wait)
	defer endBy.Stop()
	results = make([]*Result, len(s.hellos))
	index := map[string]int{}
	for i, h := range s.hellos {
		index[h.ID] = i
	}
	for n := 0; n < len(s.hellos); {
		select {
		case m := <-s.resultCh:
			var r Result
			if err := json.Unmarshal(m.Data, &r); err != nil {
				s.c.logf("controller: bad result: %v", err)
				continue
			}
			if i, ok := index[r.ID]; ok && results[i] == nil {
				results[i] = &r
				n++
			}
		case <-endBy.C:
			for i, h := range s.hellos {
				if results[i] == nil {
					missing = append(missing, h.ID)
				}
			}
			return results, missing
		}
	}
	return results, nil
}

// abort tells agents to give the run up: an abort start for one still
// waiting for it, an abort for one already running.
func (s *session) abort(hellos []Hello) {
	for _, h := range hellos {
		b, _ := json.Marshal(Start{Abort: true})
		_ = s.nc.Publish(subjStart(h.ID, s.token), b)
		_ = s.nc.Publish(subjAbort(h.ID, s.token), nil)
	}
	_ = s.nc.Flush()
}

// abortAll aborts every agent of the session.
func (s *session) abortAll() { s.abort(s.hellos) }
