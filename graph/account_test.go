package graph_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

const (
	signUpQ         = `mutation($input: SignUpInput!) { signUp(input: $input) { session expiresAt user { id email fullName emailVerifiedAt } } }`
	signInQ         = `mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { session expiresAt user { id email } } }`
	requestLinkQ    = `mutation($email: String!) { requestSignInLink(email: $email) }`
	signInWithLinkQ = `mutation($token: String!) { signInWithLink(token: $token) { session expiresAt user { id email emailVerifiedAt } } }`
	verifyEmailQ    = `mutation($token: String!) { verifyEmail(token: $token) { id emailVerifiedAt } }`
	signOutQ        = `mutation { signOutEverywhere }`
	createTokenQ    = `mutation($input: CreateMCPTokenInput!) { createMCPToken(input: $input) { token mcpToken { id name hint readOnly revokedAt createdByID } } }`
	rotateTokenQ    = `mutation($id: ID!) { rotateMCPToken(id: $id) { token mcpToken { id name hint readOnly revokedAt createdByID } } }`
	revokeTokenQ    = `mutation($id: ID!) { revokeMCPToken(id: $id) { id revokedAt } }`
	createKeyQ      = `mutation($input: CreateAPIKeyInput!) { createAPIKey(input: $input) { key signingSecret apiKey { id name hint revokedAt createdByID } } }`
	revokeKeyQ      = `mutation($id: ID!) { revokeAPIKey(id: $id) { id revokedAt } }`
)

// clock is a time source a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newAccountAPI is the test API with its clock.
func newAccountAPI(c *ent.Client) (*api, *clock) {
	clk := newClock()
	deps := testDeps()
	deps.Now = clk.Now
	return newAPIWith(c, graph.Options{}, deps), clk
}

type payload struct {
	Session   string    `json:"session"`
	ExpiresAt time.Time `json:"expiresAt"`
	User      struct {
		ID              string     `json:"id"`
		Email           string     `json:"email"`
		FullName        *string    `json:"fullName"`
		EmailVerifiedAt *time.Time `json:"emailVerifiedAt"`
	} `json:"user"`
}

// authPayload decodes the payload of the mutation field and checks that its
// session verifies as the payload's user.
func authPayload(t *testing.T, resp response, field string, clk *clock) payload {
	t.Helper()
	var data map[string]payload
	resp.decode(t, &data)
	p := data[field]
	s, err := auth.Sessions{Key: testKeys.Session, Now: clk.Now}.Verify(p.Session)
	if err != nil {
		t.Fatalf("%s: session does not verify: %v", field, err)
	}
	if s.UserID != p.User.ID || !s.ExpiresAt.Equal(p.ExpiresAt) {
		t.Fatalf("%s: session is for %s until %v, payload says %s until %v", field, s.UserID, s.ExpiresAt, p.User.ID, p.ExpiresAt)
	}
	if !p.ExpiresAt.Equal(clk.Now().Add(auth.SessionTTL)) {
		t.Fatalf("%s: session expires %v, want %v", field, p.ExpiresAt, clk.Now().Add(auth.SessionTTL))
	}
	return p
}

func signUpVars(email, slug string) map[string]any {
	return map[string]any{"input": map[string]any{
		"email": email, "password": "correct horse battery", "fullName": "Ada Lovelace",
		"organizationName": "Analytical Engines", "organizationSlug": slug,
	}}
}

// signUp signs a new owner up and returns the payload.
func signUp(t *testing.T, a *api, clk *clock, email, slug string) payload {
	t.Helper()
	return authPayload(t, a.ok(t, nil, signUpQ, signUpVars(email, slug)), "signUp", clk)
}

// linkToken returns the token of the newest outbox message of kind to addr,
// checking that its link points at path.
func linkToken(t *testing.T, c *ent.Client, addr, kind, path string) string {
	t.Helper()
	msg, err := c.OutboxMessage.Query().Where(outboxmessage.ToAddress(addr), outboxmessage.Kind(kind)).
		Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).First(sys())
	if err != nil {
		t.Fatalf("no %s message to %s: %v", kind, addr, err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta("https://tandem.test"+path+"?token=") + `([A-Za-z0-9_-]{43})\b`).FindStringSubmatch(msg.TextBody)
	if m == nil {
		t.Fatalf("%s message has no %s link: %q", kind, path, msg.TextBody)
	}
	if msg.Status != outboxmessage.StatusPending || msg.Subject == "" {
		t.Fatalf("%s message: status %s, subject %q; want pending with a subject", kind, msg.Status, msg.Subject)
	}
	return m[1]
}

