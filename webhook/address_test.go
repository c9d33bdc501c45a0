package webhook

import (
	"net/netip"
	"testing"

	docket "github.com/docket-dev/docket"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"93.184.216.34", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"127.9.9.9", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"255.255.255.255", false},
		{"224.0.0.1", false},
		{"198.18.0.1", false},
		{"::", false},
		{"::1", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:7f00:1::", false},   // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},
		{"2001:db8::1", false},
	} {
		if got := PublicAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("PublicAddr(%s) = %v; want %v", tc.addr, got, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		want         string // "" for refused
	}{
		{"https://hooks.slack.com/services/T0/B0/x", false, "https://hooks.slack.com/services/T0/B0/x"},
		{"  http://example.com/hook?a=1  ", false, "http://example.com/hook?a=1"},
		{"http://8.8.8.8:8080/x", false, "http://8.8.8.8:8080/x"},
		{"", false, ""},
		{"ftp://example.com/x", false, ""},
		{"file:///etc/passwd", false, ""},
		{"gopher://example.com", false, ""},
		{"javascript:alert(1)", false, ""},
		{"http:example.com", false, ""},
		{"//example.com/x", false, ""},
		{"https://", false, ""},
		{"https://example.com/x#frag", false, ""},
		{"https://exa mple.com/", false, ""},
		{"http://127.0.0.1:9000/hook", false, ""},
		{"http://127.0.0.1:9000/hook", true, "http://127.0.0.1:9000/hook"},
		{"http://localhost/hook", false, ""},
		{"http://LOCALHOST./hook", false, ""},
		{"http://api.localhost/hook", false, ""},
		{"http://localhost/hook", true, "http://localhost/hook"},
		{"http://[::1]/hook", false, ""},
		{"http://[::ffff:127.0.0.1]/hook", false, ""},
		{"http://169.254.169.254/latest/meta-data", false, ""},
		{"http://10.0.0.5/", false, ""},
		{"http://0.0.0.0:80/", false, ""},
		{"https://example.com/" + string(make([]byte, docket.MaxWebhookURLBytes)), false, ""},
	} {
		got, err := CheckURL(tc.url, tc.allowPrivate)
		if tc.want == "" {
			if err == nil || docket.ErrorCode(err) != docket.EINVALID {
				t.Errorf("CheckURL(%q, %v) = %q, %v; want EINVALID", tc.url, tc.allowPrivate, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckURL(%q, %v) = %q, %v; want %q", tc.url, tc.allowPrivate, got, err, tc.want)
		}
	}
}
