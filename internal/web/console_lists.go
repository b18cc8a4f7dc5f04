package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The console's lists of messages: the queue and a mailbox's folders,
// each row with From, To, Subject and age, as people scan a mail list;
// and a message's download.

// queueListLimit bounds the rows the queue page shows.
const queueListLimit = 500

func (c *console) queue(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Queue", "queue")
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.StateQueued
	}
	rows, err := c.a.QueueRows(r.Context(), state, r.URL.Query().Get("queue_id"), queueListLimit)
	p.Data = struct {
		State string
		Rows  []admin.QueueRow
		Limit int
		Now   time.Time
	}{r.URL.Query().Get("state"), rows, queueListLimit, c.now()}
	if err != nil {
		c.fail(w, "queue", p, err)
		return
	}
	c.render(w, http.StatusOK, "queue", p)
}

func (c *console) queueAction(w http.ResponseWriter, r *http.Request, s *session) {
	sel := admin.QueueSelection{ID: r.PostFormValue("queue_id"), Recipient: r.PostFormValue("recipient"), All: r.PostFormValue("all") == "on"}
	var n int
	var err error
	flash := ""
	switch action := r.PathValue("action"); action {
	case "retry":
		n, err = c.a.RetryQueue(r.Context(), sel)
		flash = fmt.Sprintf("Retry: %d recipient(s) due now.", n)
	case "drop":
		n, err = c.a.DropQueue(r.Context(), sel)
		flash = fmt.Sprintf("Dropped %d recipient(s); no failure notice was sent to the sender.", n)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		p := c.page(r, s, "Queue", "queue")
		c.fail(w, "queue", p, err)
		return
	}
	c.log.Info("console queue", "user", s.user, "action", r.PathValue("action"), "queue_id", sel.ID, "recipient", sel.Recipient, "all", sel.All, "rows", n)
	back(w, r, "/queue", flash)
}

// folderOf reads the folder query parameter: Sent Items unless "inbox".
func folderOf(r *http.Request) store.Folder {
	if strings.EqualFold(r.URL.Query().Get("folder"), "inbox") {
		return store.FolderInbox
	}
	return store.FolderSent
}

func (c *console) folder(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Messages", "mailboxes")
	addr, folder := r.PathValue("mailbox"), folderOf(r)
	q := r.URL.Query()
	fq := admin.FolderQuery{Search: q.Get("q")}
	var pg admin.FolderPage
	var err error
	if v := q.Get("offset"); v != "" {
		if fq.Offset, err = strconv.Atoi(v); err != nil {
			err = fmt.Errorf("%w: offset %q: want a whole number", admin.ErrInvalid, v)
		}
	}
	if err == nil {
		pg, err = c.a.FolderPage(r.Context(), addr, folder, fq)
	}
	p.Title = string(folder) + " of " + addr
	p.Data = struct {
		Mailbox string
		Folder  store.Folder
		Q       admin.FolderQuery
		Page    admin.FolderPage
		Prev    int // offset of the newer page, -1 on the first
		Scan    int
		Now     time.Time
	}{addr, folder, fq, pg, prevOffset(fq.Offset), admin.FolderSearchScan, c.now()}
	if err != nil {
		c.fail(w, "folder", p, err)
		return
	}
	c.render(w, http.StatusOK, "folder", p)
}

// prevOffset is the offset of the page before one at offset, or -1.
func prevOffset(offset int) int {
	if offset <= 0 {
		return -1
	}
	return max(offset-admin.MaxFolderPage, 0)
}

func (c *console) message(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Message", "mailboxes")
	addr, folder := r.PathValue("mailbox"), folderOf(r)
	v, err := c.a.ReadMessage(r.Context(), addr, folder, r.PathValue("id"))
	p.Data = struct {
		Mailbox string
		Folder  store.Folder
		V       admin.MessageView
	}{addr, folder, v}
	if err != nil {
		c.fail(w, "message", p, err)
		return
	}
	c.render(w, http.StatusOK, "message", p)
}

// messageRaw downloads a stored message as it is stored (the sender's
// copy keeps its Bcc), as an .eml attachment.
func (c *console) messageRaw(w http.ResponseWriter, r *http.Request, s *session) {
	body, e, err := c.a.OpenRaw(r.Context(), r.PathValue("mailbox"), folderOf(r), r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), c.status("message", err))
		return
	}
	securityHeaders(w)
	writeRaw(w, rawMessage{body: body, id: e.MessageID})
}
