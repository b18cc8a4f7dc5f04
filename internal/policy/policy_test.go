package policy

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestLogin_Networks(t *testing.T) {
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	base := Account{Address: "printer@example.com", Domain: "example.com", Exists: true, SMTPAuth: true, Remote: netip.MustParseAddr("10.1.2.3")}
	for _, tc := range []struct {
		name    string
		mod     func(*Account)
		ok      bool
		want    Reason
		mention string
	}{
		{"no restriction", func(a *Account) {}, true, ReasonNone, ""},
		{"domain allows", func(a *Account) { a.DomainNetworks = pfx("10.0.0.0/8") }, true, ReasonNone, ""},
		{"domain refuses", func(a *Account) { a.DomainNetworks = pfx("192.168.0.0/16") }, true, ReasonNetworkNotAllowed, "mailroom domain set example.com --networks"},
		{"mailbox refuses", func(a *Account) { a.DomainNetworks = pfx("10.0.0.0/8"); a.MailboxNetworks = pfx("10.9.0.0/16") }, true, ReasonNetworkNotAllowed, "mailroom mailbox set printer@example.com --networks"},
		{"app password refuses", func(a *Account) { a.AppPassword = "scanner"; a.AppNetworks = pfx("10.1.2.4/32") }, true, ReasonNetworkNotAllowed, "app password scanner"},
		{"v4-mapped v6 client", func(a *Account) {
			a.Remote = netip.MustParseAddr("::ffff:10.1.2.3")
			a.MailboxNetworks = pfx("10.1.2.0/24")
		}, true, ReasonNone, ""},
		{"wrong password hides the network rule", func(a *Account) { a.DomainNetworks = pfx("192.168.0.0/16") }, false, ReasonBadCredentials, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.mod(&a)
			d := Login(a, tc.ok)
			if d.Reason != tc.want || d.Allow != (tc.want == ReasonNone) {
				t.Fatalf("Login = %+v, want %q", d, tc.want)
			}
			if !strings.Contains(d.Detail, tc.mention) {
				t.Errorf("detail %q lacks %q", d.Detail, tc.mention)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	user := Account{Address: "alice@example.com", Exists: true, SMTPAuth: true}
	off := user
	off.SMTPAuth = false
	shared := Account{Address: "info@example.com", Exists: true, Shared: true, SMTPAuth: true}
	for _, tc := range []struct {
		name string
		acct Account
		ok   bool
		want Reason
	}{
		{"good", user, true, ReasonNone},
		{"wrong password", user, false, ReasonBadCredentials},
		{"unknown user", Account{Address: "x@example.com"}, true, ReasonBadCredentials},
		{"smtp auth off, right password", off, true, ReasonSMTPAuthDisabled},
		{"smtp auth off, wrong password hides it", off, false, ReasonBadCredentials},
		{"shared, right password", shared, true, ReasonSharedMailbox},
		{"shared, wrong password hides it", shared, false, ReasonBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Login(tc.acct, tc.ok)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("Login = %+v, want reason %q", d, tc.want)
			}
			if tc.want == ReasonSMTPAuthDisabled && !strings.Contains(d.Detail, "--smtp-auth=on") {
				t.Errorf("detail does not name the fix: %q", d.Detail)
			}
		})
	}
}

// app is the service mailbox of the matrix: it owns an alias, holds a
// send-as grant on support@, send-on-behalf on boss@, both on ceo@, and a
// domain-wide send-as grant on @notify.example.com.
var app = Sender{
	Mailbox:       "app@example.com",
	Owned:         []string{"app.alias@example.com"},
	PlusSeparator: "+",
	Grants: []Grant{
		{GrantSendAs, "support@example.com"},
		{GrantSendOnBehalf, "boss@example.com"},
		{GrantSendOnBehalf, "ceo@example.com"},
		{GrantSendAs, "ceo@example.com"},
		{GrantSendAs, "@notify.example.com"},
		{"full-access", "shared@example.com"}, // reads it over IMAP; sends nothing
	},
}

func TestSender_Via(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want Via
	}{
		{"app@example.com", ViaOwn},
		{"app+orders@example.com", ViaOwn},
		{"app.alias@example.com", ViaOwn},
		{"app.alias+x@example.com", ViaOwn},
		{"support@example.com", ViaSendAs},
		{"support+tickets@example.com", ViaSendAs},
		{"boss@example.com", ViaSendOnBehalf},
		{"ceo@example.com", ViaSendAs}, // send-as wins
		{"anything@notify.example.com", ViaSendAs},
		{"anything@sub.notify.example.com", ViaNone},
		{"other@example.com", ViaNone},
		{"app@example.org", ViaNone},
		{"+app@example.com", ViaNone},
		{"shared@example.com", ViaNone}, // full access does not allow sending, as in Exchange
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if got, _ := app.Via(tc.addr); got != tc.want {
				t.Fatalf("Via(%q) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
	noPlus := app
	noPlus.PlusSeparator = ""
	if v, _ := noPlus.Via("app+orders@example.com"); v != ViaNone {
		t.Errorf("plus-addressing off: Via = %v", v)
	}
	dash := app
	dash.PlusSeparator = "-"
	if v, _ := dash.Via("app-orders@example.com"); v != ViaOwn {
		t.Errorf("separator '-': Via = %v", v)
	}
}

func TestEnvelopeSender(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		want       Reason
	}{
		{"own address", "app@example.com", ReasonNone},
		{"alias", "app.alias@example.com", ReasonNone},
		{"send-as", "support@example.com", ReasonNone},
		{"send-on-behalf", "boss@example.com", ReasonNone},
		{"domain grant", "x@notify.example.com", ReasonNone},
		{"someone else", "bob@example.com", ReasonSendAsDenied},
		{"other domain", "app@example.org", ReasonSendAsDenied},
		{"null sender", "", ReasonNullSender},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := EnvelopeSender(app, tc.addr)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("EnvelopeSender(%q) = %+v, want %q", tc.addr, d, tc.want)
			}
			if tc.want == ReasonSendAsDenied {
				for _, part := range []string{"app@example.com", tc.addr, "mailroom grant send-as --on " + tc.addr + " --to app@example.com"} {
					if !strings.Contains(d.Detail, part) {
						t.Errorf("detail %q lacks %q", d.Detail, part)
					}
				}
			}
		})
	}
}

