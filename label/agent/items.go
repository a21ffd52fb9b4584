package agent

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/label"
)

// Item is one item as a labeling page shows it: text, a square grid of
// gray levels (an 8x8 digit has 64 values from 0 to 16), or the CID of an
// image blob.
type Item struct {
	Text   string `json:"text,omitempty"`
	Pixels []int  `json:"pixels,omitempty"`
	Image  string `json:"image,omitempty"`
}

// ParseGrid reads a grid item written as comma- or space-separated
// integers, the inline form of grid items.
func ParseGrid(s string) ([]int, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	out := make([]int, len(f))
	for i, v := range f {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("grid value %d %q: %w", i, v, err)
		}
		out[i] = n
	}
	return out, nil
}

// FormatGrid writes pixels in the inline form ParseGrid reads.
func FormatGrid(px []int) string {
	var b strings.Builder
	for i, v := range px {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
	}
	return b.String()
}

// InlineItem turns an inline item's text into an Item of the job's kind.
func InlineItem(kind, s string) (Item, error) {
	if kind == label.KindImage {
		return Item{Image: s}, nil
	}
	if kind != label.KindGrid {
		return Item{Text: s}, nil
	}
	px, err := ParseGrid(s)
	return Item{Pixels: px}, err
}

// ParseItems reads the items of a blob job. JSONL: one item per line, a
// JSON string (text, or an image CID), an array of numbers (grid) or an
// object with "text", "pixels" or "image". CSV: text items take the first field (a first row "text" is
// a header); grid items take every field as a number (a first row that is
// not all numbers is a header).
func ParseItems(data []byte, format, kind string) ([]Item, error) {
	switch format {
	case label.FormatJSONL:
		var out []Item
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			it, err := parseJSONItem(line, kind)
			if err != nil {
				return nil, fmt.Errorf("items line %d: %w", n, err)
			}
			out = append(out, it)
		}
		return out, sc.Err()
	case label.FormatCSV:
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("items CSV: %w", err)
		}
		var out []Item
		for n, row := range rows {
			if len(row) == 0 {
				continue
			}
			if kind != label.KindGrid {
				if n == 0 && (strings.EqualFold(strings.TrimSpace(row[0]), "text") || strings.EqualFold(strings.TrimSpace(row[0]), "image")) {
					continue
				}
				it, _ := InlineItem(kind, row[0])
				out = append(out, it)
				continue
			}
			px, err := ParseGrid(strings.Join(row, ","))
			if err != nil {
				if n == 0 {
					continue // header
				}
				return nil, fmt.Errorf("items CSV row %d: %w", n+1, err)
			}
			out = append(out, Item{Pixels: px})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown item format %q", format)
}

func parseJSONItem(line []byte, kind string) (Item, error) {
	switch line[0] {
	case '"':
		var s string
		err := json.Unmarshal(line, &s)
		if kind == label.KindImage {
			return Item{Image: s}, err
		}
		if kind == label.KindGrid {
			px, err := ParseGrid(s)
			return Item{Pixels: px}, err
		}
		return Item{Text: s}, err
	case '[':
		var px []int
		err := json.Unmarshal(line, &px)
		return Item{Pixels: px}, err
	}
	var obj Item
	if err := json.Unmarshal(line, &obj); err != nil {
		return Item{}, err
	}
	return obj, nil
}

// Digits reads the 8x8 handwritten digits set (digits.csv.gz: 64 gray
// levels 0..16 then the class per row), returning the images and classes.
func Digits(path string) (pixels [][]int, classes []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		r = gz
	}
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for n, row := range rows {
		v, err := ParseGrid(strings.Join(row, ","))
		if err != nil || len(v) != 65 {
			return nil, nil, fmt.Errorf("%s row %d: want 64 pixels and a class: %v", path, n+1, errors.Join(err))
		}
		pixels = append(pixels, v[:64])
		classes = append(classes, v[64])
	}
	return pixels, classes, nil
}
