// Package shard runs one load in parts: the clients, senders and ramp of a
// run.Config are split over N parts that share one run id and one
// timetable, each part runs its share as an ordinary run.Run, and their
// results merge into one report as if one process had measured it all.
//
// Two transports carry the parts; this package is what they share:
//
//	loadgen/shard/pipe   worker processes on this machine, over stdin/stdout (--procs)
//	loadgen/shard/nats   agents on any machines, over NATS (--agents)
//
// Whatever the transport, a part and its coordinator exchange four
// messages, in this order:
//
//	coordinator → part   Spec                 the part's share (Plan.Specs)
//	part → coordinator   ready <established>  after its ramp (RunPart)
//	coordinator → part   start <unix ns>      when slot 0 is due, the same instant for all
//	                     (or abort)           (no part connected, or Ctrl-C)
//	part → coordinator   Result               its report and fan-out data (Pack)
//
// Part i owns global sender ids SenderBase … SenderBase+Senders−1 of
// TotalSenders: sender k sends slot n of the common timetable when
// n mod TotalSenders = k, so every receiver, in any part, is owed every
// broadcast of every part. That is why Merge recomputes what a sum
// would get wrong: expected = sent × receivers over the whole run, lost
// from it, and the fan-out histogram from the latest receipt of each slot
// over all parts (Result.LastReceipts), each part's clock shifted onto
// the coordinator's by its offset (zero on one machine).
package shard
