package loadtool

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func TestPostJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"got": in["x"], "ct": r.Header.Get("Content-Type"), "auth": r.Header.Get("Authorization")})
	}))
	defer srv.Close()
	code, out, err := PostJSON(srv.Client(), srv.URL, http.Header{"Authorization": {"Bearer t"}}, map[string]string{"x": "y"})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("PostJSON = %d, %v", code, err)
	}
	if out["got"] != "y" || out["ct"] != "application/json" || out["auth"] != "Bearer t" {
		t.Errorf("the server saw %v; want the body, the content type and the header", out)
	}
}

func TestProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if got := RSS(os.Getpid()); got <= 0 {
		t.Errorf("RSS(self) = %d; want > 0", got)
	}
	if got := CPU(os.Getpid()); got < 0 {
		t.Errorf("CPU(self) = %v; want >= 0", got)
	}
	if got := CPU(0); got != 0 {
		t.Errorf("CPU(0) = %v; want 0", got)
	}
}
