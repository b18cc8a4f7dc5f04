package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// apiFolder maps the API's folder names to the store's.
func apiFolder(name string) (store.Folder, error) {
	switch name {
	case "inbox":
		return store.FolderInbox, nil
	case "sent":
		return store.FolderSent, nil
	}
	return "", fmt.Errorf("%w: folder %q: want inbox or sent", admin.ErrInvalid, name)
}

// folderEntryView is one message of a folder listing.
type folderEntryView struct {
	ID        string     `json:"id"` // the queue id; GET .../{id}/raw downloads it
	From      string     `json:"from"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Date      *time.Time `json:"date"` // the Date header; null without one
	Size      int64      `json:"size"`
	CreatedAt time.Time  `json:"created_at"`
}

// listFolder lists a page of a folder, newest first: ?q= keeps the
// messages whose From, To or Subject contain it, ?offset= skips, ?limit=
// (at most admin.MaxFolderPage) sizes the page. A page shorter than its
// limit is the last.
func listFolder(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		f, err := apiFolder(r.PathValue("folder"))
		if err != nil {
			return 0, nil, err
		}
		q := r.URL.Query()
		fq := admin.FolderQuery{Search: q.Get("q")}
		for _, p := range []struct {
			name string
			dst  *int
		}{{"offset", &fq.Offset}, {"limit", &fq.Limit}} {
			if v := q.Get(p.name); v != "" {
				if *p.dst, err = strconv.Atoi(v); err != nil {
					return 0, nil, fmt.Errorf("%w: %s %q: want a whole number", admin.ErrInvalid, p.name, v)
				}
			}
		}
		pg, err := a.FolderPage(r.Context(), r.PathValue("address"), f, fq)
		if err != nil {
			return 0, nil, err
		}
		out := make([]folderEntryView, 0, len(pg.Rows))
		for _, e := range pg.Rows {
			v := folderEntryView{ID: e.MessageID, From: e.From, To: e.To, Subject: e.Subject, Size: e.Size, CreatedAt: e.CreatedAt}
			if !e.Date.IsZero() {
				v.Date = &e.Date
			}
			out = append(out, v)
		}
		return http.StatusOK, out, nil
	}
}

// rawMessage is a handler result written as the message's bytes instead
// of JSON.
type rawMessage struct {
	body io.ReadCloser
	id   string
}

func downloadRaw(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		f, err := apiFolder(r.PathValue("folder"))
		if err != nil {
			return 0, nil, err
		}
		body, e, err := a.OpenRaw(r.Context(), r.PathValue("address"), f, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, rawMessage{body: body, id: e.MessageID}, nil
	}
}

// writeRaw sends a stored message as message/rfc822, for as long as the
// client keeps reading (steadyWriter).
func writeRaw(w http.ResponseWriter, m rawMessage) {
	defer m.body.Close()
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+m.id+`.eml"`)
	_, _ = io.Copy(newSteadyWriter(w), m.body)
}
