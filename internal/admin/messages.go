package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"mailroom/internal/store"
)

// folderOf returns the id of the mailbox addr, whose folder (Inbox or
// Sent Items) is to be read.
func (s *Service) folderOf(ctx context.Context, addr string, folder store.Folder) (int64, error) {
	if folder != store.FolderInbox && folder != store.FolderSent {
		return 0, fmt.Errorf("%w: folder %q: want %q or %q", ErrInvalid, folder, store.FolderInbox, store.FolderSent)
	}
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return 0, err
	}
	return m.ID, nil
}

// findEntry returns the newest entry of a mailbox's folder naming message
// id (the queue id).
func (s *Service) findEntry(ctx context.Context, addr string, folder store.Folder, id string) (store.FolderEntry, error) {
	mb, err := s.folderOf(ctx, addr, folder)
	if err != nil {
		return store.FolderEntry{}, err
	}
	e, err := s.st.FindFolderEntry(ctx, mb, folder, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, fmt.Errorf("message %s in %s of %s %w", id, folder, addr, ErrNotFound)
	}
	return e, err
}

// MessageView is a stored message taken apart for reading.
type MessageView struct {
	Entry   store.FolderEntry
	Headers [][2]string // in order, decoded
	Text    string      // the first text/plain part
	HTML    string      // the first text/html part (shown sandboxed)
	// Attachments are the other parts, by file name and type.
	Attachments []Attachment
}

// Attachment is one attached part.
type Attachment struct {
	Name, Type string
	Size       int64
}

// maxViewPart bounds how much of one text part is read for viewing.
const maxViewPart = 4 << 20

// ReadMessage returns the entry id (store.FolderEntry.MessageID, the queue
// id) of a mailbox's folder, parsed.
func (s *Service) ReadMessage(ctx context.Context, addr string, folder store.Folder, id string) (MessageView, error) {
	var v MessageView
	var err error
	if v.Entry, err = s.findEntry(ctx, addr, folder, id); err != nil {
		return v, err
	}
	f, err := s.openBlob(v.Entry.Blob)
	if err != nil {
		return v, fmt.Errorf("open message %s: %w", id, err)
	}
	defer f.Close()
	mr, err := mail.CreateReader(f)
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return v, fmt.Errorf("parse message %s: %w", id, err)
	}
	for fs := mr.Header.Fields(); fs.Next(); {
		val, err := fs.Text()
		if err != nil {
			val = fs.Value()
		}
		v.Headers = append(v.Headers, [2]string{fs.Key(), val})
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !gomessage.IsUnknownCharset(err) {
			return v, fmt.Errorf("parse message %s: %w", id, err)
		}
		if p == nil {
			break
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			switch {
			case ct == "text/html" && v.HTML == "":
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxViewPart))
				v.HTML = string(b)
			case (ct == "text/plain" || ct == "") && v.Text == "":
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxViewPart))
				v.Text = string(b)
			default:
				n, _ := io.Copy(io.Discard, p.Body)
				v.Attachments = append(v.Attachments, Attachment{Name: "(inline)", Type: ct, Size: n})
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			ct, _, _ := h.ContentType()
			n, _ := io.Copy(io.Discard, p.Body)
			v.Attachments = append(v.Attachments, Attachment{Name: strings.TrimSpace(name), Type: ct, Size: n})
		}
	}
	return v, nil
}

// OpenRaw returns the stored message id in a mailbox's folder, as bytes
// (message/rfc822), with its folder entry. The caller closes the reader.
func (s *Service) OpenRaw(ctx context.Context, addr string, folder store.Folder, id string) (io.ReadCloser, store.FolderEntry, error) {
	e, err := s.findEntry(ctx, addr, folder, id)
	if err != nil {
		return nil, e, err
	}
	f, err := s.openBlob(e.Blob)
	if err != nil {
		return nil, e, fmt.Errorf("open message %s: %w", id, err)
	}
	return f, e, nil
}

// openBlob opens a stored body.
func (s *Service) openBlob(key string) (io.ReadCloser, error) {
	if s.Blobs == nil {
		return nil, errors.New("message bodies are not available here")
	}
	return s.Blobs.Open(key)
}
