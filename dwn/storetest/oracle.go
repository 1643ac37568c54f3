package storetest

import (
	"cmp"
	"slices"
	"strings"

	"github.com/anya-org/anya/dwn"
)

// kind orders the kinds of indexable values; values of different kinds are
// never equal and never in one range.
type kind int

const (
	kindNone kind = iota
	kindNumber
	kindString
	kindBool
)

// scalar normalises an indexable scalar: Go numbers become float64 (a
// JavaScript number) and -0 becomes 0.
func scalar(v any) (kind, any) {
	switch x := v.(type) {
	case string:
		return kindString, x
	case bool:
		return kindBool, x
	case float64:
		if x == 0 {
			x = 0
		}
		return kindNumber, x
	case float32:
		return scalar(float64(x))
	case int:
		return scalar(float64(x))
	case int64:
		return scalar(float64(x))
	case uint64:
		return scalar(float64(x))
	}
	return kindNone, nil
}

// compare orders two scalars of one kind; ok is false across kinds.
func compare(a, b any) (c int, ok bool) {
	ka, va := scalar(a)
	kb, vb := scalar(b)
	if ka != kb || ka == kindNone {
		return 0, false
	}
	switch ka {
	case kindNumber:
		return cmp.Compare(va.(float64), vb.(float64)), true
	case kindString:
		return strings.Compare(va.(string), vb.(string)), true
	default:
		x, y := 0, 0
		if va.(bool) {
			x = 1
		}
		if vb.(bool) {
			y = 1
		}
		return cmp.Compare(x, y), true
	}
}

// elements lists the scalars of an indexed value: an array's elements, or
// the value itself.
func elements(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// conditionHolds reports whether one scalar satisfies a condition.
func conditionHolds(c dwn.Condition, v any) bool {
	eq := func(o any) bool { r, ok := compare(v, o); return ok && r == 0 }
	switch {
	case c.Equal != nil:
		return eq(c.Equal)
	case c.OneOf != nil:
		return slices.ContainsFunc(c.OneOf, eq)
	case c.StartsWith != "":
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, c.StartsWith)
	}
	bound := func(b any, want func(int) bool) bool {
		if b == nil {
			return true
		}
		r, ok := compare(v, b)
		return ok && want(r)
	}
	return bound(c.GT, func(r int) bool { return r > 0 }) &&
		bound(c.GTE, func(r int) bool { return r >= 0 }) &&
		bound(c.LT, func(r int) bool { return r < 0 }) &&
		bound(c.LTE, func(r int) bool { return r <= 0 })
}

// Matches is the oracle's filter: every condition holds for the property's
// value or, for an array, for one of its elements.
func Matches(f dwn.Filter, ix dwn.Indexes) bool {
	for prop, c := range f {
		if !slices.ContainsFunc(elements(ix[prop]), func(v any) bool { return conditionHolds(c, v) }) {
			return false
		}
	}
	return true
}

// MatchesAny reports whether any filter matches; no filters match all.
func MatchesAny(filters []dwn.Filter, ix dwn.Indexes) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if Matches(f, ix) {
			return true
		}
	}
	return false
}

// Expected answers a query by brute force: the CIDs of the messages that
// have the sort property and match a filter, ordered by sort value, then
// by CID bytewise, both in the sort's direction.
func Expected(all []*dwn.StoredMessage, filters []dwn.Filter, sort dwn.Sort) []string {
	var rows []*dwn.StoredMessage
	for _, m := range all {
		if _, ok := m.Indexes[sort.Property]; ok && MatchesAny(filters, m.Indexes) {
			rows = append(rows, m)
		}
	}
	slices.SortFunc(rows, func(a, b *dwn.StoredMessage) int {
		c := orderValues(a.Indexes[sort.Property], b.Indexes[sort.Property])
		if c == 0 {
			c = strings.Compare(a.CID, b.CID)
		}
		if sort.Descending {
			return -c
		}
		return c
	})
	out := make([]string, len(rows))
	for i, m := range rows {
		out[i] = m.CID
	}
	return out
}

// orderValues orders sort values; the suite's sort values are all strings,
// and other kinds order by kind, as the pebble store does.
func orderValues(a, b any) int {
	if c, ok := compare(a, b); ok {
		return c
	}
	ka, _ := scalar(a)
	kb, _ := scalar(b)
	return cmp.Compare(ka, kb)
}
