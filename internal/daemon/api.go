package daemon

import (
	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// adminService is the admin.Service the JSON API calls: the daemon's
// store, and the configuration's default limits and data directory, as
// the CLI builds it.
func (d *Daemon) adminService() *admin.Service {
	a := admin.New(d.st)
	a.DataDir = d.cfg.DataPath()
	a.Blobs = d.blobs
	a.PlusSeparator = d.cfg.Addresses.PlusSeparator
	l := d.cfg.Limits
	a.Limits = store.Limits{Concurrent: l.Concurrent, MessagesPerMinute: l.MessagesPerMinute,
		RecipientsPerMessage: l.RecipientsPerMessage, RecipientsPerDay: l.RecipientsPerDay}
	return a
}
