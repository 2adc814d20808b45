// Package agent spreads one loadgen run over machines: agents (`loadgen
// agent --nats URL`) wait for work on a NATS server; a controller (`loadgen
// --agents N --nats URL …`) finds N idle agents, measures each one's clock
// against its own, hands each a share of the run (a pipe.Spec: clients,
// sender ids, the shared run id and timetable), starts them all at one
// instant, collects their reports and merges them into one.
//
// Protocol (JSON over NATS request/reply, subjects under "wsbench.agent."):
//
//	controller                                  agent <id>
//	discover  (reply inbox)         ──────────▶ Hello{id, host}        (idle agents only)
//	<id>.clock ×ClockSamples        ──────────▶ ClockReply{t1, t2}     (agent's clock, ns)
//	<id>.run  Job{token, spec}      ──────────▶ "ok" or an error
//	                                ◀────────── ctl.<token>.ready  Ready{id, established}
//	<id>.start.<token> Start{ns}    ──────────▶ (start time in the agent's clock)
//	                                ◀────────── ctl.<token>.result Result{id, shard.Result}
//	<id>.abort.<token>              ──────────▶ (Ctrl-C on the controller)
//
// Clocks: the controller takes ClockSamples round trips to each agent and
// keeps the one with the smallest round-trip time (RTT); the agent's offset
// is ((t1−t0)+(t2−t3))/2 and its error is at most RTT/2 (the bound). The
// start instant is sent in each agent's own clock (controller time +
// offset), so all timetables begin together. Latency is measured inside each
// agent from the intended send time written by the sending agent's clock to
// the receiving agent's clock, so a delivery between agents i and j carries
// the clocks' true difference as error; the report lists every offset and
// bound (generator.agents) and warns with the worst pairwise error when it
// exceeds a millisecond. When every offset is within its bound (agents on
// one machine, one clock) no correction is applied at all.
package nats
