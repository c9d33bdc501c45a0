package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/docket-dev/docket/internal/testenv"
)

// BenchmarkDocHTML serves GET /api/docs/:id/html of the largest corpus
// document with a bearer token, through the whole middleware stack.
func BenchmarkDocHTML(b *testing.B) {
	body := testenv.LargestProposal(b)
	e := newEnv(b)
	ada := e.signup("Ada")
	ada.createSpace("eng")
	id := ada.createDoc("eng", "Type parameters", body)
	token := ada.must(201, "POST", "/api/tokens", map[string]string{"name": "bench"}).str("token")
	h := e.srv.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/docs/"+id+"/html", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
