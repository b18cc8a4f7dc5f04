package policy

import (
	"fmt"

	"mailroom/internal/unit"
)

// Quota decides whether a mailbox using usage bytes of its quota may store
// incoming more bytes. A quota of 0 is unlimited. At or over quota every
// submission is refused; below it, one that would cross the quota is too.
func Quota(mailbox string, usage, quota, incoming int64) Decision {
	if quota <= 0 || (usage < quota && usage+incoming <= quota) {
		return Allowed()
	}
	return Deny(ReasonOverQuota, fmt.Sprintf("mailbox %s uses %s of its %s storage quota (this message: %s); delete Sent Items, or ask an administrator to raise it: mailroom mailbox set %s --quota SIZE",
		mailbox, unit.Size(usage), unit.Size(quota), unit.Size(incoming), mailbox))
}
