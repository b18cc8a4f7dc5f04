package daemon

// FlushTrace writes the trace events recorded so far and returns when
// they are stored (trace events are batched; see package trace).
func (d *Daemon) FlushTrace() { d.trace.Flush() }
