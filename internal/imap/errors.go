package imap

import (
	"context"
	"errors"
	"time"

	goimap "github.com/emersion/go-imap/v2"

	"mailroom/internal/store"
)

// storeTimeout bounds one store call of a command.
const storeTimeout = 30 * time.Second

// ctx is the context of a store call.
func (ss *session) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// no is a tagged NO with a response code.
func no(code goimap.ResponseCode, text string) error {
	return &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: code, Text: text}
}

// Responses a command may end with.
var (
	errNonExistent = no(goimap.ResponseCodeNonExistent, "Mailbox does not exist")
	errTryCreate   = no(goimap.ResponseCodeTryCreate, "Mailbox does not exist")
	errExists      = no(goimap.ResponseCodeAlreadyExists, "Mailbox already exists")
	errReadOnly    = no("", "Mailbox is read-only (EXAMINE); SELECT it to change it")
	errNoSelected  = &goimap.Error{Type: goimap.StatusResponseTypeBad, Code: goimap.ResponseCodeClientBug, Text: "No mailbox selected"}
)

// fail turns a store error into the command's response: a missing folder
// is NONEXISTENT (or missing, TRYCREATE), a duplicate ALREADYEXISTS, a
// full mailbox OVERQUOTA; anything else is logged and SERVERBUG.
func (ss *session) fail(cmd string, err error, missing error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		if missing != nil {
			return missing
		}
		return errNonExistent
	case errors.Is(err, store.ErrConflict):
		return errExists
	case errors.Is(err, store.ErrOverQuota):
		return no(goimap.ResponseCodeOverQuota, "Quota exceeded: the mailbox is over its storage quota; delete messages or ask an administrator to raise it (mailroom mailbox set --quota)")
	}
	ss.log.Error("command failed", "cmd", cmd, "err", err)
	return no(goimap.ResponseCodeServerBug, "Internal error; try again later")
}

// nameErr is the response to a name resolveName refused.
func nameErr(err error) error {
	if errors.Is(err, errNoSuchShared) {
		return errNonExistent
	}
	return no(goimap.ResponseCodeCannot, err.Error())
}
