package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// ErrContextTakeover is returned by Dial when the server accepted
// permessage-deflate but kept its compression context between messages:
// the receive path inflates only the start of each message, which needs
// every message to stand alone.
var ErrContextTakeover = errors.New("server kept permessage-deflate context takeover (did not accept server_no_context_takeover)")

// Handshake says what a Dialer adds to the opening handshake.
type Handshake struct {
	Header    []string    // "Key: Value" lines, already expanded for this client
	Protocols []string    // Sec-WebSocket-Protocol offer
	Origin    string      // Origin header; empty = none
	TLS       *tls.Config // wss:// settings; nil = system roots
	Deflate   bool        // offer permessage-deflate without context takeover
}

// deflateOffer is the permessage-deflate offer: no context takeover in
// either direction, so each message compresses and inflates alone.
var deflateOffer = wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}

// DeflateOffer is the offer as it appears in Sec-WebSocket-Extensions.
const DeflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// TLSConfig returns the wss:// settings for --insecure and --ca: nil when
// neither is given (system roots).
func TLSConfig(insecure bool, caFile string) (*tls.Config, error) {
	if !insecure && caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // --insecure asks for exactly this
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Resolve looks up the host of a ws:// or wss:// URL once and returns
// "ip:port" for Dialer.Addr, so that a run of thousands of connections
// makes one DNS query, not one per connection.
func Resolve(ctx context.Context, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return net.JoinHostPort(host, port), nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("resolve %s: no address", host)
	}
	// Prefer IPv4, as most test servers listen on it.
	ip := ips[0]
	for _, x := range ips {
		if x.To4() != nil {
			ip = x
			break
		}
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// apply sets hs on wd.
func (hs *Handshake) apply(wd *ws.Dialer) error {
	if hs == nil {
		return nil
	}
	h := make(map[string][]string)
	for _, line := range hs.Header {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("--header %q: want 'Key: Value'", line)
		}
		k = strings.TrimSpace(k)
		h[k] = append(h[k], strings.TrimSpace(v))
	}
	if hs.Origin != "" {
		h["Origin"] = []string{hs.Origin}
	}
	if len(h) > 0 {
		wd.Header = ws.HandshakeHeaderHTTP(h)
	}
	wd.Protocols = hs.Protocols
	wd.TLSConfig = hs.TLS
	if hs.Deflate {
		wd.Extensions = []httphead.Option{deflateOffer.Option()}
	}
	return nil
}

// negotiated checks the server's extension answer and describes it.
func negotiated(exts []httphead.Option) (deflate bool, desc string, err error) {
	for _, opt := range exts {
		if string(opt.Name) != wsflate.ExtensionName {
			continue
		}
		var p wsflate.Parameters
		if err := p.Parse(opt); err != nil {
			return false, "", fmt.Errorf("permessage-deflate answer: %w", err)
		}
		parts := []string{wsflate.ExtensionName}
		if p.ServerNoContextTakeover {
			parts = append(parts, "server_no_context_takeover")
		}
		if p.ClientNoContextTakeover {
			parts = append(parts, "client_no_context_takeover")
		}
		if p.ServerMaxWindowBits.Defined() {
			parts = append(parts, fmt.Sprintf("server_max_window_bits=%d", p.ServerMaxWindowBits))
		}
		if p.ClientMaxWindowBits.Defined() {
			parts = append(parts, fmt.Sprintf("client_max_window_bits=%d", p.ClientMaxWindowBits))
		}
		desc = strings.Join(parts, "; ")
		if !p.ServerNoContextTakeover {
			return false, desc, ErrContextTakeover
		}
		return true, desc, nil
	}
	return false, "", nil
}
