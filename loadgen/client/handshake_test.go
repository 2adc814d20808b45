package client

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/relaytest"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"ws://127.0.0.1:8181/room", "127.0.0.1:8181"},
		{"ws://127.0.0.1/", "127.0.0.1:80"},
		{"wss://[::1]/", "[::1]:443"},
		{"ws://localhost:9/", "127.0.0.1:9"},
	} {
		got, err := Resolve(context.Background(), tc.url)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
	if _, err := Resolve(context.Background(), "ws://wsbench.invalid/"); err == nil {
		t.Error("Resolve(wsbench.invalid) succeeded; want an error")
	}
}

// TestDialUsesResolvedAddr: with Addr set, dials do not look the host up
// again (the URL's host here cannot be resolved at all), and the
// handshake carries the headers, Origin and subprotocol offer.
func TestDialUsesResolvedAddr(t *testing.T) {
	t.Parallel()
	r := &relaytest.Relay{}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	addr := strings.TrimSuffix(strings.TrimPrefix(r.URL(), "ws://"), "/")
	d := Dialer{Timeout: 5 * time.Second, Addr: addr, Handshake: &Handshake{
		Header: []string{"Authorization: Bearer user-1"}, Origin: "http://example.test", Protocols: []string{"chat"},
	}}
	c, err := d.Dial(context.Background(), "ws://wsbench.invalid:1/")
	if err != nil {
		t.Fatalf("Dial via Addr: %v", err)
	}
	c.Close()
	bad := Dialer{Timeout: 5 * time.Second, Addr: addr, Handshake: &Handshake{Header: []string{"no colon"}}}
	if _, err := bad.Dial(context.Background(), r.URL()); err == nil || !strings.Contains(err.Error(), "Key: Value") {
		t.Errorf("Dial with a bad header = %v; want the 'Key: Value' error", err)
	}
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	if c, err := TLSConfig(false, ""); c != nil || err != nil {
		t.Errorf("TLSConfig() = %v, %v; want nil, nil (system roots)", c, err)
	}
	if c, err := TLSConfig(true, ""); err != nil || !c.InsecureSkipVerify {
		t.Errorf("TLSConfig(insecure) = %v, %v", c, err)
	}
	if _, err := TLSConfig(false, filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("TLSConfig(missing file) succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	_ = os.WriteFile(junk, []byte("not a certificate"), 0o600)
	if _, err := TLSConfig(false, junk); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("TLSConfig(junk) = %v; want 'no PEM certificate'", err)
	}
}

func TestDeflaterRoundTrip(t *testing.T) {
	t.Parallel()
	z := getDeflater()
	defer putDeflater(z)
	for _, p := range []string{"", "hello", strings.Repeat("wsb1.0123456789abcdef", 200)} {
		out, err := z.compress([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := inflate(t, out); got != p {
			t.Errorf("inflate(compress(%d bytes)) = %d bytes; want the input back", len(p), len(got))
		}
	}
}

// TestHandshakeReachesServer: --header, --origin and --subprotocol are in
// the upgrade request, and the selected subprotocol is recorded.
func TestHandshakeReachesServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan map[string]string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		h := map[string]string{}
		u := ws.Upgrader{
			Protocol: func(p []byte) bool { return string(p) == "chat.v2" },
			OnHeader: func(k, v []byte) error { h[string(k)] = string(v); return nil },
		}
		_, _ = u.Upgrade(c)
		got <- h
	}()
	d := Dialer{Timeout: 5 * time.Second, Handshake: &Handshake{
		Header: []string{"Authorization: Bearer user-7"}, Origin: "https://chat.test", Protocols: []string{"chat.v1", "chat.v2"},
	}}
	c, err := d.Dial(context.Background(), "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	h := <-got
	if h["Authorization"] != "Bearer user-7" || h["Origin"] != "https://chat.test" {
		t.Errorf("server saw headers %q; want Authorization and Origin", h)
	}
	if c.Protocol != "chat.v2" {
		t.Errorf("Conn.Protocol = %q; want the server's choice chat.v2", c.Protocol)
	}
}
