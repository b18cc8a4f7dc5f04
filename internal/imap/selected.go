package imap

import (
	"slices"
	"strings"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mailroom/internal/store"
)

// selected is the session's view of its selected folder: the messages
// the client knows, by sequence number (index + 1), as of the last
// update it was sent. imapserver's MailboxTracker keeps such views for
// changes made in one process; mailroom's arrive from other processes
// and nodes, so the view is compared with the store instead (update).
type selected struct {
	t           target
	name        string
	readOnly    bool
	uidValidity uint32
	uidNext     uint32
	changes     int64
	msgs        []store.FolderEntry
	searchRes   goimap.UIDSet // SEARCHRES ($)
	deleted     bool          // the folder was deleted by this session
}

// systemFlags are the flags every folder has (RFC 9051 §2.3.2).
var systemFlags = []goimap.Flag{goimap.FlagSeen, goimap.FlagAnswered, goimap.FlagFlagged, goimap.FlagDeleted, goimap.FlagDraft}

// Select opens a folder (EXAMINE: read-only).
func (ss *session) Select(name string, options *goimap.SelectOptions) (*goimap.SelectData, error) {
	ss.sel = nil
	t, err := ss.resolve(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	f, err := ss.s.o.Store.Folder(ctx, t.Mailbox.ID, t.Folder)
	if err != nil {
		return nil, ss.fail("SELECT", err, nil)
	}
	msgs, err := ss.s.o.Store.FolderMessages(ctx, t.Mailbox.ID, t.Folder)
	if err != nil {
		return nil, ss.fail("SELECT", err, nil)
	}
	sel := &selected{t: t, name: clientName(t.Mailbox, t.Folder, ss.mb), readOnly: options != nil && options.ReadOnly,
		uidValidity: f.UIDValidity, uidNext: f.UIDNext, changes: f.Changes, msgs: msgs}
	ss.sel = sel
	data := &goimap.SelectData{
		Flags: sel.flags(), PermanentFlags: append(slices.Clone(systemFlags), goimap.FlagWildcard),
		NumMessages: uint32(len(msgs)), UIDNext: goimap.UID(f.UIDNext), UIDValidity: f.UIDValidity,
		List: &goimap.ListData{Mailbox: sel.name, Delim: Delim},
	}
	if sel.readOnly {
		data.PermanentFlags = nil
	}
	for i, m := range msgs {
		if !hasFlag(m.Flags, goimap.FlagSeen) {
			data.FirstUnseenSeqNum = uint32(i + 1)
			break
		}
	}
	return data, nil
}

// flags are the system flags and the keywords the folder's messages carry.
func (sel *selected) flags() []goimap.Flag {
	fs := slices.Clone(systemFlags)
	for _, m := range sel.msgs {
		for _, f := range m.Flags {
			if !strings.HasPrefix(f, `\`) && !slices.Contains(fs, goimap.Flag(f)) {
				fs = append(fs, goimap.Flag(f))
			}
		}
	}
	return fs
}

// Unselect closes the selected folder.
func (ss *session) Unselect() error {
	ss.sel = nil
	return nil
}

// Poll sends the client what changed in the selected folder since its
// view: EXPUNGE (when allowed), EXISTS, and FETCH FLAGS. It is called
// after every command and on NOOP.
func (ss *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	return ss.update(w, allowExpunge)
}

// update compares the view with the store and writes the difference. A
// change that needs an EXPUNGE while none may be sent (during FETCH,
// STORE, SEARCH) waits, whole, for the next update.
func (ss *session) update(w *imapserver.UpdateWriter, allowExpunge bool) error {
	sel := ss.sel
	if sel == nil || sel.deleted {
		return nil
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	states, err := ss.s.o.Store.FolderStates(ctx, []int64{sel.t.Mailbox.ID})
	if err != nil {
		return ss.fail("NOOP", err, nil)
	}
	i := slices.IndexFunc(states, func(st store.FolderState) bool { return st.Name == sel.t.Folder })
	if i < 0 {
		sel.deleted = true // deleted by another session: nothing more to say
		return nil
	}
	if states[i].Changes == sel.changes && states[i].UIDNext == sel.uidNext {
		return nil
	}
	fresh, err := ss.s.o.Store.FolderMessages(ctx, sel.t.Mailbox.ID, sel.t.Folder)
	if err != nil {
		return ss.fail("NOOP", err, nil)
	}
	now := make(map[uint32]store.FolderEntry, len(fresh))
	for _, e := range fresh {
		now[e.UID] = e
	}
	gone := 0
	for _, m := range sel.msgs {
		if _, ok := now[m.UID]; !ok {
			gone++
		}
	}
	if gone > 0 && !allowExpunge {
		return nil
	}
	for i := len(sel.msgs) - 1; i >= 0 && gone > 0; i-- {
		if _, ok := now[sel.msgs[i].UID]; ok {
			continue
		}
		if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
		sel.msgs = slices.Delete(sel.msgs, i, i+1)
		gone--
	}
	for i, m := range sel.msgs {
		e := now[m.UID]
		if !slices.Equal(e.Flags, m.Flags) {
			sel.msgs[i].Flags = e.Flags
			if err := w.WriteMessageFlags(uint32(i+1), goimap.UID(m.UID), imapFlags(e.Flags)); err != nil {
				return err
			}
		}
	}
	last := uint32(0)
	if n := len(sel.msgs); n > 0 {
		last = sel.msgs[n-1].UID
	}
	added := false
	for _, e := range fresh {
		if e.UID > last {
			sel.msgs = append(sel.msgs, e)
			added = true
		}
	}
	if added {
		if err := w.WriteNumMessages(uint32(len(sel.msgs))); err != nil {
			return err
		}
	}
	sel.changes, sel.uidNext = states[i].Changes, states[i].UIDNext
	return nil
}

// Expunge removes the messages flagged \Deleted (of uids, for UID
// EXPUNGE) and reports them.
func (ss *session) Expunge(w *imapserver.ExpungeWriter, uids *goimap.UIDSet) error {
	sel := ss.sel
	if sel == nil {
		return errNoSelected
	}
	if sel.readOnly {
		return errReadOnly
	}
	var ranges []store.UIDRange
	if uids != nil {
		ranges = sel.ranges(sel.pick(*uids))
		if len(ranges) == 0 {
			return nil
		}
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	gone, err := ss.s.o.Store.Expunge(ctx, sel.t.Mailbox.ID, sel.t.Folder, ranges)
	if err != nil {
		return ss.fail("EXPUNGE", err, nil)
	}
	return sel.remove(gone, w.WriteExpunge)
}

// remove drops the messages of uids from the view, writing an EXPUNGE
// for each, highest sequence number first (so none shifts another).
func (sel *selected) remove(uids []uint32, write func(seq uint32) error) error {
	for i := len(sel.msgs) - 1; i >= 0; i-- {
		if !slices.Contains(uids, sel.msgs[i].UID) {
			continue
		}
		if err := write(uint32(i + 1)); err != nil {
			return err
		}
		sel.msgs = slices.Delete(sel.msgs, i, i+1)
	}
	return nil
}

// pick returns the indexes of the view's messages that set names
// (sequence numbers or UIDs, "*" and SEARCHRES's "$" included), ascending.
func (sel *selected) pick(set goimap.NumSet) []int {
	if goimap.IsSearchRes(set) {
		set = sel.searchRes
	}
	n := uint32(len(sel.msgs))
	var out []int
	switch set := set.(type) {
	case goimap.SeqSet:
		for i := range sel.msgs {
			seq := uint32(i + 1)
			for _, r := range set {
				lo, hi := dynamic(r.Start, r.Stop, n)
				if seq >= lo && seq <= hi {
					out = append(out, i)
					break
				}
			}
		}
	case goimap.UIDSet:
		maxUID := uint32(0)
		if n > 0 {
			maxUID = sel.msgs[n-1].UID
		}
		for i, m := range sel.msgs {
			for _, r := range set {
				lo, hi := dynamic(uint32(r.Start), uint32(r.Stop), maxUID)
				if m.UID >= lo && m.UID <= hi {
					out = append(out, i)
					break
				}
			}
		}
	}
	return out
}

// dynamic resolves "*" (0) in a range to max and orders it.
func dynamic(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

// ranges turns picked messages into UID ranges, merging consecutive UIDs
// only: a range never covers a UID the view does not have (a message not
// reported yet).
func (sel *selected) ranges(idx []int) []store.UIDRange {
	var out []store.UIDRange
	for _, i := range idx {
		uid := sel.msgs[i].UID
		if k := len(out) - 1; k >= 0 && out[k].Stop+1 == uid {
			out[k].Stop = uid
			continue
		}
		out = append(out, store.UIDRange{Start: uid, Stop: uid})
	}
	return out
}

// imapFlags converts stored flags.
func imapFlags(fs []string) []goimap.Flag {
	out := make([]goimap.Flag, len(fs))
	for i, f := range fs {
		out[i] = goimap.Flag(f)
	}
	return out
}
