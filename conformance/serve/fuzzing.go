package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/wsbench/wsbench/conformance/suite"
)

// fuzzing holds the results of the fuzzingserver-style endpoints, for the
// first agent that ran a case. Its fields are guarded by server.mu.
type fuzzing struct {
	agent   string
	results map[int]suite.Result // by case index (0-based)
	done    chan struct{}        // closed by /updateReports for agent
	closed  bool
}

// ProtocolCaseCount is what /getCaseCount answers.
func ProtocolCaseCount() int { return len(protocolCases) }

// fuzz serves /getCaseCount, /runCase, /getCaseStatus and /updateReports.
func (s *server) fuzz(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1) // before the upgrade, while Shutdown still waits for us
	defer s.wg.Done()
	q := r.URL.Query()
	agent := q.Get("agent")
	idx := -1
	if r.URL.Path == "/runCase" || r.URL.Path == "/getCaseStatus" {
		n, err := strconv.Atoi(q.Get("case"))
		if err != nil || n < 1 || n > len(protocolCases) {
			http.Error(w, fmt.Sprintf("case must be 1..%d", len(protocolCases)), http.StatusBadRequest)
			return
		}
		idx = n - 1
	}
	if r.URL.Path != "/getCaseCount" && agent == "" {
		http.Error(w, "give agent=NAME", http.StatusBadRequest)
		return
	}
	// Only the deflate case accepts permessage-deflate; the others decline
	// it, so their frames mean what RFC 6455 alone says.
	var ext *wsflate.Extension
	up := ws.HTTPUpgrader{}
	if idx >= 0 && protocolCases[idx].id == deflateCase {
		ext = &wsflate.Extension{Parameters: wsflate.DefaultParameters}
		up.Negotiate = ext.Negotiate
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		return
	}
	defer nc.Close()
	p := &peer{nc: nc, br: rw.Reader}
	if ext != nil {
		_, p.deflate = ext.Accepted()
	}
	switch r.URL.Path {
	case "/getCaseCount":
		_ = p.frame(ws.OpText, true, []byte(strconv.Itoa(len(protocolCases))))
		_ = p.closeNormally()
	case "/runCase":
		s.runCase(p, agent, idx)
	case "/getCaseStatus":
		s.mu.Lock()
		res, ok := s.fz.results[idx]
		if s.fz.agent != agent {
			ok = false
		}
		s.mu.Unlock()
		behavior := "UNIMPLEMENTED"
		if ok {
			behavior = res.Verdict.String()
		}
		body, _ := json.Marshal(map[string]string{"behavior": behavior})
		_ = p.frame(ws.OpText, true, body)
		_ = p.closeNormally()
	case "/updateReports":
		_ = p.closeNormally()
		s.mu.Lock()
		if s.fz.agent == agent && !s.fz.closed {
			s.fz.closed = true
			close(s.fz.done)
		}
		s.mu.Unlock()
	}
}

// runCase runs case idx for agent on p and records the verdict.
func (s *server) runCase(p *peer, agent string, idx int) {
	s.mu.Lock()
	if s.fz.agent == "" {
		s.fz.agent = agent
		s.startedOnce()
	}
	mine := s.fz.agent == agent
	s.mu.Unlock()
	c := protocolCases[idx]
	start := time.Now()
	r := func() (r suite.Result) {
		defer func() {
			if v := recover(); v != nil {
				r = suite.Failf("the case to finish", "the case panicked: %v", v)
			}
		}()
		return c.run(p)
	}()
	if r.Verdict == suite.OK && !p.ended() {
		if err := p.closeNormally(); err != nil {
			r = suite.NonStrictf("the closing handshake after the case (RFC 6455 §7.1.2)", "%v", err)
		}
	}
	if p.unmasked > 0 {
		r = suite.Failf("every client frame masked (RFC 6455 §5.1, §5.3)", "%d unmasked frames", p.unmasked)
	}
	r.Elapsed = time.Since(start)
	r.Wire, r.RemoteClose = append([]string{}, p.log...), p.closeCode
	if len(p.log) > 0 && r.Verdict != suite.OK {
		r.Detail = joinDetail(r.Detail, "client sent: "+tail(p.log, 4))
	}
	s.logf("runCase %d (%s) for %s: %v", idx+1, c.id, agent, r.Verdict)
	if !mine {
		return // one agent per run; others are served but not reported
	}
	s.mu.Lock()
	s.fz.results[idx] = r
	s.mu.Unlock()
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func tail(log []string, n int) string {
	if len(log) > n {
		log = append([]string{"…"}, log[len(log)-n:]...)
	}
	out := ""
	for i, l := range log {
		if i > 0 {
			out += ", "
		}
		out += l
	}
	return out
}

// ended reports whether the client closed or the connection ended.
func (p *peer) ended() bool { return p.over }

// protocolSuite turns the recorded results into suite cases.
func protocolSuite(fz *fuzzing) []suite.Case {
	var out []suite.Case
	for i, c := range protocolCases {
		r, ok := fz.results[i]
		if !ok {
			r = suite.Skip(fmt.Sprintf("the client did not run case %d (/runCase?case=%d)", i+1, i+1))
		}
		out = append(out, suite.Case{ID: c.id, Group: "protocol", Title: c.title, Ref: c.ref, Autobahn: autobahnOf[c.id],
			Run: func(context.Context, *suite.Env) suite.Result { return r }})
	}
	return out
}
