package partners_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/store/storetest"
)

// At most 3 /token links an hour reach one address, whichever IPs ask, and
// the refusal reads the same for an address with an account and without.
func TestTokenLinkRecipientCap(t *testing.T) {
	db := storetest.Backends(t)[0].Open(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := partners.PageHandler(partners.PageConfig{
		Client: db.Client, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limiter:   ratelimit.NewMemory(clock),
		LinkLimit: ratelimit.Limit{Name: "ip", Rate: 1000, Per: time.Hour}, // the IP budget is not what this tests
	})
	sys := rule.AsSystem(context.Background())
	db.Client.User.Create().SetEmail("known@example.com").ExecX(sys)
	ask := func(address, ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, partners.TokenPath, strings.NewReader(url.Values{"email": {address}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = ip + ":1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	nonce := regexp.MustCompile(`nonce[^>]*>`)
	var refusals []string
	for _, addr := range []string{"known@example.com", "unknown@example.com"} {
		for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
			if rec := ask(addr, ip); rec.Code != http.StatusOK {
				t.Fatalf("link %d for %s: %d %s", i+1, addr, rec.Code, rec.Body)
			}
		}
		// The address is counted normalized: another spelling is the same inbox.
		rec := ask(strings.ToUpper(addr[:1])+addr[1:], "10.0.0.4")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("4th link for %s: %d; want 429 with Retry-After", addr, rec.Code)
		}
		if got := rec.Header().Get("RateLimit-Policy"); got != "3;w=3600" {
			t.Fatalf("4th link for %s: RateLimit-Policy %q; want the address's budget, 3;w=3600", addr, got)
		}
		refusals = append(refusals, nonce.ReplaceAllString(rec.Body.String(), ""))
	}
	if refusals[0] != refusals[1] {
		t.Fatalf("the refusal tells an address with an account apart:\n%s\n---\n%s", refusals[0], refusals[1])
	}
	if strings.Contains(refusals[0], "account") {
		t.Fatalf("the refusal mentions accounts:\n%s", refusals[0])
	}
	n := db.Client.OutboxMessage.Query().Where(outboxmessage.Kind(partners.MessageTokenLink)).CountX(sys)
	if n != 6 {
		t.Fatalf("%d link emails queued; want 3 per address", n)
	}
	// An hour later the address may ask again.
	now = now.Add(time.Hour)
	if rec := ask("known@example.com", "10.0.0.5"); rec.Code != http.StatusOK {
		t.Fatalf("after an hour: %d", rec.Code)
	}
}
