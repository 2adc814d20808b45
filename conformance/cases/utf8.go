package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/suite"
)

// UTF-8 handling of text messages: the Autobahn testsuite's group 6, whose
// sequences come from Markus Kuhn's UTF-8 decoder stress test. A valid
// text message is echoed; an invalid one fails the connection with 1007
// (RFC 6455 §8.1 MUST).

// kosme is "κόσμε", the stress test's sample of valid multi-byte UTF-8.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

// utf8Group is one subsection of the stress test.
type utf8Group struct {
	title string
	seqs  []string
}

// utf8Groups are Autobahn 6.5 onwards, in order: group i is 6.(5+i), its
// j-th sequence 6.(5+i).(j+1).
func utf8Groups() []utf8Group {
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	contRun := bytesString(0x80, 0xbf, "")
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		lonely = append(lonely, bytesString(r[0], r[1], " "))
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	nonChars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f { // above U+10FFFF
				continue
			}
			if z1 == 0xf0 && z2 == 0x8f { // overlong
				continue
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				nonChars = append(nonChars, string([]byte{z1, z2, 0xbf, z3}))
			}
		}
	}
	return []utf8Group{
		{"valid UTF-8", []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{"prefix of κόσμε", prefixes},
		{"first possible sequence of a length", []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"first 5/6-byte sequence (beyond U+10FFFF)", []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"last possible sequence of a length", []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"last 4/5/6-byte sequence (beyond U+10FFFF)", []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"boundary condition", []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{"unexpected continuation bytes", []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", contRun}},
		{"lonely start bytes", lonely},
		{"last continuation byte missing", missing},
		{"concatenated incomplete sequences", []string{strings.Join(missing, "")}},
		{"impossible bytes", []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"overlong ASCII", []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"maximum overlong sequence", []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"overlong NUL", []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"single UTF-16 surrogate", []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"paired UTF-16 surrogates", []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"non-character (valid UTF-8)", nonChars},
		{"Unicode special", []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}

// bytesString is the bytes lo..hi-1, each followed by sep.
func bytesString(lo, hi int, sep string) string {
	var b strings.Builder
	for i := lo; i < hi; i++ {
		b.WriteByte(byte(i))
		b.WriteString(sep)
	}
	return b.String()
}

// perByte splits p into one-byte fragments of a text message.
func perByte(p string) []rawclient.Frame {
	fs := make([]rawclient.Frame, len(p))
	for i := 0; i < len(p); i++ { // bytes, not runes
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		fs[i] = fr(i == len(p)-1, op, []byte(p[i:i+1]))
	}
	return fs
}

// utf8Script is one sequence sent as a text message: echoed when valid,
// 1007 when not.
func utf8Script(id, ab, title string, p string, fs []rawclient.Frame) script {
	s := script{id: id, autobahn: ab, group: "utf8", ref: "RFC 6455 §5.6, §8.1", title: title, frames: fs}
	if utf8.ValidString(p) {
		s.want = []event{msg(ws.OpText, []byte(p))}
	} else {
		s.fail = []uint16{1007}
	}
	return s
}

// utf8Scripts is Autobahn 6.1-6.3 and 6.5-6.23 (6.4 is fail-fast, below).
func utf8Scripts() []script {
	hello := "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	bad := kosme + "\xed\xa0\x80" + "edited"
	split := strings.Index(hello, "\xc3\xb6")
	ss := []script{
		{id: "UT-001", autobahn: "6.1.1", title: "an empty text message is echoed", frames: []rawclient.Frame{txt("")}, want: []event{msg(ws.OpText, nil)}},
		{id: "UT-002", autobahn: "6.1.2", title: "an empty text message in 3 empty fragments is echoed", frames: []rawclient.Frame{fr(false, ws.OpText, nil), fr(false, ws.OpContinuation, nil), fr(true, ws.OpContinuation, nil)}, want: []event{msg(ws.OpText, nil)}},
		{id: "UT-003", autobahn: "6.1.3", title: "empty, \"middle\", empty fragments: \"middle\" echoed", frames: []rawclient.Frame{fr(false, ws.OpText, nil), fr(false, ws.OpContinuation, []byte("middle")), fr(true, ws.OpContinuation, nil)}, want: []event{msg(ws.OpText, []byte("middle"))}},
		utf8Script("UT-004", "6.2.1", "valid UTF-8 in one frame is echoed", hello, []rawclient.Frame{txt(hello)}),
		utf8Script("UT-005", "6.2.2", "valid UTF-8 in 2 fragments cut at a code point is echoed", hello, []rawclient.Frame{fr(false, ws.OpText, []byte(hello[:split])), fr(true, ws.OpContinuation, []byte(hello[split:]))}),
		utf8Script("UT-006", "6.2.3", "valid UTF-8 in one-byte fragments (code points split) is echoed", hello, perByte(hello)),
		utf8Script("UT-007", "6.2.4", "κόσμε in one-byte fragments is echoed", kosme, perByte(kosme)),
		utf8Script("UT-008", "6.3.1", "invalid UTF-8 (a surrogate) in one frame gets 1007", bad, []rawclient.Frame{txt(bad)}),
		utf8Script("UT-009", "6.3.2", "the same in one-byte fragments gets 1007", bad, perByte(bad)),
	}
	for i := range ss {
		ss[i].group, ss[i].ref = "utf8", "RFC 6455 §5.6, §8.1"
	}
	n := len(ss) + 4 // UT-010..UT-013 are the fail-fast cases
	for gi, g := range utf8Groups() {
		for j, p := range g.seqs {
			n++
			verdict := "echoed"
			if !utf8.ValidString(p) {
				verdict = "gets 1007"
			}
			title := fmt.Sprintf("%s %d (%s) %s", g.title, j+1, hexBytes(p, 12), verdict)
			ss = append(ss, utf8Script(fmt.Sprintf("UT-%03d", n), fmt.Sprintf("6.%d.%d", gi+5, j+1), title, p, []rawclient.Frame{txt(p)}))
		}
	}
	return ss
}

func hexBytes(p string, limit int) string {
	var b strings.Builder
	for i := 0; i < len(p) && i < limit; i++ {
		fmt.Fprintf(&b, "%02X", p[i])
	}
	if len(p) > limit {
		fmt.Fprintf(&b, "… %d bytes", len(p))
	}
	return b.String()
}

// failFast is Autobahn 6.4.x: the first writes already hold invalid UTF-8,
// the rest of the message follows only if the server has not failed the
// connection by then. Failing before the rest is OK; failing only once the
// message is complete is NON-STRICT (fail-fast is this project's policy
// and Autobahn's preference, not an RFC 6455 MUST); never failing is
// FAILED (§8.1).
type failFast struct {
	id, autobahn, title string
	first, rest         []byte // bytes written before and after the pause
}

func failFasts() []failFast {
	const inv = "\xf4\x90\x80\x80" // beyond U+10FFFF: invalid at its 2nd byte
	frag := func(fs ...rawclient.Frame) []byte { return frames(fs...) }
	one := masked(true, ws.OpText, []byte(kosme+inv+"edited")).Append(nil)
	hdr := len(one) - len(kosme+inv+"edited") // header and mask key
	return []failFast{
		{"UT-010", "6.4.1", "fragments κόσμε | F4 90 80 80 | \"edited\": 1007 before the last is sent",
			frag(fr(false, ws.OpText, []byte(kosme)), fr(false, ws.OpContinuation, []byte(inv))), frag(fr(true, ws.OpContinuation, []byte("edited")))},
		{"UT-011", "6.4.2", "fragments κόσμε F4 | 90 80 80 | \"edited\": 1007 before the last is sent",
			frag(fr(false, ws.OpText, []byte(kosme+inv[:1])), fr(false, ws.OpContinuation, []byte(inv[1:]))), frag(fr(true, ws.OpContinuation, []byte("edited")))},
		{"UT-012", "6.4.3", "one frame κόσμε F4 90 80 80 \"edited\", paused after the invalid bytes: 1007 before the rest",
			one[:hdr+len(kosme)+len(inv)], one[hdr+len(kosme)+len(inv):]},
		{"UT-013", "6.4.4", "one frame κόσμε F4 90 80 80 \"edited\", paused after F4 90: 1007 before the rest",
			one[:hdr+len(kosme)+2], one[hdr+len(kosme)+2:]},
	}
}

func (k *kit) failFastCases() []suite.Case {
	var out []suite.Case
	for _, f := range failFasts() {
		out = append(out, suite.Case{ID: f.id, Group: "utf8", Ref: "RFC 6455 §8.1; project policy", Autobahn: f.autobahn, Title: f.title,
			Run: func(ctx context.Context, env *suite.Env) suite.Result { return k.runFailFast(ctx, env, f) }})
	}
	return out
}

func (k *kit) runFailFast(ctx context.Context, env *suite.Env, f failFast) suite.Result {
	c, _, err := k.openRoom(ctx, env, f.id)
	if err != nil {
		return suite.Failf("a valid handshake", "%v", err)
	}
	defer c.Close()
	if err := c.WriteRaw(f.first); err != nil {
		return suite.NonStrictf("close 1007", "write failed, server dropped early: %v", err)
	}
	pause := min(wait(env)/2, 2*time.Second)
	code, reason, err := c.AwaitClose(pause)
	switch {
	case err == nil && code == 1007:
		return suite.Result{Verdict: suite.OK, Detail: fmt.Sprintf("close 1007 %q", reason)}
	case err == nil && c.EmptyClose:
		return suite.NonStrictf("close 1007", "a close frame with no status code (allowed by §7.1.5)")
	case err == nil:
		return suite.Failf("close 1007 (RFC 6455 §8.1: MUST fail the connection on invalid UTF-8; §7.4.1: 1007)", "close %d %q", code, reason)
	case !rawclient.IsTimeout(err):
		return suite.NonStrictf("close 1007", "TCP closed without a close frame (%v)", err)
	}
	if err := c.WriteRaw(f.rest); err != nil {
		return suite.NonStrictf("close 1007", "write failed, server dropped early: %v", err)
	}
	r := expectClose(c, env, 1007)
	if r.Verdict == suite.OK {
		return suite.NonStrictf("close 1007 before the message ends (project policy: fail fast; RFC 6455 §8.1 does not say when)",
			"no close within %v of the invalid bytes; close 1007 once the message ended", pause)
	}
	return r
}
