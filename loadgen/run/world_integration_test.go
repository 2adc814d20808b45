package run

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// The servers of these tests are written the way tutorials write them
// (scripts/peers/node-chat, scripts/peers/python-websockets-chat). Each
// is run twice: with the flags that match it, which must give lost 0, and
// without, which must be visibly wrong, so that the flags are what makes
// the difference.

// worldConfig is a small load: 20 clients, 10 senders, 100 broadcasts/s,
// 1.5 s measured.
func worldConfig(url string) Config {
	return Config{
		URL: url, Clients: 20, Senders: 10, Rate: 100, Size: 64,
		Duration: 1500 * time.Millisecond, Warmup: 300 * time.Millisecond, Drain: 5 * time.Second,
		ConnectTimeout: 5 * time.Second, MaxSendLag: time.Second,
	}
}

// wrong shortens the drain of a run that is meant to lose messages (it
// would otherwise wait the whole drain for them).
func wrong(cfg Config) Config {
	cfg.Drain = 300 * time.Millisecond
	return cfg
}

func mustRun(t *testing.T, cfg Config) *report.Report {
	t.Helper()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("messages %+v; warnings %q", rep.Messages, rep.Generator.Warnings)
	return rep
}

// checkNoLoss asserts that every owed delivery arrived, once.
func checkNoLoss(t *testing.T, rep *report.Report) {
	t.Helper()
	m := rep.Messages
	if m.Sent == 0 || m.Expected == 0 || m.Lost != 0 || m.Delivered != m.Expected || m.Duplicated != 0 || m.Unexpected != 0 {
		t.Errorf("messages = %+v; want every expected delivery once, none lost or unexpected", m)
	}
	if c := rep.Connections; c.Established != int64(rep.Config.Clients) || c.Dropped != 0 {
		t.Errorf("connections = %+v; want all %d established, none dropped", c, rep.Config.Clients)
	}
	if rep.LatencyMs.Count != m.Expected {
		t.Errorf("latency count %d; want one per expected delivery (%d)", rep.LatencyMs.Count, m.Expected)
	}
}

