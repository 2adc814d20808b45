package serve

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

// phaseOrder ranks the phases, so a case knows whether the script reached it.
var phaseOrder = []string{PhaseIdle, PhaseDrops, PhaseRefused, PhaseFrozen, PhaseStable, PhaseGoingAway, PhaseLast, PhaseDone}

// behaviourCase is a case judged from a finished session's observations.
type behaviourCase struct {
	id, title, ref, phase string
	judge                 func(cfg Config, o *observations) suite.Result
}

// behaviourCases is the catalogue of the behaviour session, in script order.
var behaviourCases = []behaviourCase{
	{"CR-01", "answers protocol pings while idle", "RFC 6455 §5.5.2, §5.5.3", PhaseIdle, judgeIdle},
	{"CR-02", "comes back after an abrupt drop (TCP closed, no close frame)", "RFC 6455 §7.2.3", PhaseDrops, judgeBack},
	{"CR-03", "reconnect delays grow while attempts keep failing (no hammering)", "RFC 6455 §7.2.3", PhaseDrops, judgeGrowth},
	{"CR-04", "reconnect delays are jittered, not a fixed schedule", "RFC 6455 §7.2.3", PhaseDrops, judgeJitter},
	{"CR-05", "reconnect delays are capped (each under --max-delay)", "RFC 6455 §7.2.3", PhaseDrops, judgeCapped},
	{"CR-06", "503 + Retry-After: the next attempt waits at least Retry-After", "RFC 9110 §10.2.3, §15.6.4", PhaseRefused, judgeRetryAfter},
	{"CR-07", "a frozen link (TCP open, nothing flows) is given up within --heartbeat-bound", "RFC 6455 §5.5.2; wsbench heartbeat", PhaseFrozen, judgeFrozen},
	{"CR-08", "the backoff resets after a stable connection", "wsbench reconnect policy", PhaseStable, judgeReset},
	{"CR-09", "comes back after close 1001 (going away)", "RFC 6455 §7.4.1; wsbench policy", PhaseGoingAway, judgeGoingAway},
	{"CR-10", "no reconnect after the client's own close", "RFC 6455 §7.1.2; wsbench policy", PhaseLast, judgeOwnClose},
	{"CR-11", "no reconnect after close 4000-4099 (wsbench: do not retry)", "wsbench policy (4000-4099)", PhaseLast, judgeDoNotRetry},
}

// behaviourSuite turns a finished session (nil when no client came) into suite
// cases whose Run returns the verdict; the runner prints and reports them
// like any other case.
func behaviourSuite(cfg Config, o *observations) []suite.Case {
	var out []suite.Case
	for _, bc := range behaviourCases {
		r := verdict(cfg, o, bc)
		out = append(out, suite.Case{ID: bc.id, Group: "reconnect", Title: bc.title, Ref: bc.ref,
			Run: func(context.Context, *suite.Env) suite.Result { return r }})
	}
	return out
}

func verdict(cfg Config, o *observations, bc behaviourCase) suite.Result {
	if o == nil {
		return suite.Fail("a client at ws://"+cfg.Addr+"/session/AGENT", "no client connected within --timeout "+cfg.Timeout.String())
	}
	reached, want := slices.Index(phaseOrder, o.reached), slices.Index(phaseOrder, bc.phase)
	if reached < want {
		return suite.Skip("not reached: the session stopped in phase " + o.reached + " (" + o.abort + ")")
	}
	return bc.judge(cfg, o)
}

func judgeIdle(_ Config, o *observations) suite.Result {
	if o.idleEnd != "" {
		return suite.Failf("the connection open through the idle phase", "%s (%d of %d pings answered)", o.idleEnd, o.pongs, o.pings)
	}
	if o.pings == 0 || o.pongs < o.pings {
		return suite.Failf("a pong with the ping's payload for each ping", "%d of %d pings answered within --ping-every", o.pongs, o.pings)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("%d of %d pings answered, the slowest after %v", o.pongs, o.pings, o.pongMax.Round(time.Microsecond))}
}

func judgeBack(_ Config, o *observations) suite.Result {
	if len(o.drops) == 0 {
		return suite.Fail("a new attempt after the drop", o.abort)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("back after %v", o.drops[0].Round(time.Millisecond))}
}

func judgeGrowth(cfg Config, o *observations) suite.Result {
	if len(o.drops) < cfg.Attempts {
		return suite.Failf(fmt.Sprintf("%d attempts, each within --max-delay", cfg.Attempts), "%d: %s; delays %s", len(o.drops), o.abort, fmtDelays(o.drops))
	}
	first, later, ratio := growth(o.drops)
	detail := fmt.Sprintf("delays %s; later half averages %v, %.1f× the first half (%v)",
		fmtDelays(o.drops), later.Round(time.Millisecond), ratio, first.Round(time.Millisecond))
	switch {
	case later < hammerFloor && slices.Max(o.drops) < 2*hammerFloor && ratio < growthRatio:
		return suite.Result{Verdict: suite.Failed, Detail: detail, Expected: "later delays averaging at least " + hammerFloor.String(), Observed: "hammering: " + later.Round(time.Millisecond).String()}
	case ratio >= growthRatio:
		return suite.Result{Verdict: suite.OK, Detail: detail}
	case fixedSchedule(o.drops, o.resetDelays):
		return suite.Result{Verdict: suite.Failed, Detail: detail, Expected: fmt.Sprintf("the later half ≥ %.1f× the first half", growthRatio), Observed: "a fixed schedule without growth"}
	}
	return suite.Result{Verdict: suite.NonStrict, Detail: detail, Expected: fmt.Sprintf("the later half ≥ %.1f× the first half", growthRatio),
		Observed: "jittered delays without visible growth (a cap reached at once looks like this)"}
}

