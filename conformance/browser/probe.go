package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wsbench/wsbench/conformance/suite"
)

// event is one entry of the probe page's log (see probe.html).
type event struct {
	T          float64 `json:"t"`    // performance.now(), ms
	Type       string  `json:"type"` // ctor call throw state open message error close
	RS         int     `json:"rs"`   // readyState when logged (after a call)
	Code       int     `json:"code"`
	Reason     string  `json:"reason"`
	WasClean   bool    `json:"wasClean"`
	Name       string  `json:"name"`   // call/throw: method name
	Before     int     `json:"before"` // call/throw: readyState before
	Ex         string  `json:"ex"`     // throw: exception name
	Buffered0  int     `json:"buffered0"`
	Buffered   int     `json:"buffered"`
	Kind       string  `json:"kind"` // message: text, arraybuffer, Blob
	Len        int     `json:"len"`
	Data       string  `json:"data"`
	Sum        uint32  `json:"sum"`
	BinaryType string  `json:"binaryType"`
}

func (e event) String() string {
	switch e.Type {
	case "close":
		return fmt.Sprintf("close(code=%d reason=%q wasClean=%t rs=%d)", e.Code, e.Reason, e.WasClean, e.RS)
	case "call":
		return fmt.Sprintf("%s() %d→%d buffered %d→%d", e.Name, e.Before, e.RS, e.Buffered0, e.Buffered)
	case "throw":
		return fmt.Sprintf("%s() threw %s (rs %d→%d)", e.Name, e.Ex, e.Before, e.RS)
	case "message":
		return fmt.Sprintf("message(%s, %d)", e.Kind, e.Len)
	}
	return fmt.Sprintf("%s(rs=%d)", e.Type, e.RS)
}

// summary prints a log compactly for Observed fields.
func summary(evs []event) string {
	parts := make([]string, 0, len(evs))
	for _, e := range evs {
		parts = append(parts, e.String())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// of returns the events of the given type.
func of(evs []event, typ string) []event {
	var out []event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// checkSequence checks the invariant every case's log must keep: the
// WebSocket events are open?, message*, error?, close, in that order, with
// messages only after open, exactly one close and nothing after it
// (WHATWG WebSockets §3.2, feedback from the protocol).
func checkSequence(evs []event) error {
	opened, errored, closed := false, false, false
	for _, e := range evs {
		switch e.Type {
		case "open":
			if opened || errored || closed {
				return fmt.Errorf("open after open, error or close: %s", summary(evs))
			}
			opened = true
		case "message":
			if !opened || errored || closed {
				return fmt.Errorf("message before open or after error/close: %s", summary(evs))
			}
		case "error":
			if errored || closed {
				return fmt.Errorf("error after error or close: %s", summary(evs))
			}
			errored = true
		case "close":
			if closed {
				return fmt.Errorf("two close events: %s", summary(evs))
			}
			closed = true
		}
	}
	if !closed {
		return fmt.Errorf("no close event: %s", summary(evs))
	}
	return nil
}

// tab is one browser tab showing the probe page.
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	l      *lane
	id     string // the peer record key of this tab's connection
	gone   bool   // the case navigated away: the probe log is gone
}

var tabSeq atomic.Int64

// openProbe opens a tab on the probe page.
func openProbe(ctx context.Context, l *lane, caseID string) (*tab, error) {
	tctx, cancel, err := l.newTab(ctx)
	if err != nil {
		return nil, err
	}
	t := &tab{ctx: tctx, cancel: cancel, l: l, id: fmt.Sprintf("%s-%d", caseID, tabSeq.Add(1))}
	if err := t.run(10*time.Second, chromedp.Navigate(l.base+"/probe")); err != nil {
		cancel()
		return nil, fmt.Errorf("load probe page: %w", err)
	}
	return t, nil
}

// run runs a void action with a bound.
func (t *tab) run(d time.Duration, a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(t.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, a)
}

// peerURL is the scripted peer's URL for script, keyed by the tab's id.
func (t *tab) peerURL(script string) string {
	return t.l.wsURL + "/peer/" + script + "?id=" + t.id
}

// js builds a call of a probe function with JSON-encoded arguments.
func js(fn string, args ...any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		b, _ := json.Marshal(a)
		parts[i] = string(b)
	}
	return fmt.Sprintf("probe.%s(%s);", fn, strings.Join(parts, ", "))
}

// do evaluates statements in the page, all in one task, so nothing the
// socket does can interleave.
func (t *tab) do(stmts ...string) error {
	return t.run(5*time.Second, chromedp.Evaluate[chromedp.Void](strings.Join(stmts, "\n")+"\nundefined"))
}

// events reads the probe log.
func (t *tab) events() ([]event, error) {
	ctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[[]event]("probe.log"))
}

// waitFor polls the log until cond holds or d passes; it returns the last
// log read either way, and an error saying what was awaited.
func (t *tab) waitFor(d time.Duration, what string, cond func([]event) bool) ([]event, error) {
	deadline := time.Now().Add(d)
	for {
		evs, err := t.events()
		if err == nil && cond(evs) {
			return evs, nil
		}
		if err != nil && t.ctx.Err() != nil {
			return evs, fmt.Errorf("waiting for %s: %w", what, err)
		}
		if time.Now().After(deadline) {
			return evs, fmt.Errorf("no %s within %v", what, d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func has(typ string) func([]event) bool {
	return func(evs []event) bool { return len(of(evs, typ)) > 0 }
}

// finish closes the socket if the case left it open, waits for the close
// event and a quiet moment after it, and checks the sequence invariant.
func (t *tab) finish() error {
	if t.gone {
		return nil
	}
	evs, err := t.events()
	if err != nil {
		return err
	}
	if len(of(evs, "ctor")) == 0 {
		return nil // no socket
	}
	if len(of(evs, "close")) == 0 {
		if err := t.do(js("call", "close")); err != nil {
			return err
		}
		if _, err := t.waitFor(10*time.Second, "close event", has("close")); err != nil {
			return err
		}
	}
	time.Sleep(150 * time.Millisecond) // anything after close would show now
	if evs, err = t.events(); err != nil {
		return err
	}
	return checkSequence(evs)
}

// probeCase wraps a case body that drives one probe tab: it gets the lane,
// opens the tab, runs body, then checks the invariant on the tab's log
// (unless body returns a verdict worse than OK, which wins).
func probeCase(id, title, ref string, body func(t *tab, env *suite.Env) suite.Result) suite.Case {
	return suite.Case{
		ID: id, Group: "browser", Title: title, Ref: ref,
		// The first case also starts the browser, which takes seconds on
		// a busy machine.
		Budget: func(*suite.Env) time.Duration { return 45 * time.Second },
		Run: func(ctx context.Context, env *suite.Env) suite.Result {
			l, err := shared.get()
			if err != nil {
				return laneErr(err)
			}
			t, err := openProbe(ctx, l, id)
			if err != nil {
				return suite.Fail("a probe tab", err.Error())
			}
			defer t.cancel()
			res := body(t, env)
			if res.Verdict == suite.Failed || res.Verdict == suite.Skipped {
				return res
			}
			if err := t.finish(); err != nil {
				return suite.Fail("open?, message*, error?, exactly one close, nothing after (WHATWG WebSockets §3.2)", err.Error())
			}
			return res
		},
	}
}

// laneErr turns a failure to start the lane into a result: a missing
// browser skips, anything else fails.
func laneErr(err error) suite.Result {
	if errors.Is(err, errNoChromium) {
		return suite.Skip(err.Error())
	}
	return suite.Fail("a running headless Chromium", err.Error())
}
