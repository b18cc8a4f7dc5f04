package main

import (
	"context"
	"fmt"

	"mailroom/internal/admin"
	"mailroom/internal/dnscheck"
)

// printDKIM makes (or finds) a domain's DKIM keys and prints the TXT
// records to publish.
func printDKIM(ctx context.Context, s ioSet, a *admin.Service, domain, selector string) error {
	recs, created, err := a.AddDKIM(ctx, domain, selector)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(s.out, "DKIM keys made for %s (Ed25519 and RSA-2048). Mail whose From: is in %s is signed with both from now on.\n", domain, domain)
	} else {
		fmt.Fprintf(s.out, "%s already has these DKIM keys; nothing was made.\n", domain)
	}
	fmt.Fprintf(s.out, "Publish these TXT records, then check with: mailroom doctor %s\n\n", domain)
	for _, r := range recs {
		fmt.Fprintf(s.out, "%s. IN TXT %s\n", r.Name, dnscheck.Quote(r.Value))
	}
	return nil
}
