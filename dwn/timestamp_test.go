package dwn

import (
	"regexp"
	"testing"
	"time"
)

// timestampRE is the pattern of the dwn-sdk-js 0.5.2 JSON schemas.
var timestampRE = regexp.MustCompile(`^\d{4}-[0-1]\d-[0-3]\dT(?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)\.\d{6}Z$`)

func TestTimestamp(t *testing.T) {
	loc := time.FixedZone("x", 5*3600+30*60)
	tm := time.Date(2026, 11, 26, 3, 49, 39, 35177999, loc)
	if got, want := Timestamp(tm), "2026-11-25T22:19:39.035177Z"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := Timestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2024-01-02T03:04:05.000000Z" {
		t.Fatalf("zero micros: %s", got)
	}
	if !ValidTimestamp(Timestamp(time.Now())) {
		t.Fatal("Timestamp(now) is not valid")
	}
}

func TestValidTimestamp(t *testing.T) {
	cases := []string{
		"2026-11-25T22:19:39.035177Z",
		"2024-12-31T23:59:60.000000Z",
		"2024-19-39T29:59:59.999999Z",
		"0000-00-00T00:00:00.000000Z",
		"2024-12-31T24:59:60.000000Z",
		"2024-12-31T23:58:60.000000Z",
		"2024-12-31T23:60:00.000000Z",
		"2024-12-31T39:00:00.000000Z",
		"2024-20-01T00:00:00.000000Z",
		"2024-01-40T00:00:00.000000Z",
		"2026-11-25T22:19:39.035177",
		"2026-11-25T22:19:39.03517Z",
		"2026-11-25T22:19:39.0351770Z",
		"2026-11-25 22:19:39.035177Z",
		"2026-11-25T22:19:39Z",
		"2026-11-25T22:19:39.035177+00:00",
		"2026-11-25T22:19:39.035177z",
		"２026-11-25T22:19:39.035177Z",
		"",
	}
	for _, s := range cases {
		if got, want := ValidTimestamp(s), timestampRE.MatchString(s); got != want {
			t.Errorf("ValidTimestamp(%q) = %v, the schema pattern says %v", s, got, want)
		}
	}
}

func FuzzValidTimestamp(f *testing.F) {
	f.Add("2026-11-25T22:19:39.035177Z")
	f.Add("2024-12-31T23:59:60.000000Z")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidTimestamp(s), timestampRE.MatchString(s); got != want {
			t.Fatalf("ValidTimestamp(%q) = %v, the schema pattern says %v", s, got, want)
		}
	})
}
