package pgstore

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/anya-org/anya/dwn"
)

// scalar is one indexable value; exactly one field is set.
type scalar struct {
	text *string
	num  *float64
	bool *bool
}

// toScalar normalises a value as dwn does: Go numbers become float64 (a
// JavaScript number), -0 becomes 0; NaN and other types are rejected, and
// so are strings PostgreSQL text cannot hold (a NUL byte, invalid UTF-8).
func toScalar(v any) (scalar, error) {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return scalar{}, errors.New("cannot index a string with a NUL byte in PostgreSQL")
		}
		if !utf8.ValidString(x) {
			return scalar{}, errors.New("cannot index a string that is not UTF-8")
		}
		return scalar{text: &x}, nil
	case bool:
		return scalar{bool: &x}, nil
	case float64:
		if math.IsNaN(x) {
			return scalar{}, errors.New("cannot index NaN")
		}
		if x == 0 {
			x = 0
		}
		return scalar{num: &x}, nil
	case float32:
		return toScalar(float64(x))
	case int:
		return toScalar(float64(x))
	case int64:
		return toScalar(float64(x))
	case uint64:
		return toScalar(float64(x))
	}
	return scalar{}, fmt.Errorf("cannot index a %T", v)
}

// normaliseValue turns an indexed value into what it reads back as from
// JSON: a scalar (numbers as float64) or a []any of scalars.
func normaliseValue(v any) (any, []scalar, error) {
	var elems []any
	switch x := v.(type) {
	case []any:
		elems = x
	case []string:
		elems = make([]any, len(x))
		for i, s := range x {
			elems[i] = s
		}
	default:
		s, err := toScalar(v)
		if err != nil {
			return nil, nil, err
		}
		return s.value(), []scalar{s}, nil
	}
	out := make([]any, len(elems))
	var scalars []scalar
	for i, e := range elems {
		s, err := toScalar(e)
		if err != nil {
			return nil, nil, err
		}
		out[i] = s.value()
		if !slices.ContainsFunc(scalars, s.equal) {
			scalars = append(scalars, s)
		}
	}
	return out, scalars, nil
}

func (s scalar) value() any {
	switch {
	case s.text != nil:
		return *s.text
	case s.num != nil:
		return *s.num
	default:
		return *s.bool
	}
}

func (s scalar) equal(o scalar) bool {
	switch {
	case s.text != nil:
		return o.text != nil && *s.text == *o.text
	case s.num != nil:
		return o.num != nil && *s.num == *o.num
	default:
		return o.bool != nil && *s.bool == *o.bool
	}
}

// column is the index column that holds the scalar's kind.
func (s scalar) column() string {
	switch {
	case s.text != nil:
		return "value_text"
	case s.num != nil:
		return "value_num"
	default:
		return "value_bool"
	}
}

// validateQuery checks a query's shape as every store does, then that each
// value fits a PostgreSQL column.
func validateQuery(filters []dwn.Filter, sort dwn.Sort, page dwn.Page) error {
	if err := dwn.ValidateQuery(filters, sort, page); err != nil {
		return err
	}
	if _, ok := sortColumns[sort.Property]; !ok {
		return fmt.Errorf("cannot sort by %q (want one of %v)", sort.Property, dwn.SortProperties)
	}
	for i, f := range filters {
		for prop, c := range f {
			if err := checkScalars(c); err != nil {
				return fmt.Errorf("filter %d, %s: %w", i, prop, err)
			}
		}
	}
	return nil
}

// checkScalars reports a condition value PostgreSQL cannot hold.
func checkScalars(c dwn.Condition) error {
	for _, v := range append([]any{c.Equal, c.GT, c.GTE, c.LT, c.LTE}, c.OneOf...) {
		if v == nil {
			continue
		}
		if _, err := toScalar(v); err != nil {
			return err
		}
	}
	if c.StartsWith != "" {
		if _, err := toScalar(c.StartsWith); err != nil {
			return err
		}
	}
	return nil
}

// builder collects the arguments of a statement as it is written.
type builder struct {
	args []any
}

// arg adds an argument and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// scalarArg adds a scalar's value as an argument.
func (b *builder) scalarArg(s scalar) string {
	switch {
	case s.text != nil:
		return b.arg(*s.text) + "::text"
	case s.num != nil:
		return b.arg(*s.num) + "::float8"
	default:
		return b.arg(*s.bool) + "::bool"
	}
}

