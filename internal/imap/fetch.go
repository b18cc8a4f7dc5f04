package imap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/blob"
	"mailroom/internal/store"
)

// Fetch answers FETCH. A BODY[...] (not BODY.PEEK) of a folder opened
// with SELECT sets \Seen first (RFC 9051 §6.4.5), which imapserver leaves
// to the session, and the response then carries the new FLAGS.
func (ss *session) Fetch(w *imapserver.FetchWriter, numSet goimap.NumSet, options *goimap.FetchOptions) error {
	sel := ss.sel
	if sel == nil {
		return errNoSelected
	}
	idx := sel.pick(numSet)
	if !sel.readOnly && marksSeen(options) {
		var unseen []int
		for _, i := range idx {
			if !hasFlag(sel.msgs[i].Flags, goimap.FlagSeen) {
				unseen = append(unseen, i)
			}
		}
		if len(unseen) > 0 {
			if err := ss.setFlags(unseen, store.FlagsAdd, []string{string(goimap.FlagSeen)}); err != nil {
				return err
			}
			options.Flags = true
		}
	}
	headOnly := headerOnly(options)
	read := headOnly || needsBody(options)
	br := bufio.NewReader(nil) // reused: a header is parsed from it per message
	for len(idx) > 0 {
		batch := idx[:min(len(idx), blob.HeadBatch)]
		idx = idx[len(batch):]
		var heads map[string][]byte
		if headOnly {
			heads = ss.readHeads(sel.msgs, batch)
		}
		for _, i := range batch {
			data, ok := heads[sel.msgs[i].Blob]
			if read && !ok {
				var err error
				if data, err = ss.readBody(sel.msgs[i], headOnly); err != nil {
					return err
				}
			}
			if err := writeFetch(w, br, i, sel.msgs[i], data, options); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFetch writes the FETCH response of the view's message i (m),
// whose stored copy (or only its header, when that is all options need)
// is data; br is the reader its header is parsed from.
func writeFetch(w *imapserver.FetchWriter, br *bufio.Reader, i int, m store.FolderEntry, data []byte, options *goimap.FetchOptions) error {
	rw := w.CreateMessage(uint32(i + 1))
	rw.WriteUID(goimap.UID(m.UID))
	if options.Flags {
		rw.WriteFlags(imapFlags(m.Flags))
	}
	if options.InternalDate {
		rw.WriteInternalDate(m.CreatedAt)
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if options.Envelope {
		br.Reset(bytes.NewReader(data))
		h, err := textproto.ReadHeader(br) // copies what it keeps: br may be reset
		if err != nil {
			h = textproto.Header{}
		}
		rw.WriteEnvelope(envelope(h))
	}
	if options.BodyStructure != nil {
		rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(data)))
	}
	if err := writeSections(rw, data, options); err != nil {
		return err
	}
	return rw.Close()
}

// writeSections writes the body sections options ask for.
func writeSections(rw *imapserver.FetchResponseWriter, data []byte, options *goimap.FetchOptions) error {
	for _, bs := range options.BodySection {
		buf := imapserver.ExtractBodySection(bytes.NewReader(data), bs)
		if err := writeLiteral(rw.WriteBodySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		buf := imapserver.ExtractBinarySection(bytes.NewReader(data), bs)
		if err := writeLiteral(rw.WriteBinarySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bss := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(data), bss))
	}
	return nil
}

func writeLiteral(wc io.WriteCloser, b []byte) error {
	_, err := wc.Write(b)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

// marksSeen reports whether a FETCH reads a body without PEEK.
func marksSeen(o *goimap.FetchOptions) bool {
	for _, bs := range o.BodySection {
		if !bs.Peek {
			return true
		}
	}
	for _, bs := range o.BinarySection {
		if !bs.Peek {
			return true
		}
	}
	return false
}

// needsBody reports whether a FETCH needs the whole message.
func needsBody(o *goimap.FetchOptions) bool {
	return o.BodyStructure != nil || len(o.BodySection) > 0 || len(o.BinarySection) > 0 || len(o.BinarySectionSize) > 0
}

// readBody reads a message's stored copy (only its header when
// headerOnly), at most MaxMessageBytes of it: stored copies are no larger.
func (ss *session) readBody(m store.FolderEntry, headerOnly bool) ([]byte, error) {
	r, err := ss.s.o.Blobs.Open(m.Blob)
	if err != nil {
		ss.log.Error("open message body", "blob", m.Blob, "uid", m.UID, "err", err)
		return nil, no(goimap.ResponseCodeServerBug, fmt.Sprintf("Message UID %d cannot be read now", m.UID))
	}
	defer r.Close()
	limit := max(ss.s.o.MaxMessageBytes, m.Size) + 1
	if headerOnly {
		var b bytes.Buffer
		br := bufio.NewReader(io.LimitReader(r, limit))
		for {
			line, err := br.ReadSlice('\n')
			b.Write(line)
			if err != nil || strings.TrimRight(string(line), "\r\n") == "" {
				break
			}
		}
		return b.Bytes(), nil
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		ss.log.Error("read message body", "blob", m.Blob, "uid", m.UID, "err", err)
		return nil, no(goimap.ResponseCodeServerBug, fmt.Sprintf("Message UID %d cannot be read now", m.UID))
	}
	return data, nil
}

// Store answers STORE: the flags change in the store, the view follows,
// and (unless .SILENT) the new flags of every message named are returned.
func (ss *session) Store(w *imapserver.FetchWriter, numSet goimap.NumSet, flags *goimap.StoreFlags, _ *goimap.StoreOptions) error {
	sel := ss.sel
	if sel == nil {
		return errNoSelected
	}
	if sel.readOnly {
		return errReadOnly
	}
	idx := sel.pick(numSet)
	op := map[goimap.StoreFlagsOp]store.FlagOp{goimap.StoreFlagsSet: store.FlagsReplace, goimap.StoreFlagsAdd: store.FlagsAdd, goimap.StoreFlagsDel: store.FlagsRemove}[flags.Op]
	if err := ss.setFlags(idx, op, storedFlags(flags.Flags)); err != nil {
		return err
	}
	if flags.Silent {
		return nil
	}
	for _, i := range idx {
		rw := w.CreateMessage(uint32(i + 1))
		rw.WriteUID(goimap.UID(sel.msgs[i].UID))
		rw.WriteFlags(imapFlags(sel.msgs[i].Flags))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// setFlags changes the flags of the view's messages idx in the store and
// in the view.
func (ss *session) setFlags(idx []int, op store.FlagOp, flags []string) error {
	sel := ss.sel
	ranges := sel.ranges(idx)
	if len(ranges) == 0 {
		return nil
	}
	if len(ranges) > store.MaxUIDRanges {
		return errTooManyRanges
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	changed, err := ss.s.o.Store.SetFlags(ctx, sel.t.Mailbox.ID, sel.t.Folder, ranges, op, flags)
	if err != nil {
		return ss.fail("STORE", err, nil)
	}
	for _, e := range changed {
		for i := range sel.msgs {
			if sel.msgs[i].UID == e.UID {
				sel.msgs[i].Flags = e.Flags
			}
		}
	}
	return nil
}

// errTooManyRanges refuses a set too scattered for one store call.
var errTooManyRanges = no(goimap.ResponseCodeLimit, fmt.Sprintf("Too many separate messages in one command (over %d ranges); use smaller sets", store.MaxUIDRanges))

// storedFlags turns a client's flags into stored ones: system flags in
// their canonical case, \Recent (which no client sets) dropped.
func storedFlags(fs []goimap.Flag) []string {
	var out []string
	for _, f := range fs {
		s := string(f)
		for _, sys := range systemFlags {
			if strings.EqualFold(s, string(sys)) {
				s = string(sys)
			}
		}
		if strings.EqualFold(s, `\Recent`) || s == "" {
			continue
		}
		out = append(out, s)
	}
	return out
}
