package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	docket "github.com/docket-dev/docket"
)

// Which receivers a webhook may reach: CheckURL when a webhook is made and
// before each attempt, PublicAddr on every address the client dials.

// CheckURL validates a receiver URL and returns it normalised: it must be
// absolute http or https with a host, without a fragment. Unless
// allowPrivate is set, a host that is a literal loopback, private,
// link-local or otherwise internal address, or localhost, is refused. A
// host name that resolves to such an address must still be refused when
// connecting ([NewClient]): this check alone cannot stop DNS tricks.
// Errors are [docket.EINVALID].
func CheckURL(raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", docket.Errorf(docket.EINVALID, "URL required.")
	}
	if len(raw) > docket.MaxWebhookURLBytes {
		return "", docket.Errorf(docket.EINVALID, "URL is longer than %d bytes.", docket.MaxWebhookURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", docket.Errorf(docket.EINVALID, "URL is not valid.")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", docket.Errorf(docket.EINVALID, "URL must start with http:// or https://.")
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "", docket.Errorf(docket.EINVALID, "URL needs a host.")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", docket.Errorf(docket.EINVALID, "URL may not have a fragment (#).")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", docket.Errorf(docket.EINVALID, "URL contains spaces or control characters.")
	}
	if !allowPrivate {
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return "", docket.Errorf(docket.EINVALID, "URL may not point at this server (localhost).")
		}
		if addr, err := netip.ParseAddr(host); err == nil && !PublicAddr(addr) {
			return "", docket.Errorf(docket.EINVALID, "URL may not point at a loopback, private or link-local address.")
		}
	}
	return u.String(), nil
}

// nonPublic are address ranges that are not on the public internet, beyond
// what netip.Addr's predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// embedsIPv4 are IPv6 ranges that carry an IPv4 address in their last 32
// bits (NAT64) or after the first 16 (6to4); the IPv4 address is checked.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// PublicAddr reports whether a webhook may connect to addr: it is not
// loopback, private, link-local, multicast, unspecified or otherwise
// reserved, also when written as an IPv4-mapped or NAT64 IPv6 address.
func PublicAddr(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return PublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixTo4.Contains(addr):
			return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// ErrNotPublic is returned when a webhook would connect to an address
// that is not on the public internet.
var ErrNotPublic = errors.New("refusing to connect to a loopback, private or link-local address")

// NewClient returns the HTTP client of deliveries: no proxy, no
// redirects followed (a 3xx is a failure), the timeout on the whole
// exchange, and, unless allowPrivate, every dialled address checked with
// [PublicAddr] at connect time, after name resolution, so that
// neither a host name resolving to 127.0.0.1 nor any of several A records
// reaches an internal service.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return ErrNotPublic
			}
			addr, err := netip.ParseAddr(host)
			if err != nil || !PublicAddr(addr) {
				return fmt.Errorf("%w (%s)", ErrNotPublic, host)
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
