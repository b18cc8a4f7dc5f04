package policy

import "fmt"

// Quota decides whether a mailbox using usage bytes of its quota may store
// incoming more bytes. A quota of 0 is unlimited. At or over quota every
// submission is refused; below it, one that would cross the quota is too.
func Quota(mailbox string, usage, quota, incoming int64) Decision {
	if quota <= 0 || (usage < quota && usage+incoming <= quota) {
		return Allowed()
	}
	return Deny(ReasonOverQuota, fmt.Sprintf("mailbox %s uses %s of its %s storage quota (this message: %s); delete Sent Items, or ask an administrator to raise it: mailroom mailbox set %s --quota SIZE",
		mailbox, HumanBytes(usage), HumanBytes(quota), HumanBytes(incoming), mailbox))
}

// HumanBytes formats a byte count with binary units (1.5 MiB).
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
