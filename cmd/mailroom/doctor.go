package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"mailroom/internal/admin"
	"mailroom/internal/resolver"
)

const doctorUsage = `mailroom doctor DOMAIN [--config FILE]`

// runDoctor prints the domain's MX, SPF, DKIM and DMARC verdicts and the
// served certificate's, and fails (exit 1) when one needs an administrator.
func runDoctor(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, doctorUsage)
	}
	if len(pos) != 1 {
		return usagef("usage: %s", doctorUsage)
	}
	cfg, err := findConfig(s, *cfgPath, forAdmin)
	if err != nil {
		return err
	}
	r, err := resolver.New(cfg.Delivery.Resolver)
	if err != nil {
		return err
	}
	return withStore(ctx, cfg, func(a *admin.Service) error {
		checks, err := a.Doctor(ctx, r, pos[0], admin.DoctorOptionsOf(cfg))
		if err != nil {
			return err
		}
		problems := 0
		for _, c := range checks {
			fmt.Fprintf(s.out, "%-7s %s\n", statusWord(string(c.Status)), c.Name)
			for _, f := range c.Found {
				fmt.Fprintf(s.out, "        found:   %s\n", f)
			}
			if c.Note != "" {
				fmt.Fprintf(s.out, "        note:    %s\n", c.Note)
			}
			if c.Publish != "" {
				fmt.Fprintf(s.out, "        publish: %s\n", c.Publish)
			}
			if c.Problem() {
				problems++
			}
		}
		if problems > 0 {
			return fmt.Errorf("doctor: %d %s to fix for %s", problems, plural(problems, "problem", "problems"), pos[0])
		}
		return nil
	})
}

// statusWord upper-cases a doctor verdict for the report.
func statusWord(s string) string { return strings.ToUpper(s) }
