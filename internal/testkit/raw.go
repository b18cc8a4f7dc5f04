package testkit

import "time"

// TryWrite writes raw bytes and returns the error instead of failing the
// test, for clients that keep writing while the server may hang up (and for
// use from goroutines other than the test's).
func (c *Conn) TryWrite(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(b)
	return err
}
