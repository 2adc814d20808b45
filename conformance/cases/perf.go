package cases

import (
	"fmt"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
)

// perf is the Autobahn testsuite's group 9: large messages, large messages
// in many fragments, messages written in small TCP chops, and 1,000 round
// trips. They run only with --relaxed (Autobahn times them; here they are
// echo checks, timing belongs to benchmarks), and sizes above
// --max-message are skipped.
func perf() []script {
	var ss []script
	add := func(s script) {
		s.id, s.group, s.relaxed = fmt.Sprintf("PF-%02d", len(ss)+1), "perf", true
		if s.ref == "" {
			s.ref = "RFC 6455 §5.2, §5.4"
		}
		ss = append(ss, s)
	}
	ops := []ws.OpCode{ws.OpText, ws.OpBinary}
	// 9.1.x, 9.2.x: one frame of 64 KiB to 16 MiB.
	for gi, op := range ops {
		for i, n := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20} {
			add(script{autobahn: fmt.Sprintf("9.%d.%d", gi+1, i+1), title: fmt.Sprintf("a %s %s message in one frame is echoed", sizeName(n), opName(op)),
				msgSize: int64(n), build: func(s *script) {
					p := payload(n, op == ws.OpText)
					s.frames, s.want = []rawclient.Frame{masked(true, op, p)}, []event{msg(op, p)}
				}})
		}
	}
	// 9.3.x, 9.4.x: 4 MiB in fragments of 64 B to 4 MiB.
	for gi, op := range ops {
		for i, fs := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			add(script{autobahn: fmt.Sprintf("9.%d.%d", gi+3, i+1), title: fmt.Sprintf("a 4 MiB %s message in %s fragments is echoed", opName(op), sizeName(fs)),
				msgSize: 4 << 20, build: func(s *script) {
					p := payload(4<<20, op == ws.OpText)
					s.frames, s.want = fragment(op, p, fs), []event{msg(op, p)}
				}})
		}
	}
	// 9.5.x, 9.6.x: 1 MiB in one frame, written in chops of 64 B to 2 KiB.
	for gi, op := range ops {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			add(script{autobahn: fmt.Sprintf("9.%d.%d", gi+5, i+1), title: fmt.Sprintf("a 1 MiB %s message%s is echoed", opName(op), chopName(chop)),
				chop: chop, msgSize: 1 << 20, build: func(s *script) {
					p := payload(1<<20, op == ws.OpText)
					s.frames, s.want = []rawclient.Frame{masked(true, op, p)}, []event{msg(op, p)}
				}})
		}
	}
	// 9.7.x, 9.8.x: 1,000 messages of 0 B to 4 KiB, all echoed in order.
	for gi, op := range ops {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			add(script{autobahn: fmt.Sprintf("9.%d.%d", gi+7, i+1), title: fmt.Sprintf("1,000 %s messages of %s each are echoed in order", opName(op), sizeName(n)),
				chop: chopFrame, msgSize: int64(n), build: func(s *script) {
					for j := range 1000 {
						p := payload(n, op == ws.OpText)
						if n >= 4 { // distinct payloads, so order is checked
							copy(p, fmt.Sprintf("%04d", j))
						}
						s.frames = append(s.frames, masked(true, op, p))
						s.want = append(s.want, msg(op, p))
					}
				}})
		}
	}
	return ss
}

// fragment cuts p into a message of fragments of size n.
func fragment(op ws.OpCode, p []byte, n int) []rawclient.Frame {
	var fs []rawclient.Frame
	for off := 0; off < len(p); off += n {
		end := min(off+n, len(p))
		o := ws.OpContinuation
		if off == 0 {
			o = op
		}
		fs = append(fs, masked(end == len(p), o, p[off:end]))
	}
	return fs
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
