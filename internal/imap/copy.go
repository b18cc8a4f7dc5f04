package imap

import (
	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mailroom/internal/store"
)

// Copy answers COPY: the entries get new UIDs in the target (COPYUID),
// counted against the target mailbox's quota (OVERQUOTA).
func (ss *session) Copy(numSet goimap.NumSet, dest string) (*goimap.CopyData, error) {
	res, _, err := ss.copy("COPY", numSet, dest, false)
	return res, err
}

// Move answers MOVE (RFC 6851): a copy and an expunge in one transaction.
func (ss *session) Move(w *imapserver.MoveWriter, numSet goimap.NumSet, dest string) error {
	if ss.sel != nil && ss.sel.readOnly {
		return errReadOnly
	}
	data, moved, err := ss.copy("MOVE", numSet, dest, true)
	if err != nil || data == nil {
		return err
	}
	if err := w.WriteCopyData(data); err != nil {
		return err
	}
	return ss.sel.remove(moved, w.WriteExpunge)
}

// copy copies (or moves) the picked messages to dest and returns the
// COPYUID data and the source UIDs.
func (ss *session) copy(cmd string, numSet goimap.NumSet, dest string, move bool) (*goimap.CopyData, []uint32, error) {
	sel := ss.sel
	if sel == nil {
		return nil, nil, errNoSelected
	}
	to, err := ss.resolve(dest)
	if err != nil {
		if err == errNonExistent {
			return nil, nil, errTryCreate
		}
		return nil, nil, err
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	if _, err := ss.s.o.Store.Folder(ctx, to.Mailbox.ID, to.Folder); err != nil {
		return nil, nil, ss.fail(cmd, err, errTryCreate)
	}
	ranges := sel.ranges(sel.pick(numSet))
	if len(ranges) > store.MaxUIDRanges {
		return nil, nil, errTooManyRanges
	}
	if len(ranges) == 0 { // OK, nothing copied (as Dovecot)
		return nil, nil, nil
	}
	res, err := ss.s.o.Store.CopyEntries(ctx, sel.t.Mailbox.ID, sel.t.Folder, ranges, to.Mailbox.ID, to.Folder, move, to.Mailbox.QuotaBytes)
	if err != nil {
		return nil, nil, ss.fail(cmd, err, errTryCreate)
	}
	data := &goimap.CopyData{UIDValidity: res.UIDValidity}
	for i := range res.Source {
		data.SourceUIDs.AddNum(goimap.UID(res.Source[i]))
		data.DestUIDs.AddNum(goimap.UID(res.Dest[i]))
	}
	return data, res.Source, nil
}