func TestHeaderSenders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		from      []string
		sender    string
		want      Reason
		addSender string
		vias      []Via
	}{
		{"own", []string{"app@example.com"}, "", ReasonNone, "", []Via{ViaOwn}},
		{"own with own sender", []string{"app.alias@example.com"}, "app@example.com", ReasonNone, "", []Via{ViaOwn}},
		{"send-as adds nothing", []string{"support@example.com"}, "", ReasonNone, "", []Via{ViaSendAs}},
		{"send-as with client's own sender", []string{"support@example.com"}, "app@example.com", ReasonNone, "", []Via{ViaSendAs}},
		{"send-on-behalf adds sender", []string{"boss@example.com"}, "", ReasonNone, "app@example.com", []Via{ViaSendOnBehalf}},
		{"send-on-behalf with own sender", []string{"boss@example.com"}, "app@example.com", ReasonNone, "", []Via{ViaSendOnBehalf}},
		{"send-on-behalf with alias sender", []string{"boss@example.com"}, "app.alias@example.com", ReasonNone, "", []Via{ViaSendOnBehalf}},
		{"send-on-behalf naming a granted other", []string{"boss@example.com"}, "support@example.com", ReasonSenderMismatch, "", nil},
		{"send-on-behalf naming a stranger", []string{"boss@example.com"}, "eve@example.com", ReasonSendAsDenied, "", nil},
		{"foreign from", []string{"bob@example.com"}, "", ReasonSendAsDenied, "", nil},
		{"foreign sender", []string{"app@example.com"}, "bob@example.com", ReasonSendAsDenied, "", nil},
		{"two owned froms need sender", []string{"app@example.com", "app.alias@example.com"}, "", ReasonMultipleFromNoSnd, "", nil},
		{"two froms with sender", []string{"app@example.com", "support@example.com"}, "app@example.com", ReasonNone, "", []Via{ViaOwn, ViaSendAs}},
		{"two froms, one on behalf: sender added", []string{"support@example.com", "boss@example.com"}, "", ReasonNone, "app@example.com", []Via{ViaSendAs, ViaSendOnBehalf}},
		{"one of two froms foreign", []string{"app@example.com", "bob@example.com"}, "app@example.com", ReasonSendAsDenied, "", nil},
		{"domain grant", []string{"alerts@notify.example.com"}, "", ReasonNone, "", []Via{ViaSendAs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := HeaderSenders(app, tc.from, tc.sender)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("HeaderSenders(%v, %q) = %+v, want %q", tc.from, tc.sender, d, tc.want)
			}
			if d.AddSender != tc.addSender {
				t.Errorf("AddSender = %q, want %q", d.AddSender, tc.addSender)
			}
			if tc.vias != nil && !reflect.DeepEqual(d.Vias, tc.vias) {
				t.Errorf("Vias = %v, want %v", d.Vias, tc.vias)
			}
		})
	}
}

