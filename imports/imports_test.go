package imports

import (
	"regexp"
	"testing"
	"time"

	"github.com/tandemhq/tandem/enrollment"
)

func TestRowKey(t *testing.T) {
	at := time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)
	k := rowKey("cmp_1", "aff_1", at, 1000, 200, "c@x.test")
	if !regexp.MustCompile(`^imp_[0-9a-f]{32}$`).MatchString(k) {
		t.Fatalf("key %q has the wrong shape", k)
	}
	// The same sale in another time zone is the same row.
	if again := rowKey("cmp_1", "aff_1", at.In(time.FixedZone("X", 3600)), 1000, 200, "c@x.test"); again != k {
		t.Fatalf("got %q and %q for the same row", k, again)
	}
	for _, other := range []string{
		rowKey("cmp_2", "aff_1", at, 1000, 200, "c@x.test"),
		rowKey("cmp_1", "aff_2", at, 1000, 200, "c@x.test"),
		rowKey("cmp_1", "aff_1", at.Add(time.Second), 1000, 200, "c@x.test"),
		rowKey("cmp_1", "aff_1", at, 1001, 200, "c@x.test"),
		rowKey("cmp_1", "aff_1", at, 1000, 201, "c@x.test"),
		rowKey("cmp_1", "aff_1", at, 1000, 200, ""),
		// Parts cannot run into each other.
		rowKey("cmp_1a", "ff_1", at, 1000, 200, "c@x.test"),
	} {
		if other == k {
			t.Fatalf("a different row has the same key %q", k)
		}
	}
}

func TestSlugBase(t *testing.T) {
	for in, want := range map[string]string{
		"Ada Lovelace":    "ada-lovelace",
		"  --José__Núñez": "jos-n-ez",
		"!!!":             "",
		"x.y+tag":         "x-y-tag",
	} {
		if got := slugBase(in); got != want {
			t.Errorf("slugBase(%q) = %q, want %q", in, got, want)
		}
	}
	if s := enrollment.RandomSuffix(12); !regexp.MustCompile(`^[a-z0-9]{12}$`).MatchString(s) {
		t.Errorf("enrollment.RandomSuffix gave %q", s)
	}
}
