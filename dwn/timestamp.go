package dwn

import "time"

// TimestampLayout is the time.Format layout of every DWN timestamp
// (messageTimestamp, dateCreated, datePublished, grant dateExpires): UTC
// with exactly six fractional digits, as dwn-sdk-js's Time.getCurrentTimestamp
// writes it.
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// Timestamp formats t as a DWN timestamp: t in UTC, microseconds, "Z".
func Timestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ValidTimestamp reports whether s matches the pattern the dwn-sdk-js 0.5.2
// JSON schemas require of timestamps,
//
//	^\d{4}-[0-1]\d-[0-3]\dT(?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)\.\d{6}Z$
//
// It checks the shape only, as the schema does: "2024-19-39T29:59:59.000000Z"
// passes. Timestamps are compared as strings, so the shape is what matters.
func ValidTimestamp(s string) bool {
	const shape = "dddd-Dd-DdTdd:dd:dd.ddddddZ"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		c := s[i]
		switch shape[i] {
		case 'd':
			if c < '0' || c > '9' {
				return false
			}
		case 'D':
			// First digit of the month [0-1] or day [0-3].
			if c < '0' || (i == 5 && c > '1') || (i == 8 && c > '3') {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	// Hours [0-2]\d, minutes and seconds [0-5]\d, or exactly 23:59:60.
	if s[11:19] == "23:59:60" {
		return true
	}
	return s[11] <= '2' && s[14] <= '5' && s[17] <= '5'
}