// counts is how many rows the account mutations can write, per table.
func counts(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := sys()
	return fmt.Sprint(
		must(c.Organization.Query().Count(ctx)).get(t), must(c.User.Query().Count(ctx)).get(t),
		must(c.Membership.Query().Count(ctx)).get(t), must(c.LoginToken.Query().Count(ctx)).get(t),
		must(c.OutboxMessage.Query().Count(ctx)).get(t), must(c.MCPToken.Query().Count(ctx)).get(t),
		must(c.APIKey.Query().Count(ctx)).get(t))
}

func TestSignUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a, clk := newAccountAPI(c)

		p := signUp(t, a, clk, " Ada@Example.TEST ", "analytical")
		if p.User.Email != "ada@example.test" || p.User.FullName == nil || *p.User.FullName != "Ada Lovelace" || p.User.EmailVerifiedAt != nil {
			t.Fatalf("got user %+v, want ada@example.test, Ada Lovelace, unverified", p.User)
		}
		ctx := sys()
		org := must(c.Organization.Query().Where(organization.Slug("analytical")).Only(ctx)).get(t)
		if org.Name != "Analytical Engines" || org.PlanTier != organization.PlanTierTrial ||
			org.SubscriptionStatus != organization.SubscriptionStatusTrialing ||
			org.TrialEndsAt == nil || !org.TrialEndsAt.Equal(clk.Now().AddDate(0, 0, 14)) {
			t.Fatalf("got organization %+v, want Analytical Engines on a trial ending %v", org, clk.Now().AddDate(0, 0, 14))
		}
		m := must(c.Membership.Query().Where(membership.OrgID(org.ID)).Only(ctx)).get(t)
		if m.UserID != p.User.ID || m.Role != membership.RoleOwner {
			t.Fatalf("got membership %+v, want %s as owner", m, p.User.ID)
		}
		u := must(c.User.Get(ctx, p.User.ID)).get(t)
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || auth.VerifyPassword("correct horse battery", u.PasswordHash) != nil {
			t.Fatalf("password hash %q does not verify the password", u.PasswordHash)
		}

		// The verification email and its login token were written with the account.
		token := linkToken(t, c, "ada@example.test", account.MessageVerifyEmail, account.VerifyEmailPath)
		lt := must(c.LoginToken.Query().Where(logintoken.UserID(u.ID)).Only(ctx)).get(t)
		if lt.Purpose != logintoken.PurposeVerifyEmail || lt.SecretHash != credential.Hash(token) || lt.UsedAt != nil ||
			!lt.ExpiresAt.Equal(clk.Now().Add(account.VerifyEmailTTL)) {
			t.Fatalf("got login token %+v, want an unused verify_email token stored as the link token's hash", lt)
		}
		msg := must(c.OutboxMessage.Query().Where(outboxmessage.ToAddress(u.Email)).Only(ctx)).get(t)
		if msg.OrgID != org.ID {
			t.Fatalf("verify_email message org %q, want %q", msg.OrgID, org.ID)
		}

		before := counts(t, c)
		for _, tc := range []struct {
			name, field, value, code string
		}{
			{"bad email", "email", "ada at example", graph.CodeBadUserInput},
			{"display-name email", "email", "Ada <ada2@example.test>", graph.CodeBadUserInput},
			{"short password", "password", "too short", graph.CodeBadUserInput},
			{"long password", "password", strings.Repeat("x", auth.MaxPasswordLength+1), graph.CodeBadUserInput},
			{"no full name", "fullName", "  ", graph.CodeBadUserInput},
			{"no organization name", "organizationName", "", graph.CodeBadUserInput},
			{"long organization name", "organizationName", strings.Repeat("x", 121), graph.CodeBadUserInput},
			{"bad slug", "organizationSlug", "Not A Slug", graph.CodeBadUserInput},
			{"slug taken", "organizationSlug", "analytical", graph.CodeConflict},
			{"email taken", "email", "ADA@example.test", graph.CodeConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				vars := signUpVars("grace@example.test", "cobol")
				vars["input"].(map[string]any)[tc.field] = tc.value
				resp := a.do(t, nil, signUpQ, vars)
				e := wantError(t, resp, tc.code, tc.field)
				if !strings.Contains(e.Message, tc.field) {
					t.Fatalf("message %q does not name %s", e.Message, tc.field)
				}
			})
		}
		if after := counts(t, c); after != before {
			t.Fatalf("refused sign-ups wrote rows: counts %s, then %s", before, after)
		}
	})
}

func TestSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		tn := seedTenant(t, db.Client, "alpha") // its owner has no password: link-only
		a, clk := newAccountAPI(db.Client)
		up := signUp(t, a, clk, "ada@example.test", "analytical")

		p := authPayload(t, a.ok(t, nil, signInQ, map[string]any{"email": " ADA@example.test", "password": "correct horse battery"}), "signIn", clk)
		if p.User.ID != up.User.ID {
			t.Fatalf("signed in as %s, want %s", p.User.ID, up.User.ID)
		}

		var wrong string
		for _, tc := range []struct{ name, email, password string }{
			{"wrong password", "ada@example.test", "correct horse battery!"},
			{"empty password", "ada@example.test", ""},
			{"unknown email", "nobody@example.test", "correct horse battery"},
			{"not an email", "nobody", "correct horse battery"},
			{"no password set", "owner@alpha.test", "correct horse battery"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := a.do(t, nil, signInQ, map[string]any{"email": tc.email, "password": tc.password})
				e := wantError(t, resp, graph.CodeUnauthenticated, "")
				if e.Message != "email or password is wrong" {
					t.Fatalf("got message %q", e.Message)
				}
				if wrong == "" {
					wrong = e.Message
				} else if e.Message != wrong {
					t.Fatalf("message %q differs from %q: it tells the cases apart", e.Message, wrong)
				}
				if resp.hasData() {
					t.Fatalf("got data %s", resp.Data)
				}
			})
		}
		_ = tn
	})
}

func TestSignInLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a, clk := newAccountAPI(c)
		up := signUp(t, a, clk, "ada@example.test", "analytical")
		ctx := sys()

		request := func(email string) {
			t.Helper()
			var data struct{ RequestSignInLink bool }
			a.ok(t, nil, requestLinkQ, map[string]any{"email": email}).decode(t, &data)
			if !data.RequestSignInLink {
				t.Fatalf("requestSignInLink(%s) = false, want true", email)
			}
		}

		// An unknown address gets the same answer and nothing is written.
		before := counts(t, c)
		request("nobody@example.test")
		if after := counts(t, c); after != before {
			t.Fatalf("a link for an unknown address wrote rows: %s, then %s", before, after)
		}
		wantError(t, a.do(t, nil, requestLinkQ, map[string]any{"email": "not an email"}), graph.CodeBadUserInput, "email")

		request("ADA@example.test")
		token := linkToken(t, c, "ada@example.test", account.MessageSignInLink, account.SignInLinkPath)
		lt := must(c.LoginToken.Query().Where(logintoken.SecretHash(credential.Hash(token))).Only(ctx)).get(t)
		if lt.Purpose != logintoken.PurposeSignIn || lt.UserID != up.User.ID || !lt.ExpiresAt.Equal(clk.Now().Add(15*time.Minute)) {
			t.Fatalf("got login token %+v, want a sign_in token for %s expiring in 15 minutes", lt, up.User.ID)
		}

		clk.advance(14 * time.Minute)
		p := authPayload(t, a.ok(t, nil, signInWithLinkQ, map[string]any{"token": token}), "signInWithLink", clk)
		if p.User.ID != up.User.ID || p.User.EmailVerifiedAt == nil || !p.User.EmailVerifiedAt.Equal(clk.Now()) {
			t.Fatalf("got user %+v, want %s, verified now by the link", p.User, up.User.ID)
		}
		if lt := must(c.LoginToken.Get(ctx, lt.ID)).get(t); lt.UsedAt == nil || !lt.UsedAt.Equal(clk.Now()) {
			t.Fatalf("login token used_at %v, want %v", lt.UsedAt, clk.Now())
		}

		invalid := func(name, tok string) {
			t.Helper()
			resp := a.do(t, nil, signInWithLinkQ, map[string]any{"token": tok})
			e := wantError(t, resp, graph.CodeUnauthenticated, "")
			if !strings.Contains(e.Message, "invalid, expired or already used") {
				t.Fatalf("%s: got message %q", name, e.Message)
			}
		}
		invalid("used twice", token)
		invalid("unknown", strings.Repeat("A", 43))
		invalid("empty", "")

		// A link dies at its expiry, unused.
		request("ada@example.test")
		late := linkToken(t, c, "ada@example.test", account.MessageSignInLink, account.SignInLinkPath)
		if late == token {
			t.Fatal("a second request returned the same token")
		}
		clk.advance(15 * time.Minute)
		invalid("expired", late)
		if lt := must(c.LoginToken.Query().Where(logintoken.SecretHash(credential.Hash(late))).Only(ctx)).get(t); lt.UsedAt != nil {
			t.Fatalf("an expired link was marked used: %+v", lt)
		}

		// A verification link does not sign in, and is not spent by trying.
		verify := linkToken(t, c, "ada@example.test", account.MessageVerifyEmail, account.VerifyEmailPath)
		invalid("verify_email token", verify)
		a.ok(t, nil, verifyEmailQ, map[string]any{"token": verify})
	})
}

func TestVerifyEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a, clk := newAccountAPI(c)
		up := signUp(t, a, clk, "ada@example.test", "analytical")
		token := linkToken(t, c, "ada@example.test", account.MessageVerifyEmail, account.VerifyEmailPath)

		clk.advance(time.Hour)
		var data struct {
			VerifyEmail struct {
				ID              string     `json:"id"`
				EmailVerifiedAt *time.Time `json:"emailVerifiedAt"`
			}
		}
		a.ok(t, nil, verifyEmailQ, map[string]any{"token": token}).decode(t, &data)
		if data.VerifyEmail.ID != up.User.ID || data.VerifyEmail.EmailVerifiedAt == nil || !data.VerifyEmail.EmailVerifiedAt.Equal(clk.Now()) {
			t.Fatalf("got %+v, want %s verified at %v", data.VerifyEmail, up.User.ID, clk.Now())
		}
		if u := must(c.User.Get(sys(), up.User.ID)).get(t); u.EmailVerifiedAt == nil {
			t.Fatal("email_verified_at not stored")
		}
		wantError(t, a.do(t, nil, verifyEmailQ, map[string]any{"token": token}), graph.CodeUnauthenticated, "")

		// Expired after seven days; a sign-in link is no verification link.
		signUp(t, a, clk, "grace@example.test", "cobol")
		late := linkToken(t, c, "grace@example.test", account.MessageVerifyEmail, account.VerifyEmailPath)
		clk.advance(account.VerifyEmailTTL)
		wantError(t, a.do(t, nil, verifyEmailQ, map[string]any{"token": late}), graph.CodeUnauthenticated, "")
		a.ok(t, nil, requestLinkQ, map[string]any{"email": "grace@example.test"})
		signIn := linkToken(t, c, "grace@example.test", account.MessageSignInLink, account.SignInLinkPath)
		wantError(t, a.do(t, nil, verifyEmailQ, map[string]any{"token": signIn}), graph.CodeUnauthenticated, "")
		if u := must(c.User.Query().Where(user.Email("grace@example.test")).Only(sys())).get(t); u.EmailVerifiedAt != nil {
			t.Fatalf("grace verified by a refused link: %v", u.EmailVerifiedAt)
		}
	})
}

func TestSignOutEverywhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a, clk := newAccountAPI(c)
		up := signUp(t, a, clk, "ada@example.test", "analytical")
		org := must(c.Organization.Query().Where(organization.Slug("analytical")).OnlyID(sys())).get(t)
		me := &viewer.Viewer{OrgID: org, UserID: up.User.ID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: up.User.ID}

		wantError(t, a.do(t, nil, signOutQ, nil), graph.CodeUnauthenticated, "")
		mcp := &viewer.Viewer{OrgID: org, Role: viewer.RoleOwner, ActorType: viewer.ActorMCP, ActorID: "mcp_x", TokenID: "mcp_x"}
		wantError(t, a.do(t, mcp, signOutQ, nil), graph.CodeForbidden, "")

		var data struct{ SignOutEverywhere bool }
		a.ok(t, me, signOutQ, nil).decode(t, &data)
		if !data.SignOutEverywhere {
			t.Fatal("signOutEverywhere = false")
		}
		if u := must(c.User.Get(sys(), up.User.ID)).get(t); u.SessionVersion != 1 {
			t.Fatalf("session_version %d, want 1", u.SessionVersion)
		}
		// Sessions signed from now on carry the new version; older ones carry 0.
		old, _ := auth.Sessions{Key: testKeys.Session, Now: clk.Now}.Verify(up.Session)
		p := authPayload(t, a.ok(t, nil, signInQ, map[string]any{"email": "ada@example.test", "password": "correct horse battery"}), "signIn", clk)
		s, _ := auth.Sessions{Key: testKeys.Session, Now: clk.Now}.Verify(p.Session)
		if old.Version != 0 || s.Version != 1 {
			t.Fatalf("session versions: before %d, after %d; want 0 and 1", old.Version, s.Version)
		}
	})
}

// createdToken is the data of createMCPToken and rotateMCPToken.
type createdToken struct {
	Token    string `json:"token"`
	MCPToken struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		Hint        string     `json:"hint"`
		ReadOnly    bool       `json:"readOnly"`
		RevokedAt   *time.Time `json:"revokedAt"`
		CreatedByID *string    `json:"createdByID"`
	} `json:"mcpToken"`
}

func createToken(t *testing.T, a *api, v *viewer.Viewer, name string, readOnly bool) createdToken {
	t.Helper()
	var data struct{ CreateMCPToken createdToken }
	a.ok(t, v, createTokenQ, map[string]any{"input": map[string]any{"name": name, "readOnly": readOnly}}).decode(t, &data)
	return data.CreateMCPToken
}

// seatsThatMayNotManage are viewers of tn's organization that can never
// create, rotate or revoke credentials, with the code each gets.
func seatsThatMayNotManage(t *testing.T, c *ent.Client, tn *tenant) []struct {
	name string
	v    *viewer.Viewer
	code string
} {
	t.Helper()
	ctx := sys()
	admin := must(c.User.Create().SetEmail("admin@" + tn.OrgID + ".test").Save(ctx)).get(t).ID
	must(c.Membership.Create().SetOrgID(tn.OrgID).SetUserID(admin).SetRole(membership.RoleAdmin).Save(ctx)).get(t)
	return []struct {
		name string
		v    *viewer.Viewer
		code string
	}{
		{"member", tn.Member, graph.CodeForbidden},
		{"admin", &viewer.Viewer{OrgID: tn.OrgID, UserID: admin, Role: viewer.RoleAdmin, ActorType: viewer.ActorUser, ActorID: admin}, graph.CodeForbidden},
		// Tokens and keys act with the owner's role, and still may not.
		{"mcpToken", &viewer.Viewer{OrgID: tn.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorMCP, ActorID: tn.MCPToken, TokenID: tn.MCPToken}, graph.CodeForbidden},
		{"apiKey", &viewer.Viewer{OrgID: tn.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorAPIKey, ActorID: tn.APIKey, TokenID: tn.APIKey}, graph.CodeForbidden},
		{"noViewer", nil, graph.CodeUnauthenticated},
	}
}

func TestMCPTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a := seedTenant(t, c, "alpha")
		b := seedTenant(t, c, "bravo")
		api, clk := newAccountAPI(c)
		ctx := sys()

		got := createToken(t, api, a.Owner, "  Claude Desktop laptop ", true)
		if k, err := credential.Parse(got.Token); err != nil || k != credential.KindMCP {
			t.Fatalf("token %q: kind %q, %v; want a well-formed rk_mcp_ token", credential.Redact(got.Token), k, err)
		}
		if got.MCPToken.Name != "Claude Desktop laptop" || !got.MCPToken.ReadOnly || got.MCPToken.RevokedAt != nil ||
			got.MCPToken.Hint != credential.Redact(got.Token) || got.MCPToken.CreatedByID == nil || *got.MCPToken.CreatedByID != a.OwnerUser {
			t.Fatalf("got %+v, want the named, read-only, active token made by %s", got.MCPToken, a.OwnerUser)
		}
		row := must(c.MCPToken.Get(ctx, got.MCPToken.ID)).get(t)
		if row.SecretHash != credential.Hash(got.Token) || row.OrgID != a.OrgID {
			t.Fatalf("stored row %+v: want the token's hash in %s", row, a.OrgID)
		}

		for _, tc := range []struct{ name, value string }{{"empty", " "}, {"long", strings.Repeat("n", 101)}} {
			resp := api.do(t, a.Owner, createTokenQ, map[string]any{"input": map[string]any{"name": tc.value}})
			wantError(t, resp, graph.CodeBadUserInput, "name")
		}

		t.Run("refused", func(t *testing.T) {
			seats := seatsThatMayNotManage(t, c, a)
			before := counts(t, c)
			for _, s := range seats {
				for name, q := range map[string]struct {
					query string
					vars  map[string]any
				}{
					"createMCPToken": {createTokenQ, map[string]any{"input": map[string]any{"name": "mine now"}}},
					"rotateMCPToken": {rotateTokenQ, map[string]any{"id": got.MCPToken.ID}},
					"revokeMCPToken": {revokeTokenQ, map[string]any{"id": got.MCPToken.ID}},
					"createAPIKey":   {createKeyQ, map[string]any{"input": map[string]any{"name": "mine now"}}},
					"revokeAPIKey":   {revokeKeyQ, map[string]any{"id": a.APIKey}},
				} {
					t.Run(s.name+"/"+name, func(t *testing.T) {
						resp := api.do(t, s.v, q.query, q.vars)
						wantError(t, resp, s.code, "")
						if resp.hasData() {
							t.Fatalf("got data %s", resp.Data)
						}
					})
				}
			}
			// Another organization's owner finds nothing to rotate or revoke.
			for _, q := range []string{rotateTokenQ, revokeTokenQ} {
				wantError(t, api.do(t, b.Owner, q, map[string]any{"id": got.MCPToken.ID}), graph.CodeNotFound, "")
			}
			wantError(t, api.do(t, b.Owner, revokeKeyQ, map[string]any{"id": a.APIKey}), graph.CodeNotFound, "")
			if after := counts(t, c); after != before {
				t.Fatalf("refused mutations wrote rows: %s, then %s", before, after)
			}
			if r := must(c.MCPToken.Get(ctx, got.MCPToken.ID)).get(t); r.RevokedAt != nil {
				t.Fatalf("a refused mutation revoked the token")
			}
			if k := must(c.APIKey.Get(ctx, a.APIKey)).get(t); k.RevokedAt != nil {
				t.Fatalf("a refused mutation revoked the key")
			}
		})

		t.Run("rotate", func(t *testing.T) {
			clk.advance(time.Minute)
			var data struct{ RotateMCPToken createdToken }
			api.ok(t, a.Owner, rotateTokenQ, map[string]any{"id": got.MCPToken.ID}).decode(t, &data)
			next := data.RotateMCPToken
			if next.Token == got.Token || next.MCPToken.ID == got.MCPToken.ID {
				t.Fatal("rotation returned the old token")
			}
			if next.MCPToken.Name != got.MCPToken.Name || next.MCPToken.ReadOnly != got.MCPToken.ReadOnly || next.MCPToken.RevokedAt != nil {
				t.Fatalf("got %+v, want an active token named and scoped like %+v", next.MCPToken, got.MCPToken)
			}
			// The old plaintext's row is revoked; the new one's is active.
			old := must(c.MCPToken.Query().Where(mcptoken.SecretHash(credential.Hash(got.Token))).Only(ctx)).get(t)
			if old.RevokedAt == nil || !old.RevokedAt.Equal(clk.Now()) {
				t.Fatalf("old token revoked_at %v, want %v", old.RevokedAt, clk.Now())
			}
			if n := must(c.MCPToken.Query().Where(mcptoken.SecretHash(credential.Hash(next.Token)), mcptoken.RevokedAtIsNil()).Count(ctx)).get(t); n != 1 {
				t.Fatalf("%d active rows for the new token, want 1", n)
			}
			resp := api.do(t, a.Owner, rotateTokenQ, map[string]any{"id": got.MCPToken.ID})
			wantError(t, resp, graph.CodeConflict, "")

			// Revoking is idempotent.
			var first, second struct {
				RevokeMCPToken struct {
					ID        string     `json:"id"`
					RevokedAt *time.Time `json:"revokedAt"`
				}
			}
			api.ok(t, a.Owner, revokeTokenQ, map[string]any{"id": next.MCPToken.ID}).decode(t, &first)
			clk.advance(time.Minute)
			api.ok(t, a.Owner, revokeTokenQ, map[string]any{"id": next.MCPToken.ID}).decode(t, &second)
			if first.RevokeMCPToken.RevokedAt == nil || second.RevokeMCPToken.RevokedAt == nil ||
				!first.RevokeMCPToken.RevokedAt.Equal(*second.RevokeMCPToken.RevokedAt) {
				t.Fatalf("revoked at %v, then %v; want set once", first.RevokeMCPToken.RevokedAt, second.RevokeMCPToken.RevokedAt)
			}
		})
	})
}

func TestMCPTokenCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a := seedTenant(t, c, "alpha")
		b := seedTenant(t, c, "bravo")
		api, _ := newAccountAPI(c)
		ctx := sys()
		active := func(org string) int {
			return must(c.MCPToken.Query().Where(mcptoken.OrgID(org), mcptoken.RevokedAtIsNil()).Count(ctx)).get(t)
		}

		var last createdToken
		for i := active(a.OrgID); i < account.MaxActiveMCPTokens; i++ {
			last = createToken(t, api, a.Owner, fmt.Sprintf("device %d", i), false)
		}
		total := must(c.MCPToken.Query().Count(ctx)).get(t)
		resp := api.do(t, a.Owner, createTokenQ, map[string]any{"input": map[string]any{"name": "one too many"}})
		e := wantError(t, resp, graph.CodeLimitReached, "")
		if e.Message != "an organization can have at most 10 active MCP tokens; revoke one first" {
			t.Fatalf("got message %q", e.Message)
		}
		if n := must(c.MCPToken.Query().Count(ctx)).get(t); n != total || active(a.OrgID) != 10 {
			t.Fatalf("the refused token was stored: %d rows, want %d", n, total)
		}
		// The cap is per organization.
		createToken(t, api, b.Owner, "bravo's own", false)
		// Rotating at the cap keeps the count; revoking one makes room.
		api.ok(t, a.Owner, rotateTokenQ, map[string]any{"id": last.MCPToken.ID})
		if n := active(a.OrgID); n != 10 {
			t.Fatalf("%d active after rotating at the cap, want 10", n)
		}
		api.ok(t, a.Owner, revokeTokenQ, map[string]any{"id": a.MCPToken})
		createToken(t, api, a.Owner, "room again", false)
		wantError(t, api.do(t, a.Owner, createTokenQ, map[string]any{"input": map[string]any{"name": "full again"}}), graph.CodeLimitReached, "")
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a := seedTenant(t, c, "alpha")
		api, clk := newAccountAPI(c)
		ctx := sys()

		var data struct {
			CreateAPIKey struct {
				Key           string `json:"key"`
				SigningSecret string `json:"signingSecret"`
				APIKey        struct {
					ID          string     `json:"id"`
					Name        string     `json:"name"`
					Hint        string     `json:"hint"`
					RevokedAt   *time.Time `json:"revokedAt"`
					CreatedByID *string    `json:"createdByID"`
				} `json:"apiKey"`
			}
		}
		api.ok(t, a.Owner, createKeyQ, map[string]any{"input": map[string]any{"name": "checkout server"}}).decode(t, &data)
		got := data.CreateAPIKey
		if k, err := credential.Parse(got.Key); err != nil || k != credential.KindAPIKey {
			t.Fatalf("key: kind %q, %v; want rk_live_", k, err)
		}
		if k, err := credential.Parse(got.SigningSecret); err != nil || k != credential.KindSigningSecret {
			t.Fatalf("signing secret: kind %q, %v; want rks_", k, err)
		}
		if got.APIKey.Name != "checkout server" || got.APIKey.Hint != credential.Redact(got.Key) || got.APIKey.RevokedAt != nil ||
			got.APIKey.CreatedByID == nil || *got.APIKey.CreatedByID != a.OwnerUser {
			t.Fatalf("got %+v", got.APIKey)
		}
		row := must(c.APIKey.Get(ctx, got.APIKey.ID)).get(t)
		if row.SecretHash != credential.Hash(got.Key) || row.OrgID != a.OrgID {
			t.Fatalf("stored key hash %q, want the key's hash", row.SecretHash)
		}
		if secret, err := credential.Unseal(testKeys.Encryption, row.SigningSecretSealed); err != nil || secret != got.SigningSecret {
			t.Fatalf("the sealed signing secret does not open to the secret: %v", err)
		}
		wantError(t, api.do(t, a.Owner, createKeyQ, map[string]any{"input": map[string]any{"name": ""}}), graph.CodeBadUserInput, "name")

		var first, second struct {
			RevokeAPIKey struct {
				RevokedAt *time.Time `json:"revokedAt"`
			}
		}
		api.ok(t, a.Owner, revokeKeyQ, map[string]any{"id": got.APIKey.ID}).decode(t, &first)
		clk.advance(time.Minute)
		api.ok(t, a.Owner, revokeKeyQ, map[string]any{"id": got.APIKey.ID}).decode(t, &second)
		if first.RevokeAPIKey.RevokedAt == nil || second.RevokeAPIKey.RevokedAt == nil ||
			!first.RevokeAPIKey.RevokedAt.Equal(*second.RevokeAPIKey.RevokedAt) {
			t.Fatalf("revoked at %v, then %v; want set once", first.RevokeAPIKey.RevokedAt, second.RevokeAPIKey.RevokedAt)
		}
	})
}

