package delivery

import (
	"fmt"
	"io"

	"mailroom/internal/queue"
)

// local delivers into Inboxes: the queue writes the entries when it
// records the results, each with the size of the copy it names (env.Blob,
// which is not env.Size when the sender's copy had a Bcc:).
func (d *Deliverer) local(env queue.Envelope, rcpts []string) []queue.Result {
	out := make([]queue.Result, len(rcpts))
	size, err := d.blobSize(env.Blob)
	if err != nil {
		d.log.Error("read message for local delivery", "queue_id", env.QueueID, "err", err)
		for i := range out {
			out[i] = queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.3.0", Text: "local error reading the message: " + err.Error()}
		}
		return out
	}
	snap := d.o.Directory.Snapshot()
	for i, r := range rcpts {
		// Resolve, as the RCPT check does: an alias, a plus-address or
		// postmaster@ (a DSN's copy to delivery.postmaster) reaches its
		// mailbox.
		if mb, ok := snap.Resolve(r); ok {
			out[i] = queue.Result{Status: queue.Delivered, Code: 250, Enhanced: "2.0.0", Text: "delivered to the Inbox of " + r, Inbox: mb.ID, Size: size}
		} else {
			out[i] = queue.Result{Status: queue.Permanent, Code: 550, Enhanced: "5.1.1", Text: "no mailbox " + r + " here"}
		}
	}
	return out
}

// blobSize is the size of the blob named key: its end when the reader can
// seek (a file), else the bytes read through (a body in the database).
func (d *Deliverer) blobSize(key string) (int64, error) {
	r, err := d.o.Blobs.Open(key)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if s, ok := r.(io.Seeker); ok {
		n, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, fmt.Errorf("size of %s: %w", key, err)
		}
		return n, nil
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", key, err)
	}
	return n, nil
}
