package policy

import "testing"

// TestSender_ViaPlusAddressing is the ownership rule of plus-addressing: a
// mailbox owns its address, its aliases and the tagged forms of those; never
// the base of its own (tagged) name, nor an address the directory holds
// for someone else. Grants cover the granted address, its tagged forms
// and nothing more.
func TestSender_ViaPlusAddressing(t *testing.T) {
	const sep = "+"
	for _, tc := range []struct {
		name string
		s    Sender
		addr string
		want Via
	}{
		// The attack of issue 13: a tagged mailbox name is not a tag of
		// the base.
		{"tagged mailbox, base", Sender{Mailbox: "alice+bot@example.com", PlusSeparator: sep}, "alice@example.com", ViaNone},
		{"tagged mailbox, base's other tag", Sender{Mailbox: "alice+bot@example.com", PlusSeparator: sep}, "alice+news@example.com", ViaNone},
		{"tagged mailbox, itself", Sender{Mailbox: "alice+bot@example.com", PlusSeparator: sep}, "alice+bot@example.com", ViaOwn},
		{"dash separator, base", Sender{Mailbox: "mary-jane@example.com", PlusSeparator: "-"}, "mary@example.com", ViaNone},
		{"dash separator, itself", Sender{Mailbox: "mary-jane@example.com", PlusSeparator: "-"}, "mary-jane@example.com", ViaOwn},
		{"tagged alias, base", Sender{Mailbox: "app@example.com", Owned: []string{"sales+eu@example.com"}, PlusSeparator: sep}, "sales@example.com", ViaNone},
		{"tagged alias, itself", Sender{Mailbox: "app@example.com", Owned: []string{"sales+eu@example.com"}, PlusSeparator: sep}, "sales+eu@example.com", ViaOwn},

		// What a mailbox legitimately owns.
		{"own address", Sender{Mailbox: "alice@example.com", PlusSeparator: sep}, "alice@example.com", ViaOwn},
		{"own tagged form", Sender{Mailbox: "alice@example.com", PlusSeparator: sep}, "alice+news@example.com", ViaOwn},
		{"alias tagged form", Sender{Mailbox: "alice@example.com", Owned: []string{"team@example.com"}, PlusSeparator: sep}, "team+x@example.com", ViaOwn},
		{"plus-addressing off", Sender{Mailbox: "alice@example.com"}, "alice+news@example.com", ViaNone},
		{"leading separator is no tag", Sender{Mailbox: "alice@example.com", PlusSeparator: sep}, "+alice@example.com", ViaNone},

		// An address the directory holds for another mailbox (made before
		// the separator was refused) is that mailbox's, not a tagged form.
		{"claimed tagged form of own address", Sender{Mailbox: "alice@example.com", PlusSeparator: sep, Claimed: []string{"alice+bot@example.com"}}, "alice+bot@example.com", ViaNone},
		{"unclaimed tag beside a claimed one", Sender{Mailbox: "alice@example.com", PlusSeparator: sep, Claimed: []string{"alice+bot@example.com"}}, "alice+news@example.com", ViaOwn},
		{"claimed, but its own", Sender{Mailbox: "alice+bot@example.com", PlusSeparator: sep, Claimed: []string{"alice+bot@example.com"}}, "alice+bot@example.com", ViaOwn},

		// Grants: the granted address and its tagged forms.
		{"grant, tagged form", Sender{Mailbox: "app@example.com", PlusSeparator: sep, Grants: []Grant{{GrantSendAs, "bob@example.com"}}}, "bob+x@example.com", ViaSendAs},
		{"grant on a tagged address, exact", Sender{Mailbox: "app@example.com", PlusSeparator: sep, Grants: []Grant{{GrantSendAs, "bob+x@example.com"}}}, "bob+x@example.com", ViaSendAs},
		{"grant on a tagged address, base", Sender{Mailbox: "app@example.com", PlusSeparator: sep, Grants: []Grant{{GrantSendAs, "bob+x@example.com"}}}, "bob@example.com", ViaNone},
		{"grant, claimed tagged form", Sender{Mailbox: "app@example.com", PlusSeparator: sep, Claimed: []string{"bob+x@example.com"}, Grants: []Grant{{GrantSendAs, "bob@example.com"}}}, "bob+x@example.com", ViaNone},
		{"domain grant covers claimed", Sender{Mailbox: "app@example.com", PlusSeparator: sep, Claimed: []string{"bob+x@example.com"}, Grants: []Grant{{GrantSendOnBehalf, "@example.com"}}}, "bob+x@example.com", ViaSendOnBehalf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := tc.s.Via(tc.addr); got != tc.want {
				t.Fatalf("%s: Via(%q) = %v, want %v", tc.s.Mailbox, tc.addr, got, tc.want)
			}
			d := EnvelopeSender(tc.s, tc.addr)
			if d.Allow != (tc.want != ViaNone) {
				t.Fatalf("EnvelopeSender(%q) = %+v", tc.addr, d)
			}
			if h := HeaderSenders(tc.s, []string{tc.addr}, ""); h.Allow != (tc.want != ViaNone) {
				t.Fatalf("HeaderSenders(%q) = %+v", tc.addr, h)
			}
		})
	}
}
