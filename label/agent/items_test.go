package agent

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/label"
)

func TestParseItems(t *testing.T) {
	jsonl := "\"a cat\"\n{\"text\": \"a dog\"}\n\n[0, 16, 8, 1]\n{\"pixels\": [1,2,3,4]}\n"
	items, err := ParseItems([]byte(jsonl), label.FormatJSONL, label.KindText)
	if err != nil || len(items) != 4 || items[0].Text != "a cat" || items[1].Text != "a dog" || len(items[2].Pixels) != 4 || items[3].Pixels[3] != 4 {
		t.Fatalf("jsonl: %+v %v", items, err)
	}
	grid, err := ParseItems([]byte("p0,p1,p2,p3\n0,1,2,3\n4,5,6,7\n"), label.FormatCSV, label.KindGrid)
	if err != nil || len(grid) != 2 || grid[1].Pixels[0] != 4 {
		t.Fatalf("grid csv: %+v %v", grid, err)
	}
	text, err := ParseItems([]byte("text\nhello, world\n\"quoted, with comma\"\n"), label.FormatCSV, label.KindText)
	if err != nil || len(text) != 2 || text[1].Text != "quoted, with comma" {
		t.Fatalf("text csv: %+v %v", text, err)
	}
	if _, err := ParseItems([]byte("1,2\nx,3\n"), label.FormatCSV, label.KindGrid); err == nil {
		t.Fatal("a bad grid row past the header parsed")
	}
	if px, err := ParseGrid(FormatGrid([]int{0, 16, 3})); err != nil || len(px) != 3 || px[1] != 16 {
		t.Fatalf("grid round trip: %v %v", px, err)
	}
}

func TestExport(t *testing.T) {
	r := &label.Results{Job: 1, Labels: []string{"neg", "pos"}, Items: []label.ItemResult{
		{Item: 0, Label: 1, ConfidencePPM: 987_654, Votes: 3},
		{Item: 1, Label: -1},
		{Item: 2, Label: 0, ConfidencePPM: 1_000_000, Votes: 2, Gold: true},
	}}
	var csv, jsonl bytes.Buffer
	if err := ExportCSV(&csv, r); err != nil {
		t.Fatal(err)
	}
	want := "item,label,label_index,confidence,votes,gold\n0,pos,1,0.987654,3,false\n1,,-1,0.000000,0,false\n2,neg,0,1.000000,2,true\n"
	if csv.String() != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", csv.String(), want)
	}
	if err := ExportJSONL(&jsonl, r); err != nil || strings.Count(jsonl.String(), "\n") != 3 || !strings.Contains(jsonl.String(), `"label":"pos"`) {
		t.Fatalf("jsonl: %s %v", jsonl.String(), err)
	}
}

func TestSecretsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "label", "secrets.json")
	s, err := OpenSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	salt, err := s.New(3, 7, 2)
	if err != nil || salt.IsZero() {
		t.Fatalf("salt %x: %v", salt, err)
	}
	again, err := OpenSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := again.Get(3, 7)
	if !ok || got.Label != 2 || got.Salt != salt {
		t.Fatalf("reopened: %+v %v", got, ok)
	}
	var a chain.Address
	if label.CommitHash(3, 7, got.Label, got.Salt, a) != label.CommitHash(3, 7, 2, salt, a) {
		t.Fatal("the stored opening does not rebuild the commit")
	}
	g := Gold{Job: 3, Items: []uint32{1, 4}, Labels: []uint32{0, 1}, Salt: salt}
	gp := filepath.Join(t.TempDir(), "gold.json")
	if err := SaveGold(gp, g); err != nil {
		t.Fatal(err)
	}
	back, err := LoadGold(gp)
	if err != nil || label.GoldHash(back.Items, back.Labels, back.Salt) != label.GoldHash(g.Items, g.Labels, g.Salt) {
		t.Fatalf("gold round trip: %+v %v", back, err)
	}
}

// Files from before salts were chain.Hash (base64 salts) are refused with
// an error saying so, and so are salts that are missing.
func TestSecretsOldFormatRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := `"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="` // 32 bytes in base64
	for _, c := range []struct{ body, want string }{
		{`{"3/7":{"label":2,"salt":` + old + `}}`, "old format"},
		{`{"3/7":{"label":2}}`, "3/7 has no salt"},
		{`{"3/7":{"label":"x","salt":"` + strings.Repeat("ab", 32) + `"}}`, "cannot unmarshal"},
	} {
		if _, err := OpenSecrets(write("secrets.json", c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("secrets %s: %v, want %q", c.body, err, c.want)
		}
	}
	for _, c := range []struct{ body, want string }{
		{`{"job":3,"items":[1],"labels":[0],"salt":` + old + `}`, "old format"},
		{`{"job":3,"items":[1],"labels":[0]}`, "has no salt"},
	} {
		if _, err := LoadGold(write("gold.json", c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gold %s: %v, want %q", c.body, err, c.want)
		}
	}
}

func TestPageRefusesOtherSites(t *testing.T) {
	a := NewAnnotator(nil, ed25519.GenPrivKey(), nil, 1)
	h := a.Handler()
	for _, c := range []struct {
		host, origin, ctype string
		want                int
	}{
		{"evil.example:7070", "", "application/json", 403},                 // DNS rebinding
		{"127.0.0.1:7070", "http://evil.example", "application/json", 403}, // cross-site
		{"127.0.0.1:7070", "http://127.0.0.1:7070", "text/plain", 415},     // form post
	} {
		req := httptest.NewRequest("POST", "http://"+c.host+"/api/answer", strings.NewReader(`{"item":0,"label":1}`))
		req.Host = c.host
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		req.Header.Set("Content-Type", c.ctype)
		req.Header.Set(TokenHeader, a.Token())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%+v: HTTP %d, want %d", c, rec.Code, c.want)
		}
	}
}

// Any local process can reach the loopback port; before the per-run token
// a POST from one without an Origin header made the page sign. Now every
// API call without the token is refused, whatever its Host and Origin.
func TestPageRefusesCallsWithoutToken(t *testing.T) {
	a := NewAnnotator(nil, ed25519.GenPrivKey(), nil, 1)
	other := NewAnnotator(nil, ed25519.GenPrivKey(), nil, 1)
	if a.Token() == "" || a.Token() == other.Token() {
		t.Fatalf("tokens %q and %q: want a fresh one per run", a.Token(), other.Token())
	}
	h := a.Handler()
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"POST", "/api/join", "", 401},
		{"POST", "/api/more", "", 401},
		{"POST", "/api/answer", "", 401},
		{"POST", "/api/answer", other.Token(), 401},
		{"GET", "/api/state", "", 401},
		{"POST", "/api/answer", a.Token(), 400}, // past the token: the body is checked
	} {
		req := httptest.NewRequest(c.method, "http://127.0.0.1:7070"+c.path, strings.NewReader(`{"item":`))
		req.Header.Set("Content-Type", "application/json")
		if c.token != "" {
			req.Header.Set(TokenHeader, c.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%+v: HTTP %d (%s), want %d", c, rec.Code, strings.TrimSpace(rec.Body.String()), c.want)
		}
	}
	// The page itself loads without the token (it reads it from its URL).
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:7070/", nil))
	if rec.Code != 200 {
		t.Fatalf("page: HTTP %d", rec.Code)
	}
	if u := a.URL("127.0.0.1:7070"); !strings.Contains(u, "token="+a.Token()) {
		t.Fatalf("URL %s lacks the token", u)
	}
}
