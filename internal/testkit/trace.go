package testkit

import (
	"context"
	"time"

	"mailroom/internal/admin"
)

// TraceDetails flushes the daemon's trace and returns the detail
// (admin.TraceAttempt) of every submission attempt of the first page q
// selects (admin.TraceAttempts), newest first.
func (s *Server) TraceDetails(q admin.TraceQuery) []admin.AttemptDetail {
	s.TB.Helper()
	s.Daemon.FlushTrace()
	ctx := context.Background()
	page, err := s.Admin.TraceAttempts(ctx, q, time.Now())
	if err != nil {
		s.TB.Fatalf("trace attempts %+v: %v", q, err)
	}
	out := make([]admin.AttemptDetail, 0, len(page.Attempts))
	for _, a := range page.Attempts {
		d, err := s.Admin.TraceAttempt(ctx, a.ID)
		if err != nil {
			s.TB.Fatalf("trace attempt %d: %v", a.ID, err)
		}
		out = append(out, d)
	}
	return out
}
