package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/rest"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store/storetest"
)

type org struct {
	id, key, secret, token string
}

func TestRESTShim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		k := keys.Random()
		ctx := rule.AsSystem(context.Background())
		mk := func(slug, plan string) org {
			res, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: slug, Slug: slug, OwnerEmail: "o@" + slug + ".test", Plan: plan})
			if err != nil {
				t.Fatal(err)
			}
			o := org{id: res.OrgID}
			o.key, _ = credential.New(credential.KindAPIKey)
			o.secret, _ = credential.New(credential.KindSigningSecret)
			sealed, err := credential.Seal(k.Encryption, o.secret)
			if err != nil {
				t.Fatal(err)
			}
			db.Client.APIKey.Create().SetOrgID(o.id).SetName("server").SetSecretHash(credential.Hash(o.key)).
				SetHint(credential.Redact(o.key)).SetSigningSecretSealed(sealed).SaveX(ctx)
			o.token, _ = credential.New(credential.KindMCP)
			db.Client.MCPToken.Create().SetOrgID(o.id).SetName("ai").SetSecretHash(credential.Hash(o.token)).
				SetHint(credential.Redact(o.token)).SaveX(ctx)
			for _, name := range []string{"One", "Two", "Three"} {
				db.Client.Campaign.Create().SetOrgID(o.id).SetName(name).SetSlug(strings.ToLower(name)).SaveX(ctx)
			}
			return o
		}
		growth, starter := mk("growth", "growth"), mk("starter", "starter")

		h, err := server.New(context.Background(), server.Config{DB: db, Keys: k})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()

		type reply struct {
			status int
			body   map[string]any
		}
		n := 0
		get := func(path, bearer string, sign func(*http.Request)) reply {
			t.Helper()
			// A request id makes every signed request unique, as the seed's
			// relay and partners do: the replay cache refuses exact repeats.
			n++
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path+sep+"rid="+strconv.Itoa(n), nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			if sign != nil {
				sign(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			r := reply{status: resp.StatusCode}
			if err := json.Unmarshal(raw, &r.body); err != nil {
				t.Fatalf("%s: %d %s: not JSON", path, resp.StatusCode, raw)
			}
			return r
		}
		signWith := func(secret string) func(*http.Request) {
			return func(r *http.Request) {
				r.Header.Set(rest.SignatureHeader, relay.Signer{Secret: []byte(secret)}.Sign(r.Method, relay.Target(r.URL), nil))
			}
		}
		relayed := func(r *http.Request) { relay.Signer{Secret: k.RelaySecrets[0]}.SignRequest(r, nil) }

		r := get("/api/v1/organization", growth.key, signWith(growth.secret))
		if r.status != 200 || r.body["slug"] != "growth" || r.body["planTier"] != "Growth" {
			t.Fatalf("signed key call: %d %v", r.status, r.body)
		}
		for name, tc := range map[string]struct {
			path, bearer string
			sign         func(*http.Request)
			status       int
			code         string
		}{
			"no credentials":           {"/api/v1/organization", "", nil, 401, "unauthorized"},
			"unsigned key":             {"/api/v1/organization", growth.key, nil, 401, "signature_required"},
			"key signed with another":  {"/api/v1/organization", growth.key, signWith(starter.secret), 401, "invalid_signature"},
			"starter key: public gate": {"/api/v1/organization", starter.key, signWith(starter.secret), 402, "plan_tier_required"},
			"MCP token without relay":  {"/api/v1/organization", starter.token, nil, 401, "mcp_relay_required"},
			"take out of range":        {"/api/v1/campaigns?take=500", growth.key, signWith(growth.secret), 400, "bad_request"},
		} {
			t.Run(name, func(t *testing.T) {
				r := get(tc.path, tc.bearer, tc.sign)
				if r.status != tc.status || r.body["error"] != tc.code {
					t.Fatalf("got %d %v, want %d %s", r.status, r.body, tc.status, tc.code)
				}
				if tc.code == "plan_tier_required" && r.body["requiredTier"] != "Growth" {
					t.Fatalf("plan refusal %v does not name Growth", r.body)
				}
			})
		}

		// MCP-relayed traffic bypasses the public-API gate: a Starter org's assistant works.
		if r := get("/api/v1/organization", starter.token, relayed); r.status != 200 || r.body["slug"] != "starter" {
			t.Fatalf("relayed MCP call on Starter: %d %v", r.status, r.body)
		}

		// Pages in the seed's shape, walked by cursor, never crossing organizations.
		var seen []string
		cursor := ""
		for i := 0; i < 5; i++ {
			path := "/api/v1/campaigns?take=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			r := get(path, growth.key, signWith(growth.secret))
			if r.status != 200 {
				t.Fatalf("page %d: %d %v", i, r.status, r.body)
			}
			for _, it := range r.body["items"].([]any) {
				seen = append(seen, it.(map[string]any)["slug"].(string))
			}
			if r.body["hasMore"] != true {
				break
			}
			cursor = r.body["nextCursor"].(string)
		}
		if strings.Join(seen, ",") != "three,two,one" {
			t.Fatalf("walked %v, want the org's three campaigns newest first", seen)
		}
	})
}
