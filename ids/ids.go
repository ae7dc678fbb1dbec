// Package ids makes Tandem's opaque, type-prefixed identifiers: "aff_01J…",
// "cnv_01J…". The prefix says what an ID is when it is pasted into a chat, and
// lets node(id:) find the table without a lookup. The body is a ULID, so IDs
// sort by creation time and keyset pagination on the primary key is ordered.
package ids

import (
	"crypto/rand"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Separator stands between the type prefix and the ULID body.
const Separator = "_"

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh ID with the given prefix, stamped with the current time.
func New(prefix string) string {
	return At(prefix, time.Now())
}

// At returns a fresh ID whose time component is t. The demo seeder uses it so
// that historical rows sort where their timestamps say they belong.
func At(prefix string, t time.Time) string {
	mu.Lock()
	defer mu.Unlock()
	return prefix + Separator + ulid.MustNew(ulid.Timestamp(t), entropy).String()
}

// Generator makes IDs from a caller-owned entropy source, for deterministic
// output (the demo seeder with a fixed seed).
type Generator struct {
	entropy io.Reader
}

// NewGenerator returns a Generator reading randomness from r.
func NewGenerator(r io.Reader) *Generator {
	return &Generator{entropy: ulid.Monotonic(r, 0)}
}

// At returns an ID with the given prefix whose time component is t.
func (g *Generator) At(prefix string, t time.Time) string {
	return prefix + Separator + ulid.MustNew(ulid.Timestamp(t), g.entropy).String()
}

// Prefix returns the type prefix of id, or "" when id has none.
func Prefix(id string) string {
	p, _, ok := strings.Cut(id, Separator)
	if !ok {
		return ""
	}
	return p
}