func TestSentCopies(t *testing.T) {
	shared := func(v Via, as, ob bool) CopyTarget {
		return CopyTarget{Mailbox: "support@example.com", Via: v, CopySentAs: as, CopySentOnBehalf: ob}
	}
	for _, tc := range []struct {
		name     string
		saveSent bool
		targets  []CopyTarget
		want     []string
	}{
		{"own only", true, nil, []string{"app@example.com"}},
		{"save-sent off", false, nil, nil},
		{"send-as, shared wants copies", true, []CopyTarget{shared(ViaSendAs, true, false)}, []string{"app@example.com", "support@example.com"}},
		{"send-as, shared wants only on-behalf copies", true, []CopyTarget{shared(ViaSendAs, false, true)}, []string{"app@example.com"}},
		{"on behalf, shared wants copies, own off", false, []CopyTarget{shared(ViaSendOnBehalf, false, true)}, []string{"support@example.com"}},
		{"two From of one shared: one copy", true, []CopyTarget{shared(ViaSendAs, true, true), shared(ViaSendOnBehalf, true, true)}, []string{"app@example.com", "support@example.com"}},
		{"own address as target follows save-sent", false, []CopyTarget{{Mailbox: "app@example.com", Via: ViaOwn}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SentCopies("app@example.com", tc.saveSent, tc.targets); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SentCopies = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuota(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		usage, quota, incoming int64
		allow                  bool
	}{
		{"unlimited", 1 << 40, 0, 1 << 20, true},
		{"below", 100, 1000, 10, true},
		{"exactly fills", 990, 1000, 10, true},
		{"would cross", 995, 1000, 10, false},
		{"at quota", 1000, 1000, 0, false},
		{"over quota", 2000, 1000, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Quota("a@example.com", tc.usage, tc.quota, tc.incoming)
			if d.Allow != tc.allow {
				t.Fatalf("Quota = %+v", d)
			}
			if !d.Allow && !strings.Contains(d.Detail, "mailroom mailbox set a@example.com --quota") {
				t.Errorf("detail lacks the fix: %q", d.Detail)
			}
		})
	}
}

func BenchmarkHeaderSenders(b *testing.B) {
	from := []string{"support@example.com"}
	for i := 0; i < b.N; i++ {
		if d := HeaderSenders(app, from, ""); !d.Allow {
			b.Fatal(d)
		}
	}
}

// TestLogin_IMAP: an IMAP login checks the IMAP switch, not SMTP AUTH, and
// says IMAP where it names the service; the rest is the same rule.
func TestLogin_IMAP(t *testing.T) {
	user := Account{Address: "alice@example.com", Exists: true, Service: ServiceIMAP, IMAP: true}
	off := user
	off.IMAP = false
	smtpOff := user
	smtpOff.SMTPAuth = false
	fenced := user
	fenced.Remote = netip.MustParseAddr("192.0.2.1")
	fenced.MailboxNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name    string
		acct    Account
		ok      bool
		want    Reason
		mention string
	}{
		{"good", user, true, ReasonNone, ""},
		{"smtp auth off does not matter", smtpOff, true, ReasonNone, ""},
		{"imap off, right password", off, true, ReasonIMAPDisabled, "--imap=on"},
		{"imap off, wrong password hides it", off, false, ReasonBadCredentials, ""},
		{"network", fenced, true, ReasonNetworkNotAllowed, "IMAP for mailbox alice@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Login(tc.acct, tc.ok)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("Login = %+v, want reason %q", d, tc.want)
			}
			if !strings.Contains(d.Detail, tc.mention) {
				t.Errorf("detail %q lacks %q", d.Detail, tc.mention)
			}
		})
	}
}
