package imap

import (
	"context"
	"slices"
	"strings"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mailroom/internal/store"
)

// resolve maps a client's folder name to its folder.
func (ss *session) resolve(name string) (target, error) {
	t, err := resolveName(name, ss.mb, ss.shared)
	if err != nil {
		return target{}, nameErr(err)
	}
	return t, nil
}

// protected reports whether f is a folder every mailbox keeps.
func protected(f store.Folder) bool { return f == store.FolderInbox || f == store.FolderSent }

// specialUses are the special-use attributes CREATE accepts (RFC 6154);
// \All and \Flagged name virtual folders mailroom does not have.
var specialUses = []goimap.MailboxAttr{goimap.MailboxAttrArchive, goimap.MailboxAttrDrafts, goimap.MailboxAttrJunk,
	goimap.MailboxAttrSent, goimap.MailboxAttrTrash, goimap.MailboxAttrImportant}

// Create makes a folder and, as Dovecot does, its missing parents.
func (ss *session) Create(name string, options *goimap.CreateOptions) error {
	name = strings.TrimSuffix(name, string(Delim)) // RFC 9051 §6.3.4
	t, err := ss.resolve(name)
	if err != nil {
		return err
	}
	use := ""
	if options != nil && len(options.SpecialUse) > 0 {
		if len(options.SpecialUse) > 1 || !slices.Contains(specialUses, options.SpecialUse[0]) {
			return no("USEATTR", "Unsupported special-use attribute; mailroom takes one of \\Archive \\Drafts \\Junk \\Sent \\Trash \\Important")
		}
		use = string(options.SpecialUse[0])
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	if err := ss.ensureParents(ctx, t); err != nil {
		return ss.fail("CREATE", err, nil)
	}
	if _, err := ss.s.o.Store.CreateFolder(ctx, t.Mailbox.ID, t.Folder, use); err != nil {
		return ss.fail("CREATE", err, nil)
	}
	return nil
}

// ensureParents makes the folders above t that are missing.
func (ss *session) ensureParents(ctx context.Context, t target) error {
	levels := strings.Split(string(t.Folder), string(Delim))
	for i := 1; i < len(levels); i++ {
		if _, err := ss.s.o.Store.EnsureFolder(ctx, t.Mailbox.ID, store.Folder(strings.Join(levels[:i], string(Delim))), ""); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes a folder and its messages. The Inbox and Sent Items stay,
// and, as Dovecot, a folder with folders inside is refused.
func (ss *session) Delete(name string) error {
	t, err := ss.resolve(name)
	if err != nil {
		return err
	}
	if protected(t.Folder) {
		return no(goimap.ResponseCodeCannot, "INBOX and Sent Items cannot be deleted")
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	fs, err := ss.s.o.Store.Folders(ctx, t.Mailbox.ID)
	if err != nil {
		return ss.fail("DELETE", err, nil)
	}
	for _, f := range fs {
		if strings.HasPrefix(string(f.Name), string(t.Folder)+string(Delim)) {
			return no(goimap.ResponseCodeHasChildren, "Mailbox has children, delete them first")
		}
	}
	if err := ss.s.o.Store.DeleteFolder(ctx, t.Mailbox.ID, t.Folder); err != nil {
		return ss.fail("DELETE", err, nil)
	}
	if ss.sel != nil && ss.sel.t.Mailbox.ID == t.Mailbox.ID && ss.sel.t.Folder == t.Folder {
		ss.sel.deleted = true
	}
	return nil
}

// Rename renames a folder and the folders inside it, within one mailbox.
// Unlike Dovecot, RENAME INBOX (which moves its messages) is refused, and
// so is renaming Sent Items.
func (ss *session) Rename(oldName, newName string, _ *goimap.RenameOptions) error {
	from, err := ss.resolve(oldName)
	if err != nil {
		return err
	}
	to, err := ss.resolve(strings.TrimSuffix(newName, string(Delim)))
	if err != nil {
		return err
	}
	if protected(from.Folder) {
		return no(goimap.ResponseCodeCannot, "INBOX and Sent Items cannot be renamed")
	}
	if from.Mailbox.ID != to.Mailbox.ID {
		return no(goimap.ResponseCodeCannot, "A folder cannot be renamed into another mailbox")
	}
	if strings.HasPrefix(string(to.Folder)+string(Delim), string(from.Folder)+string(Delim)) {
		return no(goimap.ResponseCodeCannot, "A folder cannot be renamed inside itself")
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	if err := ss.ensureParents(ctx, to); err != nil {
		return ss.fail("RENAME", err, nil)
	}
	if err := ss.s.o.Store.RenameFolder(ctx, from.Mailbox.ID, from.Folder, to.Folder); err != nil {
		return ss.fail("RENAME", err, nil)
	}
	return nil
}

// Subscribe marks a folder subscribed.
func (ss *session) Subscribe(name string) error { return ss.subscribe(name, true) }

// Unsubscribe marks a folder not subscribed.
func (ss *session) Unsubscribe(name string) error { return ss.subscribe(name, false) }

func (ss *session) subscribe(name string, on bool) error {
	t, err := ss.resolve(name)
	if err != nil {
		return err
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	if err := ss.s.o.Store.SubscribeFolder(ctx, t.Mailbox.ID, t.Folder, on); err != nil {
		return ss.fail("SUBSCRIBE", err, nil)
	}
	return nil
}

// listItem is one name LIST may return: a folder, or a level above
// folders that is not one (\Noselect: "Shared", "Shared/support@...", a
// parent left by a rename).
type listItem struct {
	name string
	info *store.FolderInfo // nil: \Noselect
}

// listing returns every name of the session's namespaces, sorted, INBOX
// first, with the levels above them.
func (ss *session) listing() ([]listItem, error) {
	ctx, cancel := ss.ctx()
	defer cancel()
	var items []listItem
	seen := map[string]bool{}
	add := func(name string, info *store.FolderInfo) {
		for i := range len(name) {
			if name[i] == byte(Delim) && !seen[name[:i]] {
				seen[name[:i]] = true
				items = append(items, listItem{name: name[:i]})
			}
		}
		if !seen[name] {
			seen[name] = true
			items = append(items, listItem{name: name, info: info})
		}
	}
	for _, m := range append([]*store.Mailbox{ss.mb}, ss.shared...) {
		fs, err := ss.s.o.Store.Folders(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		for i := range fs {
			add(clientName(m, fs[i].Name, ss.mb), &fs[i])
		}
	}
	// A level added before the folder of its name: the folder wins.
	for i := range items {
		if items[i].info == nil {
			for j := range items {
				if items[j].info != nil && items[j].name == items[i].name {
					items[i] = items[j]
				}
			}
		}
	}
	slices.SortFunc(items, func(a, b listItem) int {
		switch {
		case a.name == inboxName:
			return -1
		case b.name == inboxName:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return slices.CompactFunc(items, func(a, b listItem) bool { return a.name == b.name }), nil
}

// List answers LIST and LSUB, with the special-use (RFC 6154), children
// and subscription attributes and LIST-STATUS.
func (ss *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *goimap.ListOptions) error {
	if len(patterns) == 1 && patterns[0] == "" { // the hierarchy delimiter (RFC 9051 §6.3.9)
		return w.WriteList(&goimap.ListData{Attrs: []goimap.MailboxAttr{goimap.MailboxAttrNoSelect}, Delim: Delim})
	}
	items, err := ss.listing()
	if err != nil {
		return ss.fail("LIST", err, nil)
	}
	for i, it := range items {
		if !slices.ContainsFunc(patterns, func(p string) bool { return imapserver.MatchList(it.name, Delim, ref, p) }) {
			continue
		}
		subscribed := it.info != nil && it.info.Subscribed
		if options.SelectSubscribed && !subscribed {
			continue
		}
		if options.SelectSpecialUse && (it.info == nil || it.info.SpecialUse == "") {
			continue
		}
		data := &goimap.ListData{Mailbox: it.name, Delim: Delim}
		if it.info == nil {
			data.Attrs = append(data.Attrs, goimap.MailboxAttrNoSelect)
		}
		if i+1 < len(items) && strings.HasPrefix(items[i+1].name, it.name+string(Delim)) {
			data.Attrs = append(data.Attrs, goimap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, goimap.MailboxAttrHasNoChildren)
		}
		if subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
			data.Attrs = append(data.Attrs, goimap.MailboxAttrSubscribed)
		}
		if it.info != nil && it.info.SpecialUse != "" {
			data.Attrs = append(data.Attrs, goimap.MailboxAttr(it.info.SpecialUse))
		}
		if options.ReturnStatus != nil && it.info != nil {
			if data.Status, err = ss.status(it.name, *it.info, options.ReturnStatus); err != nil {
				return err
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// Status answers STATUS.
func (ss *session) Status(name string, options *goimap.StatusOptions) (*goimap.StatusData, error) {
	t, err := ss.resolve(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	f, err := ss.s.o.Store.Folder(ctx, t.Mailbox.ID, t.Folder)
	if err != nil {
		return nil, ss.fail("STATUS", err, nil)
	}
	return ss.status(name, f, options)
}

// status is the STATUS data of folder f, named name.
func (ss *session) status(name string, f store.FolderInfo, options *goimap.StatusOptions) (*goimap.StatusData, error) {
	data := &goimap.StatusData{Mailbox: name, UIDNext: goimap.UID(f.UIDNext), UIDValidity: f.UIDValidity}
	num := func(n int) *uint32 { v := uint32(n); return &v }
	if options.NumMessages {
		data.NumMessages = num(f.Messages)
	}
	if options.NumRecent {
		data.NumRecent = num(0)
	}
	if options.Size {
		data.Size = &f.Size
	}
	if options.AppendLimit {
		data.AppendLimit = num(int(ss.AppendLimit()))
	}
	if options.NumUnseen || options.NumDeleted {
		ctx, cancel := ss.ctx()
		defer cancel()
		es, err := ss.s.o.Store.FolderMessages(ctx, f.MailboxID, f.Name)
		if err != nil {
			return nil, ss.fail("STATUS", err, nil)
		}
		var unseen, deleted int
		for _, e := range es {
			if !hasFlag(e.Flags, goimap.FlagSeen) {
				unseen++
			}
			if hasFlag(e.Flags, goimap.FlagDeleted) {
				deleted++
			}
		}
		if options.NumUnseen {
			data.NumUnseen = num(unseen)
		}
		if options.NumDeleted {
			data.NumDeleted = num(deleted)
		}
	}
	return data, nil
}

// hasFlag reports whether flags holds f (flags compare without case).
func hasFlag(flags []string, f goimap.Flag) bool {
	return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(g, string(f)) })
}
