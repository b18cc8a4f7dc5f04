package imap

import (
	"bytes"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/blob"
	"mailroom/internal/message"
	"mailroom/internal/store"
)

// A FETCH that needs only the messages' headers (ENVELOPE, the top-level
// BODY[HEADER...] sections) is what a client sends on opening a folder,
// for every message in it. Reading each header through the blob store
// costs a query per message; headers kept in the database are read
// instead headBatch messages to a query, headBytes of each.
const (
	headBatch = 200
	headBytes = 16 << 10
)

// headerOnly reports whether a FETCH needs a message's header and none
// of its body: only ENVELOPE and BODY[HEADER], BODY[HEADER.FIELDS (...)]
// or BODY[HEADER.FIELDS.NOT (...)] of the message itself.
func headerOnly(o *goimap.FetchOptions) bool {
	if o.BodyStructure != nil || len(o.BinarySection) > 0 || len(o.BinarySectionSize) > 0 {
		return false
	}
	for _, bs := range o.BodySection {
		if len(bs.Part) > 0 || bs.Specifier != goimap.PartSpecifierHeader {
			return false
		}
	}
	return o.Envelope || len(o.BodySection) > 0
}

// readHeads returns the headers of the messages idx of msgs that the
// database holds whole within headBytes, by one query; a message missing
// from the map is read on its own (its body is a file, or its header is
// longer). Bodies are read where the blob store reads them: its own
// store.Bodies, when it keeps bodies in the database.
func (ss *session) readHeads(msgs []store.FolderEntry, idx []int) map[string][]byte {
	db, ok := ss.s.o.Blobs.(*blob.DB)
	if !ok || db.Bodies == nil {
		return nil
	}
	keys := make([]string, len(idx))
	for n, i := range idx {
		keys[n] = msgs[i].Blob
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	heads, err := db.Bodies.BodyHeads(ctx, keys, headBytes)
	if err != nil {
		ss.log.Warn("read message headers in a batch; reading them one by one", "messages", len(keys), "err", err)
		return nil
	}
	for k, b := range heads {
		if h, ok := cutHeader(b, len(b) < headBytes); ok {
			heads[k] = h
		} else {
			delete(heads, k)
		}
	}
	return heads
}

// cutHeader returns the header of a message that starts with b, through
// its empty line, as readBody reads it. Without an empty line in b, b is
// the header only when it is the whole message (whole).
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

// envelope is imapserver.ExtractEnvelope with the date parsed by
// message.ParseDate (the same result, without net/mail's layout by
// layout tries). It removes the Date field from h.
func envelope(h textproto.Header) *goimap.Envelope {
	date, _ := message.ParseDate(h.Get("Date")) // the zero time when absent or malformed, as there
	h.Del("Date")
	env := imapserver.ExtractEnvelope(h)
	env.Date = date
	return env
}
