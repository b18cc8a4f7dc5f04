package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"mailroom/internal/store"
)

// JoinFlags is the stored form of flags: sorted, distinct, space separated.
func JoinFlags(flags []string) string {
	fs := slices.Clone(flags)
	slices.Sort(fs)
	return strings.Join(slices.Compact(fs), " ")
}

// SplitFlags reads flags back from their stored form; nil when none.
func SplitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// folderCols are the columns of a folder with its counts; folderFrom its
// FROM clause and folderGroup its GROUP BY.
const (
	folderCols = `f.mailbox_id, f.name, f.id, f.uid_next, f.changes, f.special_use, f.subscribed,
		COUNT(e.id), CAST(COALESCE(SUM(e.size), 0) AS BIGINT)`
	folderFrom  = ` FROM folders f LEFT JOIN folder_entries e ON e.mailbox_id = f.mailbox_id AND e.folder = f.name`
	folderGroup = ` GROUP BY f.mailbox_id, f.name, f.id, f.uid_next, f.changes, f.special_use, f.subscribed`
)

func scanFolder(r interface{ Scan(...any) error }) (store.FolderInfo, error) {
	var f store.FolderInfo
	var name string
	var id, next int64
	err := r.Scan(&f.MailboxID, &name, &id, &next, &f.Changes, &f.SpecialUse, &f.Subscribed, &f.Messages, &f.Size)
	f.Name, f.UIDValidity, f.UIDNext = store.Folder(name), uint32(id), uint32(next)
	return f, err
}