func judgeJitter(cfg Config, o *observations) suite.Result {
	if len(o.drops) < 3 {
		return suite.Failf("at least 3 delays", "%d: %s", len(o.drops), o.abort)
	}
	detail := "delays " + fmtDelays(o.drops) + ", after the stable connection " + fmtDelays(o.resetDelays)
	if fixedSchedule(o.drops, o.resetDelays) {
		return suite.Fail("random delays (jitter)", "each delay 1×, 2× or a constant times the one before, and the same again after the stable connection: "+detail)
	}
	return suite.Result{Verdict: suite.OK, Detail: detail}
}

func judgeCapped(cfg Config, o *observations) suite.Result {
	if len(o.drops) < cfg.Attempts {
		return suite.Failf(fmt.Sprintf("every attempt within --max-delay %v", cfg.MaxDelay), "%s after %d attempts", o.abort, len(o.drops))
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("largest %v of %s", slices.Max(o.drops).Round(time.Millisecond), fmtDelays(o.drops))}
}

func judgeRetryAfter(cfg Config, o *observations) suite.Result {
	if !o.refusedOK {
		return suite.Fail("an attempt after the 503", o.abort)
	}
	detail := fmt.Sprintf("next attempt %v after 503 + Retry-After: %d", o.refusedGap.Round(time.Millisecond), int(cfg.RetryAfter/time.Second))
	if o.healthzAsked > 0 {
		detail += fmt.Sprintf("; the client asked /healthz (503 + Retry-After) %d×", o.healthzAsked)
	}
	if o.refusedGap+50*time.Millisecond < cfg.RetryAfter {
		r := suite.Fail("no attempt before Retry-After has passed", detail)
		if o.origin != "" {
			r.Detail = "a browser page cannot read a refused handshake's status; it can ask GET /healthz on the same host, which says 503 + Retry-After meanwhile"
		}
		return r
	}
	return suite.Result{Verdict: suite.OK, Detail: detail}
}

func judgeFrozen(cfg Config, o *observations) suite.Result {
	if !o.frozenOK {
		return suite.Failf(fmt.Sprintf("the client gives up a silent connection within --heartbeat-bound %v", cfg.HeartbeatBound),
			"still on it after %v (no heartbeat?)", cfg.HeartbeatBound)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("gave up after %v: %s", o.frozenGaveUp.Round(time.Millisecond), o.frozenHow)}
}

func judgeReset(cfg Config, o *observations) suite.Result {
	if len(o.resetDelays) < resetAttempts {
		return suite.Failf(fmt.Sprintf("%d attempts after the stable connection", resetAttempts), "%s; delays %s", o.abort, fmtDelays(o.resetDelays))
	}
	late := o.drops[len(o.drops)-resetAttempts:]
	after, before := mean(o.resetDelays), mean(late)
	detail := fmt.Sprintf("after %v up: delays %s (mean %v); the last before: %s (mean %v)", cfg.Stable,
		fmtDelays(o.resetDelays), after.Round(time.Millisecond), fmtDelays(late), before.Round(time.Millisecond))
	_, _, ratio := growth(o.drops)
	switch {
	case ratio < growthRatio:
		return suite.Info("cannot tell without visible growth in phase drops; %s", detail)
	case after <= time.Duration(resetRatio*float64(before)):
		return suite.Result{Verdict: suite.OK, Detail: detail}
	case after >= before && ratio >= clearGrowth:
		return suite.Result{Verdict: suite.Failed, Detail: detail,
			Expected: fmt.Sprintf("delays averaging at most %.0f %% of the last ones before", resetRatio*100),
			Observed: "no smaller than before, with growth that makes a reset plain"}
	}
	return suite.Info("no clear reset (full jitter over %d delays can hide it); %s", resetAttempts, detail)
}

func judgeGoingAway(_ Config, o *observations) suite.Result {
	if !o.goingAwayOK {
		return suite.Fail("a new attempt after close 1001", o.abort)
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("back after %v", o.goingAwayDelay.Round(time.Millisecond))}
}

func judgeOwnClose(cfg Config, o *observations) suite.Result {
	if o.sent4000 {
		return suite.Skip(fmt.Sprintf("the client did not close on its own within --close-wait %v of the last connection; close it then to run this case", cfg.CloseWait))
	}
	how := fmt.Sprintf("close %d", o.ownClose)
	if o.ownCloseAbort {
		how = "a TCP close without a close frame"
	}
	if o.ownClose == 0 {
		return suite.Fail("the last connection closed by the client", fmt.Sprintf("a new connection %v after", o.cameBack.Round(time.Millisecond)))
	}
	if o.cameBack > 0 {
		return suite.Failf("no attempt within "+o.quiet.String()+" after the client's "+how, "an attempt %v after", o.cameBack.Round(time.Millisecond))
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("the client sent %s; no attempt within %v", how, o.quiet.Round(time.Millisecond))}
}

func judgeDoNotRetry(_ Config, o *observations) suite.Result {
	if !o.sent4000 {
		return suite.Skip("the client closed on its own first; leave it open at the last connection to run this case")
	}
	if o.cameBack > 0 {
		return suite.NonStrictf("no attempt within "+o.quiet.String()+" after close 4000 (wsbench policy: 4000-4099 do not retry; 1001 and 4100-4999 retry with backoff)",
			"an attempt %v after", o.cameBack.Round(time.Millisecond))
	}
	return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("no attempt within %v", o.quiet.Round(time.Millisecond))}
}