// dumpText returns every value of every column of every table, as text, the
// way someone holding a copy of the database would read it.
func dumpText(t *testing.T, db *store.DB) string {
	t.Helper()
	tablesQ := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect == dialect.Postgres {
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	rows, err := db.SQL.Query(tablesQ)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 15 {
		t.Fatalf("found only tables %v", tables)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.SQL.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					b.Write(v)
				case string:
					b.WriteString(v)
				default:
					fmt.Fprint(&b, v)
				}
				b.WriteByte('\n')
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestPlaintextNeverStored reads the whole database after credentials are
// made and finds none of their plaintexts, nor their random bodies, nor
// the password: only hashes, hints and the sealed signing secret.
func TestPlaintextNeverStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		c := db.Client
		a := seedTenant(t, c, "alpha")
		api, clk := newAccountAPI(c)
		signUp(t, api, clk, "ada@example.test", "analytical")

		first := createToken(t, api, a.Owner, "laptop", false)
		var rotated struct{ RotateMCPToken createdToken }
		api.ok(t, a.Owner, rotateTokenQ, map[string]any{"id": first.MCPToken.ID}).decode(t, &rotated)
		var key struct {
			CreateAPIKey struct {
				Key           string `json:"key"`
				SigningSecret string `json:"signingSecret"`
			}
		}
		api.ok(t, a.Owner, createKeyQ, map[string]any{"input": map[string]any{"name": "server"}}).decode(t, &key)

		dump := dumpText(t, db)
		secrets := map[string]string{
			"MCP token":         first.Token,
			"rotated MCP token": rotated.RotateMCPToken.Token,
			"API key":           key.CreateAPIKey.Key,
			"signing secret":    key.CreateAPIKey.SigningSecret,
		}
		for name, s := range secrets {
			k, err := credential.Parse(s)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body := s[len(k) : len(k)+credential.BodyLen]
			if strings.Contains(dump, s) || strings.Contains(dump, body) {
				t.Errorf("the database holds the %s (%s)", name, credential.Redact(s))
			}
		}
		if strings.Contains(dump, "correct horse battery") {
			t.Error("the database holds a password")
		}
		// The dump does read the credential tables: the hashes are there.
		for name, s := range secrets {
			if name != "signing secret" && !strings.Contains(dump, credential.Hash(s)) {
				t.Errorf("the dump lacks the %s's hash: it does not read every column", name)
			}
		}
	})
}
