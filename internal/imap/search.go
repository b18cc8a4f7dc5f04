package imap

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/store"
)

// Search answers SEARCH (and ESEARCH, SEARCHRES): flags, sizes, dates
// (internal, and the Date: header for SENT*), header fields, and BODY and
// TEXT over the text parts. Messages are read only as far as the criteria
// need: not at all, their header, or whole.
func (ss *session) Search(kind imapserver.NumKind, criteria *goimap.SearchCriteria, options *goimap.SearchOptions) (*goimap.SearchData, error) {
	sel := ss.sel
	if sel == nil {
		return nil, errNoSelected
	}
	need := searchNeeds(criteria)
	var data goimap.SearchData
	var seqs goimap.SeqSet
	var uids goimap.UIDSet
	for i, m := range sel.msgs {
		msg := &searched{entry: m, seq: uint32(i + 1)}
		if need > needNothing {
			b, err := ss.readBody(m, need == needHeader)
			if err != nil {
				return nil, err
			}
			msg.data = b
		}
		if !sel.match(msg, criteria) {
			continue
		}
		uids.AddNum(goimap.UID(m.UID))
		num := msg.seq
		if kind == imapserver.NumKindUID {
			num = m.UID
		}
		seqs.AddNum(msg.seq)
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		if num > data.Max {
			data.Max = num
		}
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if options != nil && options.ReturnSave {
		sel.searchRes = uids
	}
	return &data, nil
}

// What a search reads of each message.
const (
	needNothing = iota
	needHeader
	needBody
)

// searchNeeds says what of the messages criteria read.
func searchNeeds(c *goimap.SearchCriteria) int {
	need := needNothing
	if len(c.Body) > 0 || len(c.Text) > 0 {
		return needBody
	}
	if len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		need = needHeader
	}
	for i := range c.Not {
		need = max(need, searchNeeds(&c.Not[i]))
	}
	for i := range c.Or {
		need = max(need, searchNeeds(&c.Or[i][0]), searchNeeds(&c.Or[i][1]))
	}
	return need
}

// searched is one message under test, with what was read of it.
type searched struct {
	entry  store.FolderEntry
	seq    uint32
	data   []byte
	header *mail.Header
}

func (m *searched) mailHeader() mail.Header {
	if m.header == nil {
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.data)))
		if err != nil {
			h = textproto.Header{}
		}
		m.header = &mail.Header{Header: gomessage.Header{Header: h}}
	}
	return *m.header
}

// match reports whether m meets every criterion of c.
func (sel *selected) match(m *searched, c *goimap.SearchCriteria) bool {
	n := uint32(len(sel.msgs))
	maxUID := uint32(0)
	if n > 0 {
		maxUID = sel.msgs[n-1].UID
	}
	for _, set := range c.SeqNum {
		if goimap.IsSearchRes(set) {
			if !inUIDRanges(m.entry.UID, sel.searchRes, maxUID) {
				return false
			}
			continue
		}
		if !inRanges(m.seq, set, n) {
			return false
		}
	}
	for _, set := range c.UID {
		if goimap.IsSearchRes(set) {
			set = sel.searchRes
		}
		if !inUIDRanges(m.entry.UID, set, maxUID) {
			return false
		}
	}
	if !inDates(m.entry.CreatedAt, c.Since, c.Before) {
		return false
	}
	for _, f := range c.Flag {
		if !hasFlag(m.entry.Flags, f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if hasFlag(m.entry.Flags, f) {
			return false
		}
	}
	if (c.Larger != 0 && m.entry.Size <= c.Larger) || (c.Smaller != 0 && m.entry.Size >= c.Smaller) {
		return false
	}
	if len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		h := m.mailHeader()
		for _, f := range c.Header {
			if !matchFields(h.FieldsByKey(f.Key), f.Value) {
				return false
			}
		}
		if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
			t, err := h.Date()
			if err != nil || !inDates(t, c.SentSince, c.SentBefore) {
				return false
			}
		}
	}
	for _, s := range c.Text {
		if !matchEntity(m.data, s, true) {
			return false
		}
	}
	for _, s := range c.Body {
		if !matchEntity(m.data, s, false) {
			return false
		}
	}
	for i := range c.Not {
		if sel.match(m, &c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !sel.match(m, &c.Or[i][0]) && !sel.match(m, &c.Or[i][1]) {
			return false
		}
	}
	return true
}

func inRanges(seq uint32, set goimap.SeqSet, max uint32) bool {
	for _, r := range set {
		lo, hi := dynamic(r.Start, r.Stop, max)
		if seq >= lo && seq <= hi {
			return true
		}
	}
	return false
}

func inUIDRanges(uid uint32, set goimap.NumSet, max uint32) bool {
	us, ok := set.(goimap.UIDSet)
	if !ok {
		return false
	}
	for _, r := range us {
		lo, hi := dynamic(uint32(r.Start), uint32(r.Stop), max)
		if uid >= lo && uid <= hi {
			return true
		}
	}
	return false
}

// inDates compares dates only, without time or zone (RFC 9051 §6.4.4):
// since is inclusive, before exclusive.
func inDates(t, since, before time.Time) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && d.Before(since) {
		return false
	}
	return before.IsZero() || d.Before(before)
}

// matchFields reports whether a field contains pattern (case-insensitive);
// an empty pattern matches any message having the field.
func matchFields(fields gomessage.HeaderFields, pattern string) bool {
	if pattern == "" {
		return fields.Len() > 0
	}
	pattern = strings.ToLower(pattern)
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		if strings.Contains(strings.ToLower(v), pattern) {
			return true
		}
	}
	return false
}

// matchEntity searches the message's text parts (decoded), and its header
// fields when withHeader (TEXT).
func matchEntity(data []byte, pattern string, withHeader bool) bool {
	e, _ := gomessage.Read(bytes.NewReader(data)) // an unknown charset still yields the entity
	if e == nil {
		return false
	}
	return matchPart(e, strings.ToLower(pattern), withHeader, 0)
}

// maxPartDepth bounds how deep a search descends into nested parts.
const maxPartDepth = 16

func matchPart(e *gomessage.Entity, pattern string, withHeader bool, depth int) bool {
	if withHeader && matchFields(e.Header.Fields(), pattern) {
		return true
	}
	if depth > maxPartDepth {
		return false
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false
			}
			if matchPart(p, pattern, withHeader, depth+1) {
				return true
			}
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") && !strings.HasPrefix(t, "message/") {
		return false
	}
	b, err := io.ReadAll(e.Body)
	if err != nil && len(b) == 0 {
		return false
	}
	return bytes.Contains(bytes.ToLower(b), []byte(pattern))
}
