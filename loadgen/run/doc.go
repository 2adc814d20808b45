// Package run drives one loadgen run in this process through its phases:
//
//	ramp     open Config.Clients connections at Config.Ramp per second
//	warmup   broadcasts on the timetable, not recorded
//	measure  broadcasts whose intended send time falls in the measured
//	         window (Config.Duration) are counted and their latency recorded
//	drain    no more sends; wait up to Config.Drain for in-flight messages
//	close    every client sends close 1000 and waits briefly for the echo
//
// Config.World (world.go) adapts the run to other people's servers: text
// and templated messages, a join script (--on-open, --await) that is part
// of the ramp, rooms (slot n goes to room n mod Rooms), --expect others,
// handshake headers, keepalives, TLS and permessage-deflate; the report
// then carries per-room rows and the negotiated compression.
//
// The data path is timetable → send (sender goroutines, one per sending
// client) → receive (one Reader per client) → histograms → report.
// Cancelling the context ends the run early; the report then covers what
// was measured up to that point.
//
// Latency is receipt time minus the intended send time carried in the
// message; both come from time.Now in this process (wall clock, read with
// its monotonic-backed precision), so no clock synchronisation is needed.
// Worker processes of one machine share that clock (see the procs
// package).
package run
