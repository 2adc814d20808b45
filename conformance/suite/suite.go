// Package suite defines what a conformance case is and what it reports, so
// that the frame-level cases and the browser cases share one catalogue,
// one runner and one output format.
package suite

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Verdict is the outcome of one case.
type Verdict int

// Verdicts, from best to worst. Only Failed makes the suite exit non-zero.
const (
	OK            Verdict = iota // behaves as the specification requires
	NonStrict                    // allowed, but not the ideal behaviour
	Informational                // behaviour recorded, no requirement checked
	Skipped                      // not run; Result.Detail says why
	Failed                       // Result.Expected and Result.Observed say how
)

// String returns the verdict as printed in reports ("OK", "NON-STRICT", …).
func (v Verdict) String() string {
	switch v {
	case OK:
		return "OK"
	case NonStrict:
		return "NON-STRICT"
	case Informational:
		return "INFORMATIONAL"
	case Skipped:
		return "SKIPPED"
	case Failed:
		return "FAILED"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Result is what one run of a case found.
type Result struct {
	Verdict  Verdict
	Detail   string // free text: why skipped, what was recorded
	Expected string // for Failed and NonStrict: what the reference requires
	Observed string // for Failed and NonStrict: what the server did
	Elapsed  time.Duration
	// Wire is the case's wire log (frames sent and received, with
	// timing) and RemoteClose the code of the last close frame the server
	// sent (1005 empty, 0 none); both filled by the runner when Env.Wire.
	Wire        []string
	RemoteClose int
}

// Env is what every case may use. It is read-only while cases run, so cases
// may run concurrently.
type Env struct {
	URL          *url.URL      // server under test, ws:// or wss://
	PingInterval time.Duration // server's ping period; 0 = unknown
	PongTimeout  time.Duration // server's idle timeout; 0 = unknown
	MaxMessage   int64         // server's message limit in bytes; 0 = unknown
	Origin       string        // an Origin the server must refuse; "" = unknown
	Browser      bool          // run the real-browser cases
	Relaxed      bool          // run the large-message (1–16 MiB) profile
	MaxConns     int           // server's connection limit; 0 = unknown
	CaseTimeout  time.Duration // bound of one case; cases size their waits by it
	Profile      string        // ProfileChat or ProfileEcho: what the server does with a message
	Wire         bool          // record each case's wire log (for --report-dir)
	Deflate      bool          // run the permessage-deflate (RFC 7692) cases
	Logf         func(format string, args ...any)
}

// Profiles: what the server under test does with a message it receives.
const (
	// ProfileChat relays every message to every member of the sender's
	// room, the sender included (the wsbench contract).
	ProfileChat = "chat"
	// ProfileEcho sends every message back to its sender only (an echo
	// server, all the Autobahn testsuite needs); cases that need several
	// members of one room are skipped.
	ProfileEcho = "echo"
)

// Case is one check with a stable identity.
type Case struct {
	ID    string // stable, e.g. "HS-01"; never reused for another check
	Group string // "handshake", "messages", "ping", "close", "protocol", "limits", "reconnect", "browser"
	Title string // one line, says what is checked
	Ref   string // the section checked, e.g. "RFC 6455 §4.2.2" or "WHATWG WebSockets §9"
	// Autobahn names the Autobahn testsuite case (or cases, "6.4.1-6.4.4")
	// checking the same behaviour; empty when there is none.
	Autobahn string
	// Room marks a case that needs several members of one room: it is
	// skipped against an echo server (Env.Profile == ProfileEcho).
	Room bool
	Run  func(ctx context.Context, env *Env) Result
	// After marks a case that must run once every other case has finished
	// (a meta-case summarising what the others observed).
	After bool
	// Serial marks a case that must not overlap other cases (it loads the
	// server or measures timing).
	Serial bool
	// Budget, when set, says how long the case needs for env; the runner
	// allows it max(Env.CaseTimeout, Budget(env)).
	Budget func(env *Env) time.Duration
}

// Pass, Fail, Skip, NonStrictf and Info build Results tersely inside cases.
func Pass() Result { return Result{Verdict: OK} }

// Fail reports a failure with what was expected and what was observed.
func Fail(expected, observed string) Result {
	return Result{Verdict: Failed, Expected: expected, Observed: observed}
}

// Failf reports a failure where expected/observed are easiest built by format.
func Failf(expected string, observedFormat string, args ...any) Result {
	return Fail(expected, fmt.Sprintf(observedFormat, args...))
}

// Skip reports a case that could not run and why.
func Skip(reason string) Result { return Result{Verdict: Skipped, Detail: reason} }

// NonStrictf reports allowed but non-ideal behaviour.
func NonStrictf(expected string, observedFormat string, args ...any) Result {
	return Result{Verdict: NonStrict, Expected: expected, Observed: fmt.Sprintf(observedFormat, args...)}
}

// Info records behaviour without judging it.
func Info(format string, args ...any) Result {
	return Result{Verdict: Informational, Detail: fmt.Sprintf(format, args...)}
}
