package client

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// MaxSourceIPs bounds the expansion of --source-ips.
const MaxSourceIPs = 65536

// SourceIPs is a pflag.Value for --source-ips: a comma-separated list of
// IPv4 addresses, ranges "a-b" and CIDR prefixes ("127.0.1.0/24"; network
// and broadcast addresses included, as on loopback they are usable).
// Connections take their local address round-robin from the list.
type SourceIPs []net.IP

// String implements pflag.Value.
func (s *SourceIPs) String() string {
	parts := make([]string, len(*s))
	for i, ip := range *s {
		parts[i] = ip.String()
	}
	return strings.Join(parts, ",")
}

// Type implements pflag.Value.
func (s *SourceIPs) Type() string { return "ips" }

// Set implements pflag.Value; each call appends.
func (s *SourceIPs) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, err := parseRange(item)
		if err != nil {
			return err
		}
		if int(hi-lo)+len(*s) >= MaxSourceIPs {
			return fmt.Errorf("source IPs %q: more than %d addresses", item, MaxSourceIPs)
		}
		for a := uint64(lo); a <= uint64(hi); a++ {
			ip := make(net.IP, 4)
			binary.BigEndian.PutUint32(ip, uint32(a))
			*s = append(*s, ip)
		}
	}
	return nil
}

func parseRange(item string) (lo, hi uint32, err error) {
	v4 := func(s string) (uint32, error) {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || !a.Is4() {
			return 0, fmt.Errorf("source IP %q: want an IPv4 address, a range a-b or a CIDR prefix", item)
		}
		b := a.As4()
		return binary.BigEndian.Uint32(b[:]), nil
	}
	switch {
	case strings.Contains(item, "/"):
		p, err := netip.ParsePrefix(item)
		if err != nil || !p.Addr().Is4() {
			return 0, 0, fmt.Errorf("source IPs %q: want an IPv4 CIDR prefix like 127.0.1.0/24", item)
		}
		p = p.Masked()
		b := p.Addr().As4()
		lo = binary.BigEndian.Uint32(b[:])
		size := uint64(1) << (32 - p.Bits())
		return lo, uint32(uint64(lo) + size - 1), nil
	case strings.Contains(item, "-"):
		a, b, _ := strings.Cut(item, "-")
		if lo, err = v4(a); err != nil {
			return 0, 0, err
		}
		if hi, err = v4(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("source IPs %q: range end is below its start", item)
		}
		return lo, hi, nil
	default:
		lo, err = v4(item)
		return lo, lo, err
	}
}