func hasWarning(rep *report.Report, s string) bool {
	for _, w := range rep.Generator.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

func TestWorldExceptSender(t *testing.T) {
	t.Parallel()
	addr := testenv.NodeChat(t, "except-sender")
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Expect = ExpectOthers
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	if m := rep.Messages; m.Expected != m.Sent*int64(cfg.Clients-1) {
		t.Errorf("expected %d; want sent × (clients − 1) = %d", m.Expected, m.Sent*int64(cfg.Clients-1))
	}

	t.Run("without --expect others", func(t *testing.T) {
		rep := mustRun(t, wrong(worldConfig("ws://"+addr+"/")))
		if m := rep.Messages; m.Lost != m.Sent || !hasWarning(rep, "the server does not deliver to the sender: use --expect others") {
			t.Errorf("lost %d of %d sent, warnings %q; want one loss per broadcast and the --expect others hint", m.Lost, m.Sent, rep.Generator.Warnings)
		}
	})
	t.Run("--expect others against a server that echoes", func(t *testing.T) {
		cfg := worldConfig("ws://" + testenv.NodeChat(t, "keepalive", "--keepalive-ms", "60000") + "/")
		cfg.Expect = ExpectOthers
		rep := mustRun(t, cfg)
		if m := rep.Messages; m.Lost != 0 || m.Unexpected != m.Sent || !hasWarning(rep, "use --expect all") {
			t.Errorf("messages %+v, warnings %q; want 0 lost, every own copy unexpected and the --expect all hint", m, rep.Generator.Warnings)
		}
	})
}

func TestWorldJSONEnvelope(t *testing.T) {
	t.Parallel()
	addr := testenv.NodeChat(t, "json")
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Payload = PayloadText
	cfg.Size = 200
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	if rep.Messages.Foreign != 0 {
		t.Errorf("foreign = %d; want 0 (every envelope carries a token)", rep.Messages.Foreign)
	}

	t.Run("binary payload", func(t *testing.T) {
		rep := mustRun(t, wrong(worldConfig("ws://"+addr+"/")))
		if m := rep.Messages; m.Delivered != 0 || m.Foreign == 0 || !hasWarning(rep, "use --payload text") {
			t.Errorf("messages %+v, warnings %q; want nothing delivered, all foreign and the --payload text hint", m, rep.Generator.Warnings)
		}
	})
}

func TestWorldJoinRooms(t *testing.T) {
	t.Parallel()
	addr := testenv.NodeChat(t, "join")
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Rooms = 2
	cfg.OnOpen = []string{`{"type":"join","room":"r{{room}}"}`}
	cfg.Await = `"type":"joined"`
	cfg.Template = `{"type":"msg","text":"{{token}}"}`
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	m := rep.Messages
	if m.Ignored != int64(cfg.Clients) || m.Foreign != 0 {
		t.Errorf("ignored %d foreign %d; want the %d joined answers ignored, nothing foreign", m.Ignored, m.Foreign, cfg.Clients)
	}
	if len(rep.Rooms) != 2 {
		t.Fatalf("rooms = %+v; want 2 rows", rep.Rooms)
	}
	var sent int64
	for _, row := range rep.Rooms {
		sent += row.Sent
		if row.Receivers != 10 || row.Lost != 0 || row.Expected != row.Sent*10 || row.Delivered != row.Expected || row.LatencyMs.Count != row.Expected {
			t.Errorf("room %+v; want 10 receivers, each owed and given every broadcast of the room", row)
		}
	}
	if sent != m.Sent {
		t.Errorf("rooms sent %d in all; want %d", sent, m.Sent)
	}

	t.Run("without the join script", func(t *testing.T) {
		cfg := wrong(worldConfig("ws://" + addr + "/"))
		cfg.Template = `{"type":"msg","text":"{{token}}"}`
		rep := mustRun(t, cfg)
		if m := rep.Messages; m.Delivered != 0 || m.Lost != m.Expected || m.Foreign == 0 {
			t.Errorf("messages %+v; want everything lost and the server's errors foreign", m)
		}
	})
	t.Run("await that never matches", func(t *testing.T) {
		cfg := cfg
		cfg.Clients, cfg.Senders = 2, 2
		cfg.Await, cfg.AwaitTimeout = "never-said", 300*time.Millisecond
		_, err := Run(context.Background(), cfg)
		if !errors.Is(err, ErrNoConnection) || !strings.Contains(err.Error(), "--await") {
			t.Errorf("Run = %v; want ErrNoConnection naming --await", err)
		}
	})
}

func TestWorldKeepalive(t *testing.T) {
	t.Parallel()
	addr := testenv.NodeChat(t, "keepalive", "--keepalive-ms", "1000")
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Duration = 2 * time.Second // well past the server's 1 s limit
	cfg.Keepalive, cfg.KeepaliveEvery = "ping", 100*time.Millisecond
	cfg.Ignore = `^pong$`
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	if m := rep.Messages; m.Foreign != 0 || m.Ignored == 0 {
		t.Errorf("foreign %d ignored %d; want the pongs ignored, nothing foreign", m.Foreign, m.Ignored)
	}

	t.Run("without keepalive", func(t *testing.T) {
		cfg := wrong(worldConfig("ws://" + addr + "/"))
		cfg.Duration = 2 * time.Second
		rep := mustRun(t, cfg)
		if c := rep.Connections; c.Dropped == 0 || c.DropReasons["close 1008"] == 0 || rep.Valid {
			t.Errorf("connections %+v valid %v; want clients dropped with 1008 and the run invalid", c, rep.Valid)
		}
	})
}

func TestWorldPythonJSON(t *testing.T) {
	t.Parallel()
	py := testenv.PythonWebsockets(t)
	addr := testenv.StartPeer(t, exec.Command(py, filepath.Join(testenv.Scripts(), "peers", "python-websockets-chat", "server.py"), "--port", "0"))
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Template = `{"user":"u{{client}}","text":"{{token}}"}`
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)

	t.Run("binary payload", func(t *testing.T) {
		rep := mustRun(t, wrong(worldConfig("ws://"+addr+"/")))
		if c := rep.Connections; c.DropReasons["close 1011"] == 0 || rep.Messages.Delivered != 0 {
			t.Errorf("connections %+v, delivered %d; want senders closed with 1011, nothing delivered", c, rep.Messages.Delivered)
		}
	})
}

