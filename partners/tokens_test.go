package partners_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/store/storetest"
)

// A token's name is bounded in bytes, as its column is: a name of accented
// letters that fits is stored, and one that does not is refused with a
// message that names the field, never with the store's error.
func TestTokenNameBytes(t *testing.T) {
	db := storetest.Backends(t)[0].Open(t)
	ctx := context.Background()
	db.Client.User.Create().SetEmail("ada@example.com").ExecX(rule.AsSystem(ctx))
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

	fits := strings.Repeat("é", 50) // 100 bytes
	got, err := partners.CreateUserTokenForEmail(ctx, db.Client, "ada@example.com", fits, now)
	if err != nil {
		t.Fatalf("a 100-byte name: %v", err)
	}
	if got.UserToken.Name != fits {
		t.Fatalf("stored name %q, want %q", got.UserToken.Name, fits)
	}

	for _, tt := range []struct{ name, want string }{
		{strings.Repeat("é", 60), "name is too long: at most 100 bytes"}, // 60 characters, 120 bytes
		{"Claude \xff", "name is not valid text"},
	} {
		_, err := partners.CreateUserTokenForEmail(ctx, db.Client, "ada@example.com", tt.name, now)
		var f *fault.Error
		if !errors.As(err, &f) || f.Kind != fault.KindInvalid || f.Field != "name" || !strings.HasPrefix(f.Message, tt.want) {
			t.Errorf("name %q: got %v, want an invalid name saying %q", tt.name, err, tt.want)
		}
	}
}
