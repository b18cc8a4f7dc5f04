package admin

import (
	"fmt"
	"strings"

	"mailroom/internal/address"
)

// checkSeparator refuses a mailbox or alias address (what names it) whose
// local part holds the plus separator. Mail to alice+bot@ is alice@'s by
// plus-addressing, so a mailbox named alice+bot@ would look like a tagged
// form of another's address; policy keeps such an address its holder's
// alone, but a name that reads as someone else's is refused here.
func (s *Service) checkSeparator(what, addr string) error {
	sep := s.PlusSeparator
	if sep == "" || !strings.Contains(address.LocalOf(addr), sep) {
		return nil
	}
	return fmt.Errorf("%w: %s %s: its local part holds %q, the addresses.plus_separator, which starts a tag (alice%snews@ is mail for alice@); choose a name without %q (for mail to a tagged address, nothing is needed: it reaches the untagged mailbox)",
		ErrInvalid, what, addr, sep, sep, sep)
}
