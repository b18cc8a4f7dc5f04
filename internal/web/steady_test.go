package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWriteRaw_OutlastsWriteTimeout: a raw message download takes as long
// as the client keeps reading; the server's WriteTimeout bounds a stall,
// not the whole download (a 35 MB message over a slow link takes
// minutes).
func TestWriteRaw_OutlastsWriteTimeout(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 32<<20/16) // more than loopback's socket buffers hold
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, rawMessage{body: io.NopCloser(bytes.NewReader(body)), id: "x"})
	}))
	srv.Config.WriteTimeout = 50 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// A slow client: nothing read until the server's WriteTimeout is long
	// past (no condition to wait on: the timeout is the server's clock).
	time.Sleep(10 * srv.Config.WriteTimeout)
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("download: %d of %d bytes, %v", len(got), len(body), err)
	}
}
