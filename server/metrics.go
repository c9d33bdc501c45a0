package server

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the request counters and latency histograms by route.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docket_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "docket_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// handleMetrics serves GET /metrics with h: what it tells (documents,
// data size, traffic per route) is for operators, so it answers site
// admins and requests with the metrics token only.
func (s *Server) handleMetrics(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		if authMethodFromContext(c) != authMetrics {
			u, err := requireUser(c.Request().Context())
			if err != nil {
				return docket.Errorf(docket.EUNAUTHORIZED, "Metrics are for site admins and for scrapers with the metrics token (docket serve --metrics-token).")
			}
			if !u.IsAdmin() {
				return docket.Errorf(docket.EFORBIDDEN, "Metrics are for site admins.")
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// isMetricsToken reports whether secret is the configured metrics token,
// in constant time.
func (s *Server) isMetricsToken(secret string) bool {
	return s.cfg.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.MetricsToken)) == 1
}
