package cli

import (
	"fmt"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard"
)

// addWorldFlags binds the flags for servers other than a binary relay of
// one room (shared/contracts.md, "loadgen: real-world servers") to w.
func addWorldFlags(fs *pflag.FlagSet, w *run.World) {
	fs.StringVar(&w.Payload, "payload", run.PayloadBinary, "binary (32-byte header + random padding) or text (an ASCII token of letters, digits and dots carrying run, sender, sequence and intended send time, then padding)")
	fs.StringVar(&w.Template, "template", "", `text message around the token, e.g. '{"type":"msg","text":"{{token}}"}'; placeholders {{token}} (required), {{client}}, {{room}}, {{pad}} (random letters up to --size); implies --payload text`)
	fs.IntVar(&w.ScanBytes, "scan-bytes", run.DefaultScanBytes, "receivers look for the token anywhere in the first this many bytes of each message (text or binary), so any envelope works")
	fs.StringArrayVar(&w.OnOpen, "on-open", nil, `text each client sends right after the upgrade, in order (repeatable; {{client}}, {{room}}), e.g. '{"type":"join","room":"{{room}}"}'`)
	fs.StringVar(&w.Await, "await", "", "regexp: a client counts as connected once a received message matches (e.g. joined); the wait is part of connect_ms and the first broadcast waits for every client")
	fs.DurationVar(&w.AwaitTimeout, "await-timeout", run.DefaultAwaitTimeout, "give up on a client whose --await did not match within this (counted as a failed connection)")
	fs.StringVar(&w.Expect, "expect", run.ExpectAll, "all: the server delivers every message to its sender too; others: to everyone but the sender (its own copy is not owed, and counted unexpected if it comes)")
	fs.IntVar(&w.Rooms, "rooms", 1, "rooms: client i joins room i mod N via {{room}} in --url, --on-open, --header or --template; broadcast n goes to room n mod N (--senders a multiple of N); per-room rows in the report")
	fs.StringArrayVar(&w.Header, "header", nil, "handshake header 'Key: Value' (repeatable; {{client}}, {{room}}), e.g. 'Authorization: Bearer user-{{client}}'")
	fs.StringArrayVar(&w.Subprotocol, "subprotocol", nil, "Sec-WebSocket-Protocol to offer (repeatable, in order of preference)")
	fs.StringVar(&w.Origin, "origin", "", "Origin header of the handshake (servers that check it, like browsers' peers)")
	fs.StringVar(&w.Keepalive, "keepalive", "", "text every client sends every --keepalive-every, outside the timetable (servers that close quiet clients), e.g. ping")
	fs.DurationVar(&w.KeepaliveEvery, "keepalive-every", 0, "period of --keepalive, e.g. 4s")
	fs.StringVar(&w.Ignore, "ignore", "", "regexp: received messages without this run's payload that match are counted ignored, not foreign (server chatter such as pong or user joined)")
	fs.BoolVar(&w.Insecure, "insecure", false, "wss://: do not verify the server's certificate (self-signed test servers)")
	fs.StringVar(&w.CA, "ca", "", "wss://: PEM file of the certificate authorities to trust instead of the system's")
	fs.BoolVar(&w.Deflate, "deflate", false, "offer permessage-deflate (RFC 7692, no context takeover); messages are compressed both ways and the report records what the server negotiated")
}

// worldFromFlags fixes up the World after parsing: unset defaults that
// would otherwise look like choices, and checks that apply to the command
// line only.
func worldFromFlags(fs *pflag.FlagSet, cfg *run.Config, urlCount int, procs int, agents bool) error {
	if urlCount > 1 {
		return fmt.Errorf("--url given %d times: one run loads one URL; for several rooms use --rooms N with {{room}} in --url (ws://host/room-{{room}}), for several servers run one loadgen each", urlCount)
	}
	if !fs.Changed("payload") {
		cfg.Payload = ""
	}
	if !fs.Changed("await-timeout") {
		cfg.AwaitTimeout = 0
	}
	if !fs.Changed("scan-bytes") {
		cfg.ScanBytes = 0
	}
	if procs > 1 || agents {
		return shard.Carries(*cfg)
	}
	return nil
}

// urlValue is --url: a string that refuses to be given twice (pflag would
// silently keep the last).
type urlValue struct {
	dst *string
	n   *int
}

func (u urlValue) String() string { return *u.dst }
func (u urlValue) Type() string   { return "url" }
func (u urlValue) Set(s string) error {
	*u.n++
	*u.dst = s
	return nil
}
