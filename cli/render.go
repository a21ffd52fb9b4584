package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Human output of structured query answers: an object as "key: value"
// lines, a list of objects as a table, amounts in TNN beside their utnn.
// -o json prints the answer itself, exact.

// field is one member of a JSON object, in the order the node sent it.
type field struct {
	key string
	val any
}

// object is a JSON object with its member order kept.
type object []field

// decodeOrdered parses JSON keeping object member order (maps would sort
// them, and the node's order puts ids and names first).
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var o object
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, field{kt.(string), v})
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			if a == nil {
				a = []any{}
			}
			return a, err
		}
	}
	return tok, nil
}

// cell prints a scalar for a table or a line; nested values are compact
// JSON, cut to fit a table cell.
func cell(key string, v any, limit int) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if limit > 0 && len(x) > limit {
			return x[:limit-1] + "…"
		}
		return x
	case json.Number:
		if isAmountKey(key) {
			if u, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
				return formatAmount(u)
			}
		}
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	var b strings.Builder
	writeCompact(&b, v)
	s := b.String()
	if limit > 0 && len(s) > limit {
		s = s[:limit-1] + "…"
	}
	return s
}

func writeCompact(b *strings.Builder, v any) {
	switch x := v.(type) {
	case object:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "%q:", f.key)
			writeCompact(b, f.val)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCompact(b, e)
		}
		b.WriteByte(']')
	case string:
		fmt.Fprintf(b, "%q", x)
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprint(b, x)
	}
}

// renderHuman prints a decoded answer for a person.
func renderHuman(w io.Writer, v any) {
	switch x := v.(type) {
	case object:
		renderObject(w, x, "")
	case []any:
		renderList(w, x)
	default:
		fmt.Fprintln(w, cell("", v, 0))
	}
}

func renderObject(w io.Writer, o object, indent string) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	var nested []field
	for _, f := range o {
		if l, ok := f.val.([]any); ok && len(l) > 0 {
			if _, isObj := l[0].(object); isObj {
				nested = append(nested, f)
				continue
			}
		}
		if sub, ok := f.val.(object); ok && len(sub) > 0 && len(sub) <= 12 {
			nested = append(nested, f)
			continue
		}
		v := cell(f.key, f.val, 0)
		if n, ok := f.val.(json.Number); ok && isAmountKey(f.key) {
			v += " (" + n.String() + " utnn)"
		}
		fmt.Fprintf(tw, "%s%s:\t%s\n", indent, f.key, v)
	}
	tw.Flush()
	for _, f := range nested {
		fmt.Fprintf(w, "%s%s:\n", indent, f.key)
		switch x := f.val.(type) {
		case object:
			renderObject(w, x, indent+"  ")
		case []any:
			renderList(w, x)
		}
	}
}

// renderList prints a list of objects as a table (columns in the first
// row's order, plus any later ones), other lists one item a line.
func renderList(w io.Writer, l []any) {
	if len(l) == 0 {
		fmt.Fprintln(w, "(none)")
		return
	}
	var cols []string
	seen := map[string]bool{}
	for _, e := range l {
		o, ok := e.(object)
		if !ok {
			for _, e := range l {
				fmt.Fprintln(w, cell("", e, 0))
			}
			return
		}
		for _, f := range o {
			if !seen[f.key] {
				seen[f.key] = true
				cols = append(cols, f.key)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, e := range l {
		o := e.(object)
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = "-"
			for _, f := range o {
				if f.key == c {
					row[i] = cell(c, f.val, 40)
				}
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}
