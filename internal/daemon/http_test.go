package daemon_test

import (
	"net/http"
	"strings"
	"testing"

	"mailroom/internal/testkit"
)

// TestHTTP_HeadersBounded: the admin listener refuses request headers
// over 64 KiB (net/http's default took 1 MiB per request).
func TestHTTP_HeadersBounded(t *testing.T) {
	s := testkit.Start(t, fixture)
	get := func(cookie int) int {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("http")+"/healthz", nil)
		req.Header.Set("Cookie", "x="+strings.Repeat("a", cookie))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(32 << 10); got != http.StatusOK {
		t.Fatalf("32 KiB of headers: %d, want 200", got)
	}
	if got := get(128 << 10); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("128 KiB of headers: %d, want 431", got)
	}
}
