package admin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/blob"
	"mailroom/internal/message"
	"mailroom/internal/store"
)

// Summary is what a list shows of a stored message, read from its header:
// From, To, Subject and Date, decoded (RFC 2047) for reading.
type Summary struct {
	From, To, Subject string
	Date              time.Time // zero when the header has none or it does not parse
}

// maxSummaryHeader bounds how much of a message a list reads for its
// summary: the header only, and at most this much of it.
const maxSummaryHeader = 64 << 10

// summary reads the header of the body under key. A body that cannot be
// read or parsed gives an empty Summary: a list still shows the row.
func (s *Service) summary(key string) Summary {
	f, err := s.openBlob(key)
	if err != nil {
		return Summary{}
	}
	defer f.Close()
	return summarize(bufio.NewReader(io.LimitReader(f, maxSummaryHeader)))
}

// summaries returns the Summary of each entry's body: the headers the
// database holds are read in batches (blob.Heads), the others one by one.
func (s *Service) summaries(ctx context.Context, es []store.FolderEntry) []Summary {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Blob
	}
	var heads map[string][]byte
	if s.Blobs != nil {
		heads, _ = blob.Heads(ctx, s.Blobs, keys) // what it could not read is read below
	}
	out := make([]Summary, len(es))
	br := bufio.NewReader(nil)
	for i, e := range es {
		if h, ok := heads[e.Blob]; ok {
			br.Reset(bytes.NewReader(h))
			out[i] = summarize(br)
		} else {
			out[i] = s.summary(e.Blob)
		}
	}
	return out
}

// summarize reads a message header from r into a Summary (empty when
// there is no header to read).
func summarize(r *bufio.Reader) Summary {
	h, err := textproto.ReadHeader(r)
	if err != nil && h.Len() == 0 {
		return Summary{}
	}
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	var sum Summary
	sum.From = addressText(mh, "From")
	sum.To = addressText(mh, "To")
	if sum.Subject, err = mh.Subject(); err != nil {
		sum.Subject = mh.Get("Subject")
	}
	sum.Date, _ = message.ParseDate(mh.Get("Date")) // net/mail's answer, sooner
	return sum
}

// addressText is a header's address list for reading: "Name <a@b>" or
// "a@b", comma separated; the raw value when it does not parse.
func addressText(h mail.Header, key string) string {
	as, err := h.AddressList(key)
	if err != nil || len(as) == 0 {
		return strings.TrimSpace(h.Get(key))
	}
	out := make([]string, len(as))
	for i, a := range as {
		if a.Name != "" {
			out[i] = a.Name + " <" + a.Address + ">"
		} else {
			out[i] = a.Address
		}
	}
	return strings.Join(out, ", ")
}

// matches says whether the summary's From, To or Subject contains q,
// ignoring case.
func (sum Summary) matches(q string) bool {
	q = strings.ToLower(q)
	for _, f := range []string{sum.From, sum.To, sum.Subject} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// FolderQuery selects a page of a folder listing.
type FolderQuery struct {
	// Search, when not "", keeps the messages whose From, To or Subject
	// contains it (ignoring case); at most MaxFolderSearch octets.
	Search string
	// Offset skips that many (matching) messages, newest first; Limit is
	// the page size (default and at most MaxFolderPage).
	Offset, Limit int
}

// Bounds of a folder listing.
const (
	// MaxFolderPage is the largest (and default) page of a folder listing.
	MaxFolderPage = 50
	// MaxFolderSearch bounds a search text.
	MaxFolderSearch = 200
	// FolderSearchScan is how many of a folder's newest messages a search
	// reads the header of; older ones are not searched (FolderPage.Partial).
	FolderSearchScan = 10000
)

// FolderRow is one message of a folder listing.
type FolderRow struct {
	store.FolderEntry
	Summary
}

// FolderPage is one page of a folder listing, newest first.
type FolderPage struct {
	Rows []FolderRow
	// Total is how many messages the folder holds; Matched how many
	// matched the search (Total without one).
	Total, Matched int
	// Partial is set when a search stopped after FolderSearchScan
	// messages: older ones were not searched.
	Partial bool
	// Next is the Offset of the next page, or -1 when this is the last.
	Next int
}

// FolderPage lists one page of a mailbox's folder, newest first, with
// each message's From, To and Subject; with a search, only the messages
// whose From, To or Subject contain it.
func (s *Service) FolderPage(ctx context.Context, addr string, folder store.Folder, q FolderQuery) (FolderPage, error) {
	q.Search = strings.TrimSpace(q.Search)
	if len(q.Search) > MaxFolderSearch {
		return FolderPage{}, fmt.Errorf("%w: search text of %d octets: at most %d", ErrInvalid, len(q.Search), MaxFolderSearch)
	}
	if q.Offset < 0 {
		return FolderPage{}, fmt.Errorf("%w: offset %d must not be negative", ErrInvalid, q.Offset)
	}
	if q.Limit <= 0 || q.Limit > MaxFolderPage {
		q.Limit = MaxFolderPage
	}
	mb, err := s.folderOf(ctx, addr, folder)
	if err != nil {
		return FolderPage{}, err
	}
	if q.Search == "" {
		// One row more than the page says whether a next page exists,
		// whatever the count (a separate read) says.
		es, total, err := s.st.FolderPage(ctx, mb, folder, q.Offset, q.Limit+1)
		if err != nil {
			return FolderPage{}, err
		}
		p := FolderPage{Total: total, Matched: total, Next: -1}
		if len(es) > q.Limit {
			es, p.Next = es[:q.Limit], q.Offset+q.Limit
		}
		for i, sum := range s.summaries(ctx, es) {
			p.Rows = append(p.Rows, FolderRow{es[i], sum})
		}
		return p, nil
	}
	es, total, err := s.st.FolderPage(ctx, mb, folder, 0, FolderSearchScan+1)
	if err != nil {
		return FolderPage{}, err
	}
	p := FolderPage{Total: total, Next: -1}
	if len(es) > FolderSearchScan {
		es, p.Partial = es[:FolderSearchScan], true
	}
	for len(es) > 0 {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		batch := es[:min(len(es), blob.HeadBatch)]
		es = es[len(batch):]
		for i, sum := range s.summaries(ctx, batch) {
			if !sum.matches(q.Search) {
				continue
			}
			p.Matched++
			if p.Matched > q.Offset && len(p.Rows) < q.Limit {
				p.Rows = append(p.Rows, FolderRow{batch[i], sum})
			}
		}
	}
	if q.Offset+len(p.Rows) < p.Matched {
		p.Next = q.Offset + len(p.Rows)
	}
	return p, nil
}

// QueueRow is one queue row as a list shows it: with its message's From,
// To and Subject (of the copy delivered) and the state it is reported in
// (store.ShownState: deferred once attempted).
type QueueRow struct {
	store.QueueEntry
	Summary
	Shown string
}

// QueueRows is Queue with each row's message summary and shown state.
func (s *Service) QueueRows(ctx context.Context, state, id string, limit int) ([]QueueRow, error) {
	es, err := s.Queue(ctx, state, id, limit)
	if err != nil {
		return nil, err
	}
	sums := map[string]Summary{} // rows of one message share it
	out := make([]QueueRow, len(es))
	for i, e := range es {
		sum, ok := sums[e.MessageID]
		if !ok {
			sum = s.summary(e.DeliveryBlob)
			sums[e.MessageID] = sum
		}
		out[i] = QueueRow{e, sum, store.ShownState(e.State, e.Attempts)}
	}
	return out, nil
}
