package web

import (
	"fmt"
	"html/template"
	"time"
)

// Times on console pages are written in UTC inside <time datetime="...">
// (RFC 3339, UTC), so a page read without script is right and says so;
// console.js rewrites each in the viewer's time zone and names the zone
// at the foot of the page.

// when is a point in time for a page: "" for the zero time.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `">` + u.Format("2006-01-02 15:04:05") + ` UTC</time>`)
}

// ago is how long before now t was, in the largest whole unit that
// reads well: "45 s", "12 min", "3 h", "2 d".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}
