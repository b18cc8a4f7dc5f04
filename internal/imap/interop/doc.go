// Package interop tests mailroom's IMAP server with clients nobody here
// wrote: Python's imaplib (imaplib_client.py) and npm's imapflow
// (nodetest/client.mjs), against the real daemon over loopback. It holds
// no code besides its tests.
package interop
