// Package data is the data market: datasets with a schema, contributions of
// records validated on entry (schema, ranges, duplicates across contributors,
// rate limits), versioned snapshots committed by a Merkle root, lineage from
// raw data to trained models, paid access grants, and revenue split to the
// contributors by accepted records.
package data

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
)

// Column types. Decimals are fixed-point with up to 6 fractional digits and
// are compared as integers, so validation uses no floating point.
const (
	TypeInt     = "int"
	TypeDecimal = "decimal"
	TypeString  = "string"
	TypeBool    = "bool"
)

// decimalScale is the fixed-point scale of decimal values (6 digits).
const decimalScale = 1_000_000

// Column is one typed field of a record. Min and Max bound numeric columns
// (decimals in the same decimal notation); MaxLen and Enum bound strings.
type Column struct {
	Name     string   `json:"name" cbor:"1,keyasint"`
	Type     string   `json:"type" cbor:"2,keyasint"`
	Required bool     `json:"required,omitempty" cbor:"3,keyasint,omitempty"`
	Min      string   `json:"min,omitempty" cbor:"4,keyasint,omitempty"`
	Max      string   `json:"max,omitempty" cbor:"5,keyasint,omitempty"`
	MaxLen   uint32   `json:"max_len,omitempty" cbor:"6,keyasint,omitempty"`
	Enum     []string `json:"enum,omitempty" cbor:"7,keyasint,omitempty"`
}

// Schema limits keep a dataset's validation cost per record bounded.
const (
	MaxColumns      = 64
	MaxColumnName   = 64
	MaxStringLen    = 4096
	MaxEnumValues   = 64
	defaultMaxLen   = 1024
	maxDecimalChars = 40
)

// ValidateSchema checks a schema's own shape.
func ValidateSchema(cols []Column) error {
	if len(cols) == 0 || len(cols) > MaxColumns {
		return chain.Wrap(chain.ErrInvalidRequest, "a schema needs 1 to %d columns", MaxColumns)
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if c.Name == "" || len(c.Name) > MaxColumnName {
			return chain.Wrap(chain.ErrInvalidRequest, "column %d: name must be 1 to %d characters", i, MaxColumnName)
		}
		if seen[c.Name] {
			return chain.Wrap(chain.ErrInvalidRequest, "column %q appears twice", c.Name)
		}
		seen[c.Name] = true
		switch c.Type {
		case TypeInt, TypeDecimal:
			for _, b := range []string{c.Min, c.Max} {
				if b == "" {
					continue
				}
				if _, err := parseNumber(c.Type, b); err != nil {
					return chain.Wrap(chain.ErrInvalidRequest, "column %q: bound %q: %v", c.Name, b, err)
				}
			}
			if c.Min != "" && c.Max != "" {
				lo, _ := parseNumber(c.Type, c.Min)
				hi, _ := parseNumber(c.Type, c.Max)
				if lo > hi {
					return chain.Wrap(chain.ErrInvalidRequest, "column %q: min %s above max %s", c.Name, c.Min, c.Max)
				}
			}
		case TypeString:
			if c.MaxLen > MaxStringLen {
				return chain.Wrap(chain.ErrInvalidRequest, "column %q: max_len over %d", c.Name, MaxStringLen)
			}
			if len(c.Enum) > MaxEnumValues {
				return chain.Wrap(chain.ErrInvalidRequest, "column %q: more than %d enum values", c.Name, MaxEnumValues)
			}
		case TypeBool:
		default:
			return chain.Wrap(chain.ErrInvalidRequest, "column %q: type %q, want int, decimal, string or bool", c.Name, c.Type)
		}
	}
	return nil
}

// parseNumber reads an int, or a decimal as an integer count of 1e-6.
func parseNumber(typ, s string) (int64, error) {
	if len(s) == 0 || len(s) > maxDecimalChars {
		return 0, fmt.Errorf("not a number")
	}
	if typ == TypeInt {
		return strconv.ParseInt(s, 10, 64)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(body, ".")
	if whole == "" || (hasDot && frac == "") || len(frac) > 6 {
		return 0, fmt.Errorf("want a decimal with at most 6 fractional digits")
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("want a decimal with at most 6 fractional digits")
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/decimalScale-1 {
		return 0, fmt.Errorf("out of range")
	}
	frac += strings.Repeat("0", 6-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*decimalScale + f
	if neg {
		v = -v
	}
	return v, nil
}

// ValidateRecord checks one record (values in schema order) against the
// schema and returns the reason it is rejected, or "" when it is valid.
func ValidateRecord(cols []Column, rec []string) string {
	if len(rec) != len(cols) {
		return fmt.Sprintf("has %d values, schema has %d columns", len(rec), len(cols))
	}
	for i, c := range cols {
		v := rec[i]
		if v == "" {
			if c.Required {
				return fmt.Sprintf("%s: required", c.Name)
			}
			continue
		}
		switch c.Type {
		case TypeInt, TypeDecimal:
			n, err := parseNumber(c.Type, v)
			if err != nil {
				return fmt.Sprintf("%s: %q is not a valid %s", c.Name, truncate(v), c.Type)
			}
			if c.Min != "" {
				if lo, _ := parseNumber(c.Type, c.Min); n < lo {
					return fmt.Sprintf("%s: %s is below the minimum %s", c.Name, v, c.Min)
				}
			}
			if c.Max != "" {
				if hi, _ := parseNumber(c.Type, c.Max); n > hi {
					return fmt.Sprintf("%s: %s is above the maximum %s", c.Name, v, c.Max)
				}
			}
		case TypeBool:
			if v != "true" && v != "false" {
				return fmt.Sprintf("%s: %q is not true or false", c.Name, truncate(v))
			}
		case TypeString:
			limit := int(c.MaxLen)
			if limit == 0 {
				limit = defaultMaxLen
			}
			if len(v) > limit {
				return fmt.Sprintf("%s: %d characters, limit %d", c.Name, len(v), limit)
			}
			if len(c.Enum) > 0 {
				ok := false
				for _, e := range c.Enum {
					ok = ok || e == v
				}
				if !ok {
					return fmt.Sprintf("%s: %q is not one of %v", c.Name, truncate(v), c.Enum)
				}
			}
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
