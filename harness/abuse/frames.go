package abuse

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// hugeLength sends frame headers declaring absurd lengths (2^63 with the
// most significant bit set, which RFC 6455 §5.2 forbids, and 2^63-1), then
// junk, and records the close code. Expectation: 1002 or 1009 for every
// connection, without waiting for the declared payload.
func hugeLength(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	type variant struct {
		name   string
		op     ws.OpCode
		length uint64
	}
	variants := []variant{
		{"binary-2^63", ws.OpBinary, 1 << 63},
		{"binary-2^63-1", ws.OpBinary, 1<<63 - 1},
		{"text-2^63-1", ws.OpText, 1<<63 - 1},
		{"ping-2^63-1", ws.OpPing, 1<<63 - 1},
		{"binary-2^64-1", ws.OpBinary, 1<<64 - 1},
	}
	// Rounds of every variant repeat until Config.Window has passed (at
	// most 2,000 connections), so the probe measures over a whole window.
	const maxConns = 2000
	d := e.dialer(3)
	var c counter
	var maxWait atomic.Int64
	var n atomic.Int64
	wctx, cancel := context.WithTimeout(ctx, e.cfg.Window)
	defer cancel()
	parallel(wctx, maxConns, 8, func(i int) {
		n.Add(1)
		v := variants[i%len(variants)]
		rc, err := d.ws(context.WithoutCancel(wctx), "/abuse-huge")
		if err != nil {
			c.add("dial-" + codeKey(-1, err))
			return
		}
		defer closeHard(rc.nc)
		start := time.Now()
		rc.nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
		rc.nc.Write(header(true, v.op, v.length, newMask()))
		go func() { // junk after the header, as if the payload followed
			junk := make([]byte, 32<<10)
			for range 32 {
				if _, err := rc.nc.Write(junk); err != nil {
					return
				}
			}
		}()
		code, err := rc.readClose(time.Now().Add(5 * time.Second))
		maxWait.Store(max(maxWait.Load(), int64(time.Since(start))))
		k := codeKey(code, err)
		c.add(k)
		if k != "1002" && k != "1009" {
			c.add("unexpected-" + v.name)
		}
	})
	out.Attempted = int(n.Load())
	for k, v := range c.snapshot() {
		if len(k) > 11 && k[:11] == "unexpected-" {
			out.Failures = append(out.Failures, fmt.Sprintf("%s: %d connections got no 1002/1009", k[11:], v))
			continue
		}
		out.Codes[k] = v
	}
	out.Facts["slowest_close_s"] = time.Duration(maxWait.Load()).Seconds()
	return out
}

// gigabyte streams a 1 GiB message, once as one frame and once as 32 KiB
// fragments, as fast as the socket takes it, until the server's close frame
// arrives. Expectation: 1009, after at most Config.MaxCut bytes were
// written, so the server cannot have buffered the message.
func gigabyte(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	const total = 1 << 30
	d := e.dialer(4)
	start := time.Now()
	for round := 0; round < 40 && ctx.Err() == nil && (round < 2 || time.Since(start) < e.cfg.Window); round++ {
		fragmented := round%2 == 1
		name := "single-frame"
		if fragmented {
			name = "fragments-32KiB"
		}
		out.Attempted++
		rc, err := d.ws(ctx, "/abuse-gig")
		if err != nil {
			out.Codes["dial-"+codeKey(-1, err)]++
			out.Failures = append(out.Failures, name+": could not connect: "+err.Error())
			continue
		}
		var written atomic.Int64
		closed := make(chan struct{})
		go func() { // writer: stops at the first error or after 1 GiB
			mask := newMask()
			chunk := make([]byte, 32<<10)
			if !fragmented {
				rc.nc.Write(header(true, ws.OpBinary, total, mask))
			}
			for sent := int64(0); sent < total; sent += int64(len(chunk)) {
				select {
				case <-closed:
					return
				default:
				}
				rc.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
				var err error
				if fragmented {
					op := ws.OpContinuation
					if sent == 0 {
						op = ws.OpBinary
					}
					err = rc.writeFrame(sent+int64(len(chunk)) >= total, op, chunk)
				} else {
					_, err = rc.nc.Write(chunk)
				}
				if err != nil {
					return
				}
				written.Add(int64(len(chunk)))
			}
		}()
		began := time.Now()
		code, err := rc.readClose(time.Now().Add(30 * time.Second))
		took := time.Since(began)
		at := written.Load()
		close(closed)
		closeHard(rc.nc)
		k := codeKey(code, err)
		out.Codes[k]++
		mb := float64(at) / (1 << 20)
		if old, ok := out.Facts[name+"_written_at_close_MiB_max"].(float64); !ok || mb > old {
			out.Facts[name+"_written_at_close_MiB_max"] = mb
		}
		if old, ok := out.Facts[name+"_close_after_s_max"].(float64); !ok || took.Seconds() > old {
			out.Facts[name+"_close_after_s_max"] = took.Seconds()
		}
		if k != "1009" {
			out.Failures = append(out.Failures, fmt.Sprintf("%s: got %s, want 1009", name, k))
		}
		if at > e.cfg.MaxCut {
			out.Failures = append(out.Failures, fmt.Sprintf("%s: %d MiB written before the close arrived (limit %d MiB)", name, at>>20, e.cfg.MaxCut>>20))
		}
	}
	return out
}

