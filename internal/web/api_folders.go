package web

import (
	"fmt"
	"io"
	"net/http"
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
	ID        string    `json:"id"` // the queue id; GET .../{id}/raw downloads it
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

func listFolder(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		f, err := apiFolder(r.PathValue("folder"))
		if err != nil {
			return 0, nil, err
		}
		es, err := a.Folder(r.Context(), r.PathValue("address"), f)
		if err != nil {
			return 0, nil, err
		}
		out := make([]folderEntryView, 0, len(es))
		for _, e := range es {
			out = append(out, folderEntryView{ID: e.MessageID, Size: e.Size, CreatedAt: e.CreatedAt})
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
