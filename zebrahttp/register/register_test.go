package register

import (
	"expvar"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRegistered: importing the package serves the index at /debug/zebra/
// on http.DefaultServeMux and publishes the expvar variable "zebra".
func TestRegistered(t *testing.T) {
	defer Handler.Stop()
	tests := []struct{ path, want string }{
		{"/debug/zebra/", "zebra heaps"},
		{"/debug/zebra/heaps.json", "["},
		{"/debug/vars", `"zebra": [`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			http.DefaultServeMux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%s: %d, want 200 with %q:\n%.300s", tt.path, rec.Code, tt.want, rec.Body.String())
			}
		})
	}
	if expvar.Get("zebra") == nil {
		t.Error(`no expvar variable "zebra"`)
	}
}
