package retention

import (
	"context"
	"fmt"
	"time"
)

// sweepTrace deletes trace events older than TraceRetention.
func (s *Sweeper) sweepTrace(ctx context.Context, now time.Time, r *Result) error {
	if s.TraceRetention <= 0 {
		return nil
	}
	n, err := s.Store.DeleteTraceBefore(ctx, now.Add(-s.TraceRetention))
	if err != nil {
		return fmt.Errorf("sweep trace: %w", err)
	}
	r.Traced = n
	return nil
}