// valueTest writes the SQL test of condition c on the index row alias x
// (columns x.value_text, x.value_num, x.value_bool). Values of different
// kinds never compare, so a bound of another kind than a row's value
// fails on the row's NULL column. c is valid.
func (b *builder) valueTest(x string, c dwn.Condition) string {
	must := func(v any) scalar { s, _ := toScalar(v); return s }
	switch {
	case c.Equal != nil:
		s := must(c.Equal)
		return x + "." + s.column() + " = " + b.scalarArg(s)
	case c.OneOf != nil:
		var texts []string
		var nums []float64
		var bools []bool
		for _, v := range c.OneOf {
			s := must(v)
			switch {
			case s.text != nil:
				texts = append(texts, *s.text)
			case s.num != nil:
				nums = append(nums, *s.num)
			default:
				bools = append(bools, *s.bool)
			}
		}
		var ors []string
		if texts != nil {
			ors = append(ors, x+".value_text = ANY("+b.arg(texts)+"::text[])")
		}
		if nums != nil {
			ors = append(ors, x+".value_num = ANY("+b.arg(nums)+"::float8[])")
		}
		if bools != nil {
			ors = append(ors, x+".value_bool = ANY("+b.arg(bools)+"::bool[])")
		}
		return "(" + strings.Join(ors, " OR ") + ")"
	case c.StartsWith != "":
		p := b.arg(c.StartsWith)
		return fmt.Sprintf("(%[1]s.value_text >= %[2]s::text AND starts_with(%[1]s.value_text, %[2]s::text))", x, p)
	}
	var ands []string
	for _, r := range bounds(c) {
		s := must(r.v)
		ands = append(ands, x+"."+s.column()+" "+r.op+" "+b.scalarArg(s))
	}
	return "(" + strings.Join(ands, " AND ") + ")"
}

// bound is one side of a range condition and its SQL operator.
type bound struct {
	v  any
	op string
}

// bounds lists the range bounds a condition sets.
func bounds(c dwn.Condition) []bound {
	var out []bound
	for _, b := range []bound{{c.GT, ">"}, {c.GTE, ">="}, {c.LT, "<"}, {c.LTE, "<="}} {
		if b.v != nil {
			out = append(out, b)
		}
	}
	return out
}

// textTest writes the test of condition c on a text expression e that
// holds a string scalar, such as a message's sort column: conditions on
// other kinds are FALSE.
func (b *builder) textTest(e string, c dwn.Condition) string {
	str := func(v any) (string, bool) { s, ok := v.(string); return s, ok }
	switch {
	case c.Equal != nil:
		s, ok := str(c.Equal)
		if !ok {
			return "FALSE"
		}
		return e + " = " + b.arg(s) + "::text"
	case c.OneOf != nil:
		var texts []string
		for _, v := range c.OneOf {
			if s, ok := str(v); ok {
				texts = append(texts, s)
			}
		}
		if texts == nil {
			return "FALSE"
		}
		return e + " = ANY(" + b.arg(texts) + "::text[])"
	case c.StartsWith != "":
		p := b.arg(c.StartsWith)
		return fmt.Sprintf("(%[1]s >= %[2]s::text AND starts_with(%[1]s, %[2]s::text))", e, p)
	}
	var ands []string
	for _, r := range bounds(c) {
		s, ok := str(r.v)
		if !ok {
			return "FALSE"
		}
		ands = append(ands, e+" "+r.op+" "+b.arg(s)+"::text")
	}
	return "(" + strings.Join(ands, " AND ") + ")"
}

// indexRows lists a message's or event's index rows as parallel arrays
// for unnest, and returns the indexes normalised as they read back.
func indexRows(ix dwn.Indexes) (norm dwn.Indexes, props []string, texts []*string, nums []*float64, bools []*bool, err error) {
	norm = make(dwn.Indexes, len(ix))
	for prop, v := range ix {
		if _, err := toScalar(prop); err != nil {
			return nil, nil, nil, nil, nil, fmt.Errorf("index name %q: %w", prop, err)
		}
		n, scalars, err := normaliseValue(v)
		if err != nil {
			return nil, nil, nil, nil, nil, fmt.Errorf("index %s: %w", prop, err)
		}
		norm[prop] = n
		for _, s := range scalars {
			props = append(props, prop)
			texts = append(texts, s.text)
			nums = append(nums, s.num)
			bools = append(bools, s.bool)
		}
	}
	return norm, props, texts, nums, bools, nil
}
