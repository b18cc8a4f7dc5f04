package imap

import (
	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/blob"
	"mailroom/internal/message"
	"mailroom/internal/store"
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
// database holds whole within blob.Heads' bound, by one query; a message
// missing from the map is read on its own (its body is a file, or its
// header is longer). Bodies are read where the blob store reads them.
func (ss *session) readHeads(msgs []store.FolderEntry, idx []int) map[string][]byte {
	keys := make([]string, len(idx))
	for n, i := range idx {
		keys[n] = msgs[i].Blob
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	heads, err := blob.Heads(ctx, ss.s.o.Blobs, keys)
	if err != nil {
		ss.log.Warn("read message headers in a batch; reading them one by one", "messages", len(keys), "err", err)
		return nil
	}
	return heads
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
