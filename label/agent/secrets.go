package agent

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/atomicfile"
	"github.com/tenun-chain/tenun/label"
)

// Secrets keeps what a worker must not lose between commit and reveal: the
// label and salt of each commit, per job and item, in a JSON file written
// atomically before the commit is sent (a crash after sending must not
// leave a commit that can never be revealed).
type Secrets struct {
	mu   sync.Mutex
	path string
	data map[string]Secret // "job/item"
}

// Secret is one commit's opening: the answer (Label for choice and
// multi-label, Value for ratings, Boxes for box jobs) and the salt.
type Secret struct {
	Label uint32      `json:"label"`
	Value int64       `json:"value,omitempty"`
	Boxes []label.Box `json:"boxes,omitempty"`
	Salt  chain.Hash  `json:"salt"`
}

// Answer is the committed answer.
func (s Secret) Answer() label.Answer {
	return label.Answer{Label: s.Label, Value: s.Value, Boxes: s.Boxes}
}

// OpenSecrets loads (or starts) the secrets file at path.
func OpenSecrets(path string) (*Secrets, error) {
	s := &Secrets{path: path, data: map[string]Secret{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, err
	}
	if err := json.Unmarshal(b, &s.data); err != nil {
		var old map[string]saltOnly
		if json.Unmarshal(b, &old) == nil {
			for _, o := range old {
				if o.isOld() {
					return nil, fmt.Errorf("secrets file %s is in the old format (base64 salts, not 64 hex digits): reveal its commits with the release that wrote it, or move it away", path)
				}
			}
		}
		return nil, fmt.Errorf("secrets file %s: %w", path, err)
	}
	for k, v := range s.data {
		if v.Salt.IsZero() {
			return nil, fmt.Errorf("secrets file %s: %s has no salt", path, k)
		}
	}
	return s, nil
}

// saltOnly reads the salt of a record as a string, to recognize the format
// before salts were chain.Hash (base64 bytes).
type saltOnly struct {
	Salt string `json:"salt"`
}

func (s saltOnly) isOld() bool {
	if _, err := chain.ParseHash(s.Salt); err == nil {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(s.Salt)
	return err == nil && len(b) > 0
}

func secretKey(job uint64, item uint32) string { return fmt.Sprintf("%d/%d", job, item) }

// New draws a fresh salt for (job, item), records it with the label, saves
// the file, and returns the salt.
func (s *Secrets) New(job uint64, item, lbl uint32) (chain.Hash, error) {
	salts, err := s.NewAnswers(job, []uint32{item}, []label.Answer{{Label: lbl}})
	if err != nil {
		return chain.Hash{}, err
	}
	return salts[0], nil
}

// NewAnswers draws a fresh salt for each (job, items[i]), records it with
// answers[i], saves the file once, and returns the salts.
func (s *Secrets) NewAnswers(job uint64, items []uint32, answers []label.Answer) ([]chain.Hash, error) {
	salts := make([]chain.Hash, len(items))
	for i := range salts {
		if _, err := rand.Read(salts[i][:]); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, item := range items {
		a := answers[i]
		s.data[secretKey(job, item)] = Secret{Label: a.Label, Value: a.Value, Boxes: a.Boxes, Salt: salts[i]}
	}
	return salts, s.save()
}

// Get returns the opening of a commit.
func (s *Secrets) Get(job uint64, item uint32) (Secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[secretKey(job, item)]
	return v, ok
}

func (s *Secrets) save() error {
	b, err := json.MarshalIndent(s.data, "", " ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.path, b, 0o600)
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it over path, so a crash leaves the old file or the new one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, perm)
}

// Gold is a requester's secret gold questions: what the close reveals.
type Gold struct {
	Job    uint64     `json:"job"`
	Items  []uint32   `json:"items"`
	Labels []uint32   `json:"labels"`
	Salt   chain.Hash `json:"salt"`
}

// NewGoldSalt draws a salt for a gold commitment.
func NewGoldSalt() (chain.Hash, error) {
	var salt chain.Hash
	_, err := rand.Read(salt[:])
	return salt, err
}

// SaveGold writes a gold secret file (mode 0600).
func SaveGold(path string, g Gold) error {
	b, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b, 0o600)
}

// LoadGold reads a gold secret file.
func LoadGold(path string) (Gold, error) {
	var g Gold
	b, err := os.ReadFile(path)
	if err != nil {
		return g, err
	}
	if err := json.Unmarshal(b, &g); err != nil {
		var old saltOnly
		if json.Unmarshal(b, &old) == nil && old.isOld() {
			return g, fmt.Errorf("gold file %s is in the old format (a base64 salt, not 64 hex digits): close its job with the release that wrote it", path)
		}
		return g, fmt.Errorf("gold file %s: %w", path, err)
	}
	if g.Salt.IsZero() {
		return g, fmt.Errorf("gold file %s has no salt", path)
	}
	return g, nil
}
