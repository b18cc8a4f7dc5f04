package sqlite

import (
	"strconv"
	"strings"
)

// positional returns q with its numbered parameters ($1, $2 ...) as plain
// ?, when they stand in q once each and in order; otherwise q unchanged.
// SQLite binds either, but a numbered parameter is a named one: binding it
// looks its name up (a string from C, parsed) for every value, which the
// acceptance's statements, run for every message, should not pay.
func positional(q string) string {
	var b strings.Builder
	next := 1
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(q[i+1 : j]); err != nil || n != next {
			return q
		}
		b.WriteByte('?')
		next++
		i = j - 1
	}
	return b.String()
}
