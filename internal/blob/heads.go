package blob

import (
	"bytes"
	"context"
	"fmt"
)

// A reader of many messages' headers (an IMAP client opening a folder, a
// folder listing or its search) would cost a query per message through
// Open; Heads reads them HeadBatch messages to a query instead, the first
// headBytes of each.
const (
	// HeadBatch is how many bodies one query of Heads reads: callers that
	// write out as they go read in batches of this size.
	HeadBatch = 200
	headBytes = 16 << 10
)

// Heads returns the header (through its empty line) of each body named
// keys that s keeps in the database with the whole header within its
// first 16 KiB, reading HeadBatch bodies to a query. A key missing from
// the map is to be read through Open: its body is a file, its header is
// longer, or it does not exist. A store that keeps no body in the
// database returns an empty map.
func Heads(ctx context.Context, s Store, keys []string) (map[string][]byte, error) {
	db, ok := s.(*DB)
	if !ok || db.Bodies == nil || len(keys) == 0 {
		return map[string][]byte{}, nil
	}
	out := make(map[string][]byte, len(keys))
	for len(keys) > 0 {
		batch := keys[:min(len(keys), HeadBatch)]
		keys = keys[len(batch):]
		heads, err := db.Bodies.BodyHeads(ctx, batch, headBytes)
		if err != nil {
			return out, fmt.Errorf("read the headers of %d bodies: %w", len(batch), err)
		}
		for k, b := range heads {
			if h, ok := cutHeader(b, len(b) < headBytes); ok {
				out[k] = h
			}
		}
	}
	return out, nil
}

// cutHeader returns the header of a message that starts with b, through
// its empty line. Without an empty line in b, b is the header only when
// it is the whole message (whole).
func cutHeader(b []byte, whole bool) ([]byte, bool) {
	for off := 0; off < len(b); {
		n := bytes.IndexByte(b[off:], '\n')
		if n < 0 {
			break
		}
		line := b[off : off+n+1]
		off += n + 1
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return b[:off], true
		}
	}
	return b, whole
}
