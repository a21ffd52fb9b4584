package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// parity labels a row by the parity of its first feature and refuses
// negative inputs, like a model refuses out-of-range pixels.
type parity struct{}

func (parity) Predict(x []int) (int, error) {
	if len(x) == 0 || x[0] < 0 {
		return 0, errors.New("input out of range")
	}
	return x[0] % 2, nil
}

func TestMinerHandlerAndPredict(t *testing.T) {
	srv := httptest.NewServer(MinerHandler(parity{}))
	defer srv.Close()
	ctx := context.Background()
	labels, err := Predict(ctx, srv.Client(), srv.URL+"/", [][]int{{3, 0}, {4, 1}, {7}})
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 3 || labels[0] != 1 || labels[1] != 0 || labels[2] != 1 {
		t.Fatalf("labels %v", labels)
	}
	// A bad row, an empty request and garbage are refused with a reason.
	if _, err := Predict(ctx, srv.Client(), srv.URL, [][]int{{1}, {-1}}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("bad row: %v", err)
	}
	if _, err := Predict(ctx, srv.Client(), srv.URL, nil); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("empty request: %v", err)
	}
	resp, err := http.Post(srv.URL+"/predict", "application/json", strings.NewReader("{"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage: HTTP %d", resp.StatusCode)
	}
}

func TestParseEvalCSV(t *testing.T) {
	items, err := ParseEvalCSV([]byte("p0,p1,label\n1,2,3\n4,5,6\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[1].Y != 6 || len(items[0].X) != 2 || items[0].X[1] != 2 {
		t.Fatalf("items %+v", items)
	}
	for _, bad := range []string{"", "1,2\n1,2,3\n", "1,2\n1,x\n", "5\n"} {
		if _, err := ParseEvalCSV([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