func TestWorldDeflate(t *testing.T) {
	t.Parallel()
	addr := testenv.NodeChat(t, "json", "--deflate")
	cfg := worldConfig("ws://" + addr + "/")
	cfg.Payload = PayloadText
	cfg.Size = 2048 // ws compresses messages of 1 KiB and more
	cfg.Deflate = true
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	z := rep.Compression
	if z == nil || z.Negotiated != int64(cfg.Clients) || !strings.Contains(z.Params, "permessage-deflate") || !strings.Contains(z.Params, "server_no_context_takeover") {
		t.Errorf("compression = %+v; want all %d connections negotiated, without server context takeover", z, cfg.Clients)
	}

	t.Run("server without deflate", func(t *testing.T) {
		cfg := cfg
		cfg.URL = "ws://" + testenv.NodeChat(t, "json") + "/"
		rep := mustRun(t, cfg)
		if z := rep.Compression; z == nil || z.Negotiated != 0 || !hasWarning(rep, "declined permessage-deflate") {
			t.Errorf("compression %+v, warnings %q; want 0 negotiated and a warning", z, rep.Generator.Warnings)
		}
	})
}

// selfSigned returns a TLS certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsbench test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestWorldWSS(t *testing.T) {
	t.Parallel()
	cert, pemBytes := selfSigned(t)
	relay := &relaytest.Relay{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		insecure bool
		ca       string
	}{
		{"insecure", true, ""},
		{"ca", false, ca},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := worldConfig(relay.URL())
			cfg.Insecure, cfg.CA = tc.insecure, tc.ca
			checkNoLoss(t, mustRun(t, cfg))
		})
	}
	t.Run("system roots", func(t *testing.T) {
		_, err := Run(context.Background(), worldConfig(relay.URL()))
		if !errors.Is(err, ErrNoConnection) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Run = %v; want ErrNoConnection with the certificate error", err)
		}
	})
}

// TestWorldRoomsByURL: rooms named by the URL path, as our server does;
// each receiver gets only its room's broadcasts.
func TestWorldRoomsByURL(t *testing.T) {
	t.Parallel()
	addr := chattest.Start(t, chatserver.DefaultConfig(), t.Logf)
	cfg := worldConfig("ws://" + addr + "/room-{{room}}")
	cfg.Clients, cfg.Senders, cfg.Rooms = 21, 9, 3
	cfg.Subprotocol = []string{"chat"}
	rep := mustRun(t, cfg)
	checkNoLoss(t, rep)
	if len(rep.Rooms) != 3 || rep.Config.Rooms != 3 {
		t.Fatalf("rooms = %+v; want 3 rows", rep.Rooms)
	}
	for _, row := range rep.Rooms {
		if row.Receivers != 7 || row.Expected != row.Sent*7 || row.Lost != 0 {
			t.Errorf("room %+v; want 7 receivers owed every broadcast of the room", row)
		}
	}
	if !hasWarning(rep, "selected none of the offered subprotocols") {
		t.Errorf("warnings %q; want the unselected subprotocol noted", rep.Generator.Warnings)
	}

	t.Run("one URL for all rooms", func(t *testing.T) {
		cfg := cfg
		cfg.URL = "ws://" + addr + "/"
		cfg.Template = `{"room":"{{room}}","text":"{{token}}"}` // the server ignores it: everyone hears everything
		rep := mustRun(t, cfg)
		if m := rep.Messages; m.Lost != 0 || m.Unexpected != m.Sent*int64(cfg.Clients)-m.Expected || !hasWarning(rep, "separates the rooms") {
			t.Errorf("messages %+v; want every other room's copy counted unexpected", m)
		}
	})
}
