package account_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
)

// TestMCPTokenCapUnderConcurrency races more creates than the cap allows
// at one organization: exactly the cap's worth succeed, on either backend.
func TestMCPTokenCapUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		ctx := context.Background()
		org, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Acme", Slug: "acme", OwnerEmail: "o@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		svc := account.New(db.Client, account.Options{Keys: keys.Random(), Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})

		const tries = account.MaxActiveMCPTokens + 5
		errs := make(chan error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.CreateMCPTokenAsSystem(ctx, org.OrgID, account.CreateMCPTokenInput{Name: fmt.Sprintf("device %d", i)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok, refused := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, account.ErrTooManyMCPTokens):
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		n, err := db.Client.MCPToken.Query().Where(mcptoken.OrgID(org.OrgID)).Count(rule.AsSystem(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if ok != account.MaxActiveMCPTokens || refused != tries-ok || n != account.MaxActiveMCPTokens {
			t.Fatalf("%d created, %d refused, %d stored; want %d created and stored", ok, refused, n, account.MaxActiveMCPTokens)
		}
	})
}
