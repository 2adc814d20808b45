package payload

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	for _, h := range []Header{
		{},
		{RunID: 0xdeadbeefcafef00d, Sender: 7, Seq: 12345, Intended: 1764700000123456789},
		{RunID: ^uint64(0), Sender: ^uint32(0), Seq: ^uint64(0), Intended: -1},
	} {
		tok := AppendToken(nil, h)
		if len(tok) != TokenLen {
			t.Fatalf("len(AppendToken(%+v)) = %d; want %d", h, len(tok), TokenLen)
		}
		for _, c := range tok {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				t.Fatalf("token %q has %q outside [A-Za-z0-9._-]", tok, c)
			}
		}
		got, err := FindToken(tok)
		if err != nil || got != h {
			t.Errorf("FindToken(AppendToken(%+v)) = %+v, %v", h, got, err)
		}
	}
}

func TestFindTokenInEnvelopes(t *testing.T) {
	t.Parallel()
	h := Header{RunID: 42, Sender: 3, Seq: 9, Intended: 1e18}
	tok := string(AppendToken(nil, h))
	wrapped, _ := json.Marshal(map[string]any{"from": "10.0.0.1", "time": 1764700000, "text": `{"type":"msg","text":"` + tok + `"}`})
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"bare", tok, true},
		{"json", `{"type":"msg","text":"` + tok + `"}`, true},
		{"json in json (escaped quotes)", string(wrapped), true},
		{"prefix", "alice: " + tok, true},
		{"false prefix before", "wsb1.zz " + tok, true},
		{"truncated", tok[:TokenLen-1], false},
		{"bad digit", strings.Replace(tok, ".0000000000000009.", ".000000000000000g.", 1), false},
		{"uppercase hex", strings.ToUpper(tok[5:]), false},
		{"nothing", "hello", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindToken([]byte(tc.in))
			if tc.ok && (err != nil || got != h) {
				t.Errorf("FindToken(%q) = %+v, %v; want %+v", tc.in, got, err, h)
			}
			if !tc.ok && !errors.Is(err, ErrNoToken) {
				t.Errorf("FindToken(%q) = %+v, %v; want ErrNoToken", tc.in, got, err)
			}
		})
	}
}

func TestFindTokenDoesNotAllocate(t *testing.T) {
	msg := []byte(`{"from":"alice","time":1764700000,"text":"` + string(AppendToken(nil, Header{RunID: 1})) + `"}`)
	if a := testing.AllocsPerRun(100, func() { _, _ = FindToken(msg) }); a != 0 {
		t.Errorf("FindToken allocates %v times; want 0", a)
	}
}

// FuzzFindToken: arbitrary bytes from a server never panic FindToken, and
// whatever it accepts re-encodes to a token present in the input.
func FuzzFindToken(f *testing.F) {
	tok := AppendToken(nil, Header{RunID: 42, Sender: 1, Seq: 2, Intended: 3})
	f.Add(tok)
	f.Add([]byte(`{"text":"` + string(tok) + `"}`))
	f.Add([]byte("wsb1.wsb1." + string(tok[5:])))
	f.Add([]byte("wsb1."))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := FindToken(in)
		if err != nil {
			return
		}
		if !bytes.Contains(in, AppendToken(nil, h)) {
			t.Fatalf("FindToken(%q) = %+v, whose token is not in the input", in, h)
		}
	})
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		data     bool
		err      string // substring; "" = ok
	}{
		{"json", `{"type":"msg","room":"{{room}}","text":"{{token}}{{pad}}"}`, true, ""},
		{"pad first", `{{pad}}:{{token}}`, true, ""},
		{"no token", `{"text":"hi"}`, true, "exactly once"},
		{"two tokens", `{{token}}{{token}}`, true, "exactly once"},
		{"two pads", `{{token}}{{pad}}{{pad}}`, true, "once"},
		{"unknown", `{{token}}{{user}}`, true, "unknown placeholder {{user}}"},
		{"unclosed", `{{token}}{{room`, true, "not closed"},
		{"token in header", `Bearer {{token}}`, false, "--template only"},
		{"header", `Bearer user-{{client}}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplate(tc.in, tc.data)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("ParseTemplate(%q) = %v; want error containing %q", tc.in, err, tc.err)
			}
		})
	}
}

func TestMessageAppend(t *testing.T) {
	tpl, err := ParseTemplate(`{"type":"msg","room":"r{{room}}","from":{{client}},"text":"{{token}} {{pad}}"}`, true)
	if err != nil {
		t.Fatal(err)
	}
	m := tpl.Bind(7, 3)
	pad := NewPad(1024, true, 1)
	h := Header{RunID: 5, Sender: 7, Seq: 1, Intended: 99}
	got := m.Append(nil, h, 200, pad)
	if len(got) != 200 || m.Len(200) != 200 {
		t.Fatalf("len = %d, Len(200) = %d; want 200", len(got), m.Len(200))
	}
	var v struct {
		Room string
		From int
		Text string
	}
	if err := json.Unmarshal(got, &v); err != nil || v.Room != "r3" || v.From != 7 {
		t.Fatalf("message %s: %v, %+v; want valid JSON for client 7 in room 3", got, err, v)
	}
	if back, err := FindToken(got); err != nil || back != h {
		t.Errorf("FindToken = %+v, %v; want %+v", back, err, h)
	}
	if at := m.TokenAt(200); !bytes.HasPrefix(got[at:], AppendToken(nil, h)) {
		t.Errorf("TokenAt(200) = %d; the token is not there in %s", at, got)
	}
	padFirst, _ := ParseTemplate(`{"pad":"{{pad}}","text":"{{token}}"}`, true)
	pm := padFirst.Bind(0, 0)
	if pf := pm.Append(nil, h, 300, pad); !bytes.HasPrefix(pf[pm.TokenAt(300):], AppendToken(nil, h)) {
		t.Errorf("pad first: TokenAt(300) = %d; the token is not there in %s", pm.TokenAt(300), pf)
	}
	if short := m.Append(nil, h, 10, pad); len(short) != m.MinLen() {
		t.Errorf("size below the text: len %d; want MinLen %d (no pad)", len(short), m.MinLen())
	}
	buf := make([]byte, 0, 256)
	if a := testing.AllocsPerRun(100, func() { buf = m.Append(buf[:0], h, 200, pad) }); a != 0 {
		t.Errorf("Append allocates %v times; want 0", a)
	}
}

// TestPadNotCompressible: a compressed run must do real work, so 1 KiB of
// pad must not shrink below 70 % (random bytes: ~100 %; the text alphabet
// has 6 of 8 bits: ~75 %).
func TestPadNotCompressible(t *testing.T) {
	t.Parallel()
	for _, text := range []bool{false, true} {
		p := NewPad(1024, text, 3)
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		for k := range uint64(8) { // consecutive messages: no shared text either
			_, _ = w.Write(p.Slice(k, 1024))
		}
		_ = w.Close()
		if ratio := float64(b.Len()) / (8 * 1024); ratio < 0.7 {
			t.Errorf("text=%v: 8 KiB of pad compressed to %.0f%%; want ≥ 70%%", text, 100*ratio)
		}
	}
}
