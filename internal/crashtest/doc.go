// Package crashtest owns the crash test of the 250 promise: it builds
// cmd/mailroom, runs `mailroom serve` as a child process under concurrent
// submissions, kills it with SIGKILL at random moments, restarts it, and
// then checks the store: every message that got a 250 is there exactly
// once, with its queue rows and its body, and nothing else is half there.
//
// The test is behind the "crash" build tag (it builds and runs a binary):
//
//	go test -tags crash -v -run TestCrash ./internal/crashtest/                          # 20 kills
//	MAILROOM_CRASH_KILLS=200 go test -tags crash -v -timeout 30m ./internal/crashtest/ # longer
//
// MAILROOM_CRASH_SEED replays the random schedule of an earlier run.
package crashtest
