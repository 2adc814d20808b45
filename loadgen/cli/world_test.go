package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestWorldFlagsRefused: nonsense combinations of the real-world-server
// flags exit 2 with a message saying what to do.
func TestWorldFlagsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"url twice", []string{"--url", "ws://127.0.0.1:1/a", "--url", "ws://127.0.0.1:1/b"}, "--rooms N with {{room}} in --url"},
		{"template without token", []string{"--template", `{"text":"hi"}`}, "put {{token}} in it exactly once"},
		{"template and binary", []string{"--template", `{{token}}`, "--payload", "binary"}, "drop --payload binary"},
		{"bad payload", []string{"--payload", "json"}, "want binary or text"},
		{"unknown placeholder", []string{"--template", `{{token}} {{user}}`}, "unknown placeholder {{user}}"},
		{"token in on-open", []string{"--on-open", `{{token}}`}, "--template only"},
		{"rooms without {{room}}", []string{"--rooms", "4"}, "put {{room}} in --url"},
		{"rooms vs senders", []string{"--url", "ws://127.0.0.1:1/{{room}}", "--rooms", "4", "--clients", "10"}, "--senders to a multiple of 4"},
		{"keepalive without period", []string{"--keepalive", "ping"}, "go together"},
		{"await-timeout without await", []string{"--await-timeout", "3s"}, "give --await REGEX"},
		{"bad await", []string{"--await", "("}, "--await"},
		{"bad expect", []string{"--expect", "some"}, "want all"},
		{"insecure on ws", []string{"--insecure"}, "apply to wss://"},
		{"header without colon", []string{"--header", "Bearer x"}, "want 'Key: Value'"},
		{"scan-bytes below a token", []string{"--payload", "text", "--scan-bytes", "10"}, "--scan-bytes 10"},
		{"template in host", []string{"--url", "ws://chat-{{room}}.test/"}, "is not a WebSocket URL"},
		{"token past scan-bytes", []string{"--template", `{{pad}} {{token}}`, "--size", "5000"}, "beyond what receivers scan"},
		{"rooms with procs", []string{"--url", "ws://127.0.0.1:1/{{room}}", "--rooms", "2", "--procs", "2"}, "do not carry --rooms yet"},
		{"rooms with agents", []string{"--url", "ws://127.0.0.1:1/{{room}}", "--rooms", "2", "--agents", "2", "--nats", "nats://127.0.0.1:1"}, "do not carry --rooms yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if !strings.Contains(strings.Join(args, " "), "--url") {
				args = append([]string{"--url", "ws://127.0.0.1:1/"}, args...)
			}
			var out, errw bytes.Buffer
			if code := loadgen("run", args, &out, &errw); code != ExitUsage || !strings.Contains(errw.String(), tc.want) {
				t.Errorf("loadgen %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, errw.String(), ExitUsage, tc.want)
			}
		})
	}
}

// TestWorldFlagsInHelp: every flag of the contract is in --help.
func TestWorldFlagsInHelp(t *testing.T) {
	t.Parallel()
	var out, errw bytes.Buffer
	if code := loadgen("run", []string{"--help"}, &out, &errw); code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	for _, f := range []string{"--payload", "--template", "--scan-bytes", "--on-open", "--await", "--await-timeout", "--expect", "--rooms",
		"--header", "--subprotocol", "--origin", "--keepalive", "--keepalive-every", "--ignore", "--insecure", "--ca", "--deflate", "wss://"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
}
