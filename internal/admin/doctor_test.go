package admin

import (
	"context"
	"testing"
	"time"

	"mailroom/internal/dnscheck"
	"mailroom/internal/resolver"
)

// silentDNS is a DNS server that never answers: each lookup waits until
// its context ends.
type silentDNS struct{}

func (silentDNS) MX(ctx context.Context, _ string) ([]resolver.MX, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (silentDNS) TXT(ctx context.Context, _ string) ([]string, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestDoctor_Bounded: against a DNS server that never answers, the doctor
// returns once its timeout passes, each DNS check failed, instead of
// keeping the console's page waiting.
func TestDoctor_Bounded(t *testing.T) {
	a := testService(t)
	a.DNS, a.DoctorTimeout = silentDNS{}, 50*time.Millisecond
	a.DoctorOptions = DoctorOptions{Hostname: "mail.example.com"}
	checks, err := a.CheckDomain(context.Background(), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) < 3 {
		t.Fatalf("checks: %+v", checks)
	}
	for _, c := range checks {
		if (c.Name == "MX" || c.Name == "SPF" || c.Name == "DMARC") && c.Status != dnscheck.Failed {
			t.Errorf("%s: %s, want %s (DNS did not answer)", c.Name, c.Status, dnscheck.Failed)
		}
	}
}
