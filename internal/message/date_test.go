package message

import (
	"net/mail"
	"testing"
)

// dateCases are Date: values, well formed and not; ParseDate must agree
// with net/mail.ParseDate on each.
var dateCases = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04:05 +0000",
	"Tue, 31 Nov 2026 17:05:35 +0100", // no such day
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700 (PDT)",
	" Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700 ",
	"Mon,  2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006\r\n 15:04:05 -0700",
	"Thu, 20 Nov 1997 09:55:06 MDT",
	"Thu, 20 Nov 1997 09:55:06 GMT",
	"Mon, 2 Jan 2006 5:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -07:00",
	"Mon, 2 Jan 2006 15:04:05 +9999",
	"mon, 2 jan 2006 15:04:05 -0700",
	"Monday, 2 January 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2006-01-02T15:04:05Z",
	"",
	"garbage",
}

func TestParseDate_AgreesWithNetMail(t *testing.T) {
	for _, v := range dateCases {
		t.Run(v, func(t *testing.T) { sameAsNetMail(t, v) })
	}
}

// TestParseDate_RFC5322LayoutAllocatesLittle: the layout nearly every
// message uses is parsed without net/mail's tries (over 20 allocations).
func TestParseDate_RFC5322LayoutAllocatesLittle(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseDate("Mon, 2 Jan 2006 15:04:05 -0700"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Fatalf("ParseDate of an RFC 5322 date: %v allocations, want at most 2", allocs)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, v := range dateCases {
		f.Add(v)
	}
	f.Fuzz(sameAsNetMail)
}

func sameAsNetMail(t *testing.T, v string) {
	got, gotErr := ParseDate(v)
	want, wantErr := mail.ParseDate(v)
	if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) || got.String() != want.String() {
		t.Fatalf("ParseDate(%q) = %v, %v; net/mail: %v, %v", v, got, gotErr, want, wantErr)
	}
}
