package frame

import (
	"testing"
	"unicode/utf8"
)

func TestUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chunks   []string
		ok       bool // no invalid byte seen
		complete bool // ends on a rune boundary
	}{
		{"empty", nil, true, true},
		{"ascii", []string{"hello"}, true, true},
		{"2-byte", []string{"é"}, true, true},
		{"3-byte split", []string{"\xe2\x82", "\xac"}, true, true},
		{"4-byte split everywhere", []string{"\xf0", "\x9f", "\x98", "\x80"}, true, true},
		{"max code point", []string{"\xf4\x8f\xbf\xbf"}, true, true},
		{"truncated", []string{"a\xe2\x82"}, true, false},
		{"stray continuation", []string{"\x80"}, false, false},
		{"overlong 2-byte", []string{"\xc0\xaf"}, false, false},
		{"overlong 3-byte", []string{"\xe0\x80\xaf"}, false, false},
		{"overlong 4-byte", []string{"\xf0\x80\x80\xaf"}, false, false},
		{"surrogate", []string{"\xed\xa0\x80"}, false, false},
		{"above U+10FFFF", []string{"\xf4\x90\x80\x80"}, false, false},
		{"0xff", []string{"\xff"}, false, false},
		{"bad continuation across chunks", []string{"\xe2", "\x28"}, false, false},
		{"invalid stays invalid", []string{"\xff", "abc"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v UTF8
			ok := true
			for _, c := range tc.chunks {
				ok = v.Write([]byte(c)) && ok
			}
			if ok != tc.ok || v.Complete() != tc.complete {
				t.Fatalf("Write(%q) ok=%v complete=%v; want ok=%v complete=%v", tc.chunks, ok, v.Complete(), tc.ok, tc.complete)
			}
		})
	}
}

// TestUTF8FailsFast checks that the error is reported in the chunk holding
// the first impossible byte, not at the end.
func TestUTF8FailsFast(t *testing.T) {
	t.Parallel()
	var v UTF8
	if !v.Write([]byte("ok \xce")) {
		t.Fatal("valid prefix rejected")
	}
	if v.Write([]byte("\xce")) { // 0xce cannot continue 0xce
		t.Fatal("invalid continuation not reported at once")
	}
}

// FuzzUTF8 checks the validator against unicode/utf8 for every split of the
// input into two chunks.
func FuzzUTF8(f *testing.F) {
	for _, s := range []string{"", "héllo", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xe2\x82", "\xc0\x80", "\xf4\x90\x80\x80"} {
		f.Add([]byte(s), 1)
	}
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		var v UTF8
		ok := v.Write(b[:cut])
		ok = v.Write(b[cut:]) && ok
		got := ok && v.Complete()
		if want := utf8.Valid(b); got != want {
			t.Fatalf("split at %d of %q: valid=%v; utf8.Valid=%v", cut, b, got, want)
		}
		// Fail-fast: a prefix that utf8 says cannot be completed must be
		// reported invalid by the time it is written.
		var w UTF8
		for i := range b {
			if !w.Write(b[i : i+1]) {
				if utf8.Valid(b[:i+1]) || canComplete(b[:i+1]) {
					t.Fatalf("%q rejected at byte %d, but its prefix can still be valid", b, i)
				}
				break
			}
		}
	})
}

// canComplete reports whether some suffix makes p valid UTF-8.
func canComplete(p []byte) bool {
	for _, tail := range []string{"", "\x80", "\x80\x80", "\x80\x80\x80", "\xa0\x80", "\x90\x80\x80", "\xbf", "\xbf\xbf", "\x8f\xbf\xbf", "\x9f\xbf", "\xbf\xbf\xbf"} {
		if utf8.Valid(append(append([]byte(nil), p...), tail...)) {
			return true
		}
	}
	return false
}

func BenchmarkUTF8(b *testing.B) {
	p := []byte("chat message with some ünïcödé text and a 😀 emoji, typical size...")
	b.SetBytes(int64(len(p)))
	var v UTF8
	for b.Loop() {
		v.Write(p[:len(p)/2])
		v.Write(p[len(p)/2:])
	}
}