// invalidPayloads are text messages RFC 6455 §8.1 requires a server to
// fail with 1007, as (fin, opcode, payload) frame sequences.
var invalidPayloads = [][]struct {
	fin bool
	op  ws.OpCode
	p   []byte
}{
	{{true, ws.OpText, []byte{0xff}}},
	{{true, ws.OpText, []byte("ok \xc0\xaf overlong")}},
	{{true, ws.OpText, []byte("surrogate \xed\xa0\x80")}},
	{{true, ws.OpText, []byte("cut \xe2\x82")}},
	{{true, ws.OpText, []byte("above U+10FFFF \xf4\x90\x80\x80")}},
	{{false, ws.OpText, []byte("split \xe2\x82")}, {true, ws.OpContinuation, []byte{0xff}}},
	{{false, ws.OpText, []byte{0xf8}}}, // invalid already in the first fragment
}

// invalidUTF8 connects again and again for Config.Window (at most 3,000
// connections), sends one invalid text message each, plus a flood of such
// frames back to back, and records the close code. Expectation: 1007.
func invalidUTF8(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	d := e.dialer(5)
	wctx, cancel := context.WithTimeout(ctx, e.cfg.Window)
	defer cancel()
	var c counter
	var n atomic.Int64
	var firstErr atomic.Value
	parallel(wctx, 3000, 16, func(i int) {
		rc, err := d.ws(ctx, "/abuse-utf8")
		if err != nil {
			c.add("dial-" + codeKey(-1, err))
			firstErr.CompareAndSwap(nil, err.Error())
			n.Add(1)
			return
		}
		n.Add(1)
		defer closeHard(rc.nc)
		rc.nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
		seq := invalidPayloads[i%len(invalidPayloads)]
		repeat := 1
		if i%10 == 0 {
			repeat = 1000 // a flood on one connection: nothing after the first may be relayed
		}
		for range repeat {
			for _, f := range seq {
				if rc.writeFrame(f.fin, f.op, f.p) != nil {
					break
				}
			}
		}
		code, err := rc.readClose(time.Now().Add(5 * time.Second))
		c.add(codeKey(code, err))
	})
	out.Attempted = int(n.Load())
	out.Codes = c.snapshot()
	if e := firstErr.Load(); e != nil {
		out.Facts["first_dial_error"] = e
	}
	if got := out.Codes["1007"]; float64(got) < 0.99*float64(out.Attempted) {
		out.Failures = append(out.Failures, fmt.Sprintf("%d of %d connections got 1007", got, out.Attempted))
	}
	// The invalid messages must not have been relayed: a listener in the
	// room would have seen them; the close code check covers the server
	// reading them, the probe covers the room staying usable.
	return out
}

// pingFlood runs 16 connections sending 125-byte pings for Config.Window
// (at most 200,000 each), at Config.PingRate per connection or, when that
// is 0, back to back: half read the pongs, half never read. Expectation: the server survives; the non-readers are closed by
// the slow-consumer policy (reported, not required).
func pingFlood(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	const conns = 16
	d := e.dialer(6)
	silent := d
	silent.rcvbuf = slowRcvbuf
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Window)
	defer cancel()
	var pings, pongs atomic.Int64
	var c counter
	parallel(context.WithoutCancel(ctx), conns, conns, func(i int) {
		reader := i%2 == 0
		dd := silent
		if reader {
			dd = d
		}
		rc, err := dd.ws(ctx, "/abuse-ping")
		if err != nil {
			c.add("dial-" + codeKey(-1, err))
			return
		}
		defer closeHard(rc.nc)
		readDone := make(chan struct{})
		if reader {
			go func() {
				defer close(readDone)
				for {
					h, err := ws.ReadHeader(rc.br)
					if err != nil {
						return
					}
					if h.OpCode == ws.OpPong {
						pongs.Add(1)
					}
					if _, err := io.CopyN(io.Discard, rc.br, h.Length); err != nil {
						return
					}
				}
			}()
		}
		payload := make([]byte, 125)
		// Paced in 10 ms batches when Config.PingRate is set.
		batch, next := e.cfg.PingRate/100, time.Now()
		for j := range 200000 {
			if ctx.Err() != nil {
				break
			}
			if batch > 0 && j%batch == 0 {
				next = next.Add(10 * time.Millisecond)
				sleepCtx(ctx, time.Until(next))
			}
			rc.nc.SetWriteDeadline(time.Now().Add(time.Second))
			if rc.writeFrame(true, ws.OpPing, payload) != nil {
				break
			}
			pings.Add(1)
		}
		if reader {
			// A reader that kept up is still open: a clean close.
			rc.nc.SetWriteDeadline(time.Now().Add(time.Second))
			rc.writeFrame(true, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
			rc.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			<-readDone
			c.add("reader-done")
			return
		}
		code, err := rc.readClose(time.Now().Add(3 * time.Second))
		c.add("nonreader-" + codeKey(code, err))
	})
	out.Attempted = conns
	out.Codes = c.snapshot()
	out.Facts["pings_sent"] = pings.Load()
	out.Facts["pongs_read"] = pongs.Load()
	return out
}