// EnsureFolder makes the folder when it is missing and returns it.
func (db *DB) EnsureFolder(ctx context.Context, mailboxID int64, name store.Folder, specialUse string) (store.FolderInfo, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, AcceptSQL[StmtFolder], mailboxID, string(name), specialUse, Nanos(db.Stamp()))
		return db.mapInsert(err, fmt.Sprintf("mailbox %d", mailboxID))
	})
	if err != nil {
		return store.FolderInfo{}, fmt.Errorf("make folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return db.Folder(ctx, mailboxID, name)
}

// CreateFolder makes a folder; store.ErrConflict if it exists.
func (db *DB) CreateFolder(ctx context.Context, mailboxID int64, name store.Folder, specialUse string) (store.FolderInfo, error) {
	_, err := db.exec(ctx, `INSERT INTO folders (mailbox_id, name, special_use, created_at) VALUES ($1, $2, $3, $4)`,
		mailboxID, string(name), specialUse, Nanos(db.Stamp()))
	if err = db.mapInsert(err, fmt.Sprintf("mailbox %d", mailboxID)); err != nil {
		return store.FolderInfo{}, fmt.Errorf("create folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return db.Folder(ctx, mailboxID, name)
}

// Folders lists the folders of a mailbox by name.
func (db *DB) Folders(ctx context.Context, mailboxID int64) ([]store.FolderInfo, error) {
	fs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.FolderInfo, error) { return scanFolder(r) },
		`SELECT `+folderCols+folderFrom+` WHERE f.mailbox_id = $1`+folderGroup+` ORDER BY f.name`, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("list folders of mailbox %d: %w", mailboxID, err)
	}
	return fs, nil
}

// Folder returns one folder; store.ErrNotFound if absent.
func (db *DB) Folder(ctx context.Context, mailboxID int64, name store.Folder) (store.FolderInfo, error) {
	f, err := scanFolder(db.sql.QueryRowContext(ctx,
		`SELECT `+folderCols+folderFrom+` WHERE f.mailbox_id = $1 AND f.name = $2`+folderGroup, mailboxID, string(name)))
	if noRows(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.FolderInfo{}, fmt.Errorf("read folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return f, nil
}

// RenameFolder renames a folder and the folders inside it.
func (db *DB) RenameFolder(ctx context.Context, mailboxID int64, old, new store.Folder) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		names, err := QueryAll(ctx, tx, func(r *sql.Rows) (string, error) {
			var n string
			return n, r.Scan(&n)
		}, `SELECT name FROM folders WHERE mailbox_id = $1 ORDER BY name`, mailboxID)
		if err != nil {
			return err
		}
		if !slices.Contains(names, string(old)) {
			return store.ErrNotFound
		}
		for _, n := range names {
			if n != string(old) && !strings.HasPrefix(n, string(old)+store.FolderSeparator) {
				continue
			}
			to := string(new) + strings.TrimPrefix(n, string(old))
			if _, err := tx.ExecContext(ctx, `UPDATE folders SET name = $3 WHERE mailbox_id = $1 AND name = $2`, mailboxID, n, to); err != nil {
				return db.mapInsert(err, "folder")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE folder_entries SET folder = $3 WHERE mailbox_id = $1 AND folder = $2`, mailboxID, n, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename folder %q of mailbox %d to %q: %w", old, mailboxID, new, err)
	}
	return nil
}

// DeleteFolder removes a folder and its entries.
func (db *DB) DeleteFolder(ctx context.Context, mailboxID int64, name store.Folder) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM folder_entries WHERE mailbox_id = $1 AND folder = $2`, mailboxID, string(name)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM folders WHERE mailbox_id = $1 AND name = $2`, mailboxID, string(name))
		if err != nil {
			return err
		}
		return oneRow(res)
	})
	if err != nil {
		return fmt.Errorf("delete folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return nil
}

// SubscribeFolder sets whether the folder is subscribed.
func (db *DB) SubscribeFolder(ctx context.Context, mailboxID int64, name store.Folder, on bool) error {
	if err := db.execOne(ctx, `UPDATE folders SET subscribed = $3 WHERE mailbox_id = $1 AND name = $2`, mailboxID, string(name), on); err != nil {
		return fmt.Errorf("subscribe folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return nil
}

// entryCols are the columns scanEntry reads.
const entryCols = `id, mailbox_id, folder, message_id, blob, size, created_at, uid, flags, appended`

func scanEntry(r interface{ Scan(...any) error }) (store.FolderEntry, error) {
	var e store.FolderEntry
	var f, flags string
	var created, uid int64
	err := r.Scan(&e.ID, &e.MailboxID, &f, &e.MessageID, &e.Blob, &e.Size, &created, &uid, &flags, &e.Appended)
	e.Folder, e.CreatedAt, e.UID, e.Flags = store.Folder(f), FromNanos(created), uint32(uid), SplitFlags(flags)
	return e, err
}

// FolderMessages lists the entries of a folder by UID.
func (db *DB) FolderMessages(ctx context.Context, mailboxID int64, name store.Folder) ([]store.FolderEntry, error) {
	es, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.FolderEntry, error) { return scanEntry(r) },
		`SELECT `+entryCols+` FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 ORDER BY uid`, mailboxID, string(name))
	if err != nil {
		return nil, fmt.Errorf("list messages of folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return es, nil
}

// uidWhere returns the condition "uid in ranges" with placeholders from
// $first, and its arguments.
func uidWhere(first int, ranges []store.UIDRange) (string, []any, error) {
	if len(ranges) > store.MaxUIDRanges {
		return "", nil, fmt.Errorf("%d UID ranges: more than %d", len(ranges), store.MaxUIDRanges)
	}
	if len(ranges) == 0 {
		return "1 = 0", nil, nil
	}
	conds := make([]string, len(ranges))
	args := make([]any, 0, 2*len(ranges))
	for i, r := range ranges {
		conds[i] = fmt.Sprintf("uid BETWEEN $%d AND $%d", first+2*i, first+2*i+1)
		args = append(args, int64(min(r.Start, r.Stop)), int64(max(r.Start, r.Stop)))
	}
	return "(" + strings.Join(conds, " OR ") + ")", args, nil
}

// entriesIn lists the folder's entries that cond (uidWhere's, its
// placeholders from $3) selects, by UID.
func entriesIn(ctx context.Context, tx *sql.Tx, mailboxID int64, name store.Folder, cond string, args []any) ([]store.FolderEntry, error) {
	return QueryAll(ctx, tx, func(r *sql.Rows) (store.FolderEntry, error) { return scanEntry(r) },
		`SELECT `+entryCols+` FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 AND `+cond+` ORDER BY uid`,
		append([]any{mailboxID, string(name)}, args...)...)
}

// touchFolder moves the folder's change counter (taking its row lock);
// store.ErrNotFound if it does not exist.
func touchFolder(ctx context.Context, tx *sql.Tx, mailboxID int64, name store.Folder) error {
	res, err := tx.ExecContext(ctx, `UPDATE folders SET changes = changes + 1 WHERE mailbox_id = $1 AND name = $2`, mailboxID, string(name))
	if err != nil {
		return err
	}
	return oneRow(res)
}

// SetFlags changes the flags of the folder's entries in uids.
func (db *DB) SetFlags(ctx context.Context, mailboxID int64, name store.Folder, uids []store.UIDRange, op store.FlagOp, flags []string) ([]store.FolderEntry, error) {
	cond, args, err := uidWhere(3, uids)
	if err != nil {
		return nil, err
	}
	var changed []store.FolderEntry
	err = db.write(ctx, func(tx *sql.Tx) error {
		changed = nil
		if err := touchFolder(ctx, tx, mailboxID, name); err != nil {
			return err
		}
		es, err := entriesIn(ctx, tx, mailboxID, name, cond, args)
		if err != nil {
			return err
		}
		for _, e := range es {
			next := ApplyFlags(e.Flags, op, flags)
			if JoinFlags(next) == JoinFlags(e.Flags) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE folder_entries SET flags = $2 WHERE id = $1`, e.ID, JoinFlags(next)); err != nil {
				return err
			}
			e.Flags = SplitFlags(JoinFlags(next))
			changed = append(changed, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set flags in folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return changed, nil
}

// ApplyFlags returns have changed by op with flags, sorted and distinct.
func ApplyFlags(have []string, op store.FlagOp, flags []string) []string {
	var out []string
	switch op {
	case store.FlagsReplace:
		out = slices.Clone(flags)
	case store.FlagsAdd:
		out = append(slices.Clone(have), flags...)
	case store.FlagsRemove:
		for _, f := range have {
			if !slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(f, g) }) {
				out = append(out, f)
			}
		}
	}
	return SplitFlags(JoinFlags(out))
}

// Expunge removes the folder's entries flagged \Deleted (in uids when
// not nil).
func (db *DB) Expunge(ctx context.Context, mailboxID int64, name store.Folder, uids []store.UIDRange) ([]uint32, error) {
	cond, args := "1 = 1", []any(nil)
	if uids != nil {
		var err error
		if cond, args, err = uidWhere(3, uids); err != nil {
			return nil, err
		}
	}
	var gone []uint32
	err := db.write(ctx, func(tx *sql.Tx) error {
		gone = nil
		if err := touchFolder(ctx, tx, mailboxID, name); err != nil {
			return err
		}
		es, err := entriesIn(ctx, tx, mailboxID, name, cond, args)
		if err != nil {
			return err
		}
		for _, e := range es {
			if !slices.Contains(e.Flags, `\Deleted`) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM folder_entries WHERE id = $1`, e.ID); err != nil {
				return err
			}
			gone = append(gone, e.UID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expunge folder %q of mailbox %d: %w", name, mailboxID, err)
	}
	return gone, nil
}

// CopyEntries copies (or moves) entries between folders.
func (db *DB) CopyEntries(ctx context.Context, mailboxID int64, from store.Folder, uids []store.UIDRange, toMailbox int64, to store.Folder, move bool, quota int64) (store.CopyResult, error) {
	cond, args, err := uidWhere(3, uids)
	if err != nil {
		return store.CopyResult{}, err
	}
	var res store.CopyResult
	err = db.write(ctx, func(tx *sql.Tx) error {
		res = store.CopyResult{}
		// Both folders' rows locked in (mailbox, name) order.
		src, dst := [2]any{mailboxID, string(from)}, [2]any{toMailbox, string(to)}
		first, second := src, dst
		if cmp.Or(cmp.Compare(toMailbox, mailboxID), cmp.Compare(to, from)) < 0 {
			first, second = dst, src
		}
		for _, f := range [][2]any{first, second} {
			if err := touchFolder(ctx, tx, f[0].(int64), store.Folder(f[1].(string))); err != nil {
				return err
			}
		}
		es, err := entriesIn(ctx, tx, mailboxID, from, cond, args)
		if err != nil {
			return err
		}
		if quota > 0 && !(move && mailboxID == toMailbox) {
			var size int64
			for _, e := range es {
				size += e.Size
			}
			if err := checkQuota(ctx, tx, toMailbox, size, quota); err != nil {
				return err
			}
		}
		for _, e := range es {
			e.Folder, e.MailboxID, e.Appended = to, toMailbox, true
			if err := execRows(ctx, tx, db.EntryRows(e.MessageID, Nanos(e.CreatedAt), []store.FolderEntry{e})); err != nil {
				return err
			}
			var uid int64
			if err := tx.QueryRowContext(ctx, `SELECT uid_next - 1 FROM folders WHERE mailbox_id = $1 AND name = $2`, toMailbox, string(to)).Scan(&uid); err != nil {
				return err
			}
			if move {
				if _, err := tx.ExecContext(ctx, `DELETE FROM folder_entries WHERE id = $1`, e.ID); err != nil {
					return err
				}
			}
			res.Source, res.Dest = append(res.Source, e.UID), append(res.Dest, uint32(uid))
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM folders WHERE mailbox_id = $1 AND name = $2`, toMailbox, string(to)).Scan(&id); err != nil {
			return err
		}
		res.UIDValidity = uint32(id)
		return nil
	})
	if err != nil {
		return store.CopyResult{}, fmt.Errorf("copy from folder %q of mailbox %d to %q of mailbox %d: %w", from, mailboxID, to, toMailbox, err)
	}
	return res, nil
}

// checkQuota returns store.ErrOverQuota when the mailbox's usage and size
// more bytes exceed quota.
func checkQuota(ctx context.Context, tx *sql.Tx, mailboxID, size, quota int64) error {
	var used int64
	if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM folder_entries WHERE mailbox_id = $1`, mailboxID).Scan(&used); err != nil {
		return fmt.Errorf("usage of mailbox %d: %w", mailboxID, err)
	}
	if used+size > quota {
		return store.ErrOverQuota
	}
	return nil
}

// AppendMessage writes an appended message and its entry.
func (db *DB) AppendMessage(ctx context.Context, a store.Appended) (store.FolderEntry, error) {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = db.Stamp()
	}
	e := a.Entry
	e.MessageID, e.Blob, e.Size, e.CreatedAt, e.Appended = a.Message.ID, a.Message.Blob, a.Message.Size, a.Message.CreatedAt, true
	rows, err := db.AcceptanceRows(store.Acceptance{Message: a.Message, Entries: []store.FolderEntry{e}, Bodies: a.Bodies}, false)
	if err == nil {
		err = db.write(ctx, func(tx *sql.Tx) error {
			if a.QuotaBytes > 0 {
				if err := checkQuota(ctx, tx, e.MailboxID, e.Size, a.QuotaBytes); err != nil {
					return err
				}
			}
			if err := execRows(ctx, tx, rows); err != nil {
				return err
			}
			var uid int64
			err := tx.QueryRowContext(ctx, `SELECT uid_next - 1 FROM folders WHERE mailbox_id = $1 AND name = $2`, e.MailboxID, string(e.Folder)).Scan(&uid)
			e.UID = uint32(uid)
			return err
		})
	}
	if err != nil {
		return store.FolderEntry{}, fmt.Errorf("append message %s to folder %q of mailbox %d: %w", a.Message.ID, e.Folder, e.MailboxID, err)
	}
	e.Flags = SplitFlags(JoinFlags(e.Flags))
	return e, nil
}

// SentCopy returns the newest entry mailroom made in the mailbox's Sent
// Items at or after since of the message with Message-ID messageID.
func (db *DB) SentCopy(ctx context.Context, mailboxID int64, messageID string, since time.Time) (store.FolderEntry, error) {
	e, err := scanEntry(db.sql.QueryRowContext(ctx,
		`SELECT e.id, e.mailbox_id, e.folder, e.message_id, e.blob, e.size, e.created_at, e.uid, e.flags, e.appended
		 FROM folder_entries e JOIN messages m ON m.id = e.message_id
		 WHERE e.mailbox_id = $1 AND e.folder = $2 AND m.message_id = $3 AND e.created_at >= $4 AND NOT e.appended
		 ORDER BY e.uid DESC LIMIT 1`, mailboxID, string(store.FolderSent), messageID, Bound(since)))
	if noRows(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.FolderEntry{}, fmt.Errorf("find sent copy of %q in mailbox %d: %w", messageID, mailboxID, err)
	}
	return e, nil
}

// FolderStates returns the state of every folder of the mailboxes.
func (db *DB) FolderStates(ctx context.Context, mailboxIDs []int64) ([]store.FolderState, error) {
	if len(mailboxIDs) == 0 {
		return nil, nil
	}
	var out []store.FolderState
	for ids := range slices.Chunk(mailboxIDs, maxUnreferenced) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		ss, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.FolderState, error) {
			var s store.FolderState
			var name string
			var next int64
			err := r.Scan(&s.MailboxID, &name, &next, &s.Changes)
			s.Name, s.UIDNext = store.Folder(name), uint32(next)
			return s, err
		}, `SELECT mailbox_id, name, uid_next, changes FROM folders WHERE mailbox_id IN (`+In(1, len(ids))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read folder states: %w", err)
		}
		out = append(out, ss...)
	}
	return out, nil
}
