package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/rest"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store/storetest"
)

// TestRESTRecordConversion posts sales to /api/v1/conversions as a
// partner's server does: an rk_live_ key, the body signed with its rks_
// secret.
func TestRESTRecordConversion(t *testing.T) {
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
			cmp := db.Client.Campaign.Create().SetOrgID(o.id).SetName("Main").SetSlug("main").SaveX(ctx)
			db.Client.Affiliate.Create().SetOrgID(o.id).SetCampaignID(cmp.ID).SetEmail("jane@" + slug + ".test").
				SetSlug(slug + "-jane").SetStatus(affiliate.StatusApproved).SaveX(ctx)
			return o
		}
		growth, trial := mk("growth", "growth"), mk("trial", "trial")

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
		// post sends body to /api/v1/conversions; sign signs the request with
		// the bytes it is given (nil: unsigned).
		post := func(body, bearer, contentType string, sign func(*http.Request, []byte)) reply {
			t.Helper()
			n++ // a request id keeps two identical calls in one second distinct for the replay cache
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1"+rest.ConversionsPath+"?rid="+strconv.Itoa(n), strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			if sign != nil {
				sign(req, []byte(body))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			r := reply{status: resp.StatusCode}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&r.body); err != nil {
				t.Fatalf("%d %s: not JSON", resp.StatusCode, raw)
			}
			return r
		}
		signWith := func(secret string) func(*http.Request, []byte) {
			return func(r *http.Request, body []byte) {
				r.Header.Set(rest.SignatureHeader, relay.Signer{Secret: []byte(secret)}.Sign(r.Method, relay.Target(r.URL), body))
			}
		}
		const jsonCT = "application/json"
		sale := `{"slug": "growth-jane", "amountCents": 4900, "currency": "USD", "orderId": "ORDER-1001", "email": "Buyer@Example.com"}`

		r := post(sale, growth.key, jsonCT, signWith(growth.secret))
		if r.status != http.StatusCreated {
			t.Fatalf("first call: %d %v", r.status, r.body)
		}
		id, _ := r.body["id"].(string)
		for k, want := range map[string]any{
			"status": "Pending", "type": "Sale", "amountCents": json.Number("4900"), "commissionCents": json.Number("980"),
			"currency": "USD", "externalId": "ORDER-1001", "created": true,
		} {
			if r.body[k] != want {
				t.Errorf("%s: got %v, want %v (body %v)", k, r.body[k], want, r.body)
			}
		}
		if !strings.HasPrefix(id, "cnv_") || !strings.HasPrefix(r.body["affiliateId"].(string), "aff_") || !strings.HasPrefix(r.body["campaignId"].(string), "cmp_") {
			t.Fatalf("ids in %v", r.body)
		}
		// The retry (signed anew) answers 200 with the same conversion.
		r = post(sale, growth.key, jsonCT, signWith(growth.secret))
		if r.status != http.StatusOK || r.body["id"] != id || r.body["created"] != false {
			t.Fatalf("retry: %d %v, want 200 with %s and created false", r.status, r.body, id)
		}
		cnv := db.Client.Conversion.Query().Where(conversion.ID(id)).OnlyX(ctx)
		if cnv.OrgID != growth.id || cnv.CustomerEmail != "buyer@example.com" {
			t.Fatalf("stored %+v", cnv)
		}
		if n := db.Client.Conversion.Query().CountX(ctx); n != 1 {
			t.Fatalf("%d conversions after a retry, want 1", n)
		}

		tampered := func(r *http.Request, body []byte) {
			signWith(growth.secret)(r, []byte(strings.Replace(string(body), "4900", "49", 1)))
		}
		for name, tc := range map[string]struct {
			body, bearer, ct string
			sign             func(*http.Request, []byte)
			status           int
			code, field      string
		}{
			"trial key: public gate": {sale, trial.key, jsonCT, signWith(trial.secret), 402, "plan_tier_required", ""},
			"signed with another":    {sale, growth.key, jsonCT, signWith(trial.secret), 401, "invalid_signature", ""},
			"body changed":           {sale, growth.key, jsonCT, tampered, 401, "invalid_signature", ""},
			"unsigned":               {sale, growth.key, jsonCT, nil, 401, "signature_required", ""},
			"not JSON":               {sale, growth.key, "text/plain", signWith(growth.secret), 415, "unsupported_media_type", ""},
			"unknown field":          {`{"slug":"growth-jane","amount":4900}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "amount"},
			"amount as text":         {`{"slug":"growth-jane","amountCents":"49.00","currency":"USD","orderId":"x"}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "amountCents"},
			"no order id":            {`{"slug":"growth-jane","amountCents":4900,"currency":"USD"}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "orderId"},
			"bad type":               {`{"slug":"growth-jane","amountCents":4900,"currency":"USD","orderId":"x","type":"Refund"}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "type"},
			"bad time":               {`{"slug":"growth-jane","amountCents":4900,"currency":"USD","orderId":"x","occurredAt":"yesterday"}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "occurredAt"},
			"two objects":            {sale + sale, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", ""},
			"no affiliate":           {`{"amountCents":4900,"currency":"USD","orderId":"x"}`, growth.key, jsonCT, signWith(growth.secret), 400, "invalid_argument", "slug"},
			"unknown slug":           {`{"slug":"trial-jane","amountCents":4900,"currency":"USD","orderId":"x"}`, growth.key, jsonCT, signWith(growth.secret), 404, "not_found", "slug"},
			"reused order id":        {strings.Replace(sale, "4900", "5900", 1), growth.key, jsonCT, signWith(growth.secret), 409, "order_id_reused", "orderId"},
		} {
			t.Run(name, func(t *testing.T) {
				r := post(tc.body, tc.bearer, tc.ct, tc.sign)
				if r.status != tc.status || r.body["error"] != tc.code {
					t.Fatalf("got %d %v, want %d %s", r.status, r.body, tc.status, tc.code)
				}
				if tc.field != "" && r.body["field"] != tc.field {
					t.Fatalf("got field %v in %v, want %s", r.body["field"], r.body, tc.field)
				}
				if tc.code == "plan_tier_required" && r.body["requiredTier"] != "Growth" {
					t.Fatalf("plan refusal %v does not name Growth", r.body)
				}
				if msg, _ := r.body["message"].(string); msg == "" {
					t.Fatalf("no message in %v", r.body)
				}
			})
		}
		if n := db.Client.Conversion.Query().CountX(ctx); n != 1 {
			t.Fatalf("refused calls recorded conversions: %d in all, want 1", n)
		}

		// An AI assistant's relayed call bypasses the public-API gate: a Trial
		// organization records a sale through MCP.
		relayed := func(r *http.Request, body []byte) { relay.Signer{Secret: k.RelaySecrets[0]}.SignRequest(r, body) }
		r = post(`{"slug":"trial-jane","amountCents":1000,"currency":"USD","orderId":"T-1"}`, trial.token, jsonCT, relayed)
		if r.status != http.StatusCreated || r.body["commissionCents"] != json.Number("200") {
			t.Fatalf("relayed MCP call on Trial: %d %v", r.status, r.body)
		}
	})
}

// The install recipes that send sales from a server name this endpoint as
// it is: its path, its body fields, its signature header and its answers.
func TestRecipesNameTheConversionEndpoint(t *testing.T) {
	const base = "https://tandem.example"
	reg := install.Recipes()
	keys := []string{"an-unknown-platform"} // the generic recipe's server-to-server path
	for _, p := range reg.Platforms() {
		if p.RequiresAPIKey {
			keys = append(keys, p.PlatformKey)
		}
	}
	if len(keys) < 2 {
		t.Fatal("no recipe uses the server-to-server API")
	}
	for _, key := range keys {
		r, err := reg.Recipe(key, base)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, s := range r.Steps {
			texts = append(texts, s.Detail)
		}
		text := strings.Join(texts, "\n")
		for _, want := range []string{
			"POST the sale to " + base + "/api/v1" + rest.ConversionsPath, rest.SignatureHeader, "rk_live_", "rks_",
			"slug", "amountCents", "currency", "orderId", "email", "customerName", "type", "occurredAt", "campaignId",
			"201", "created: false", "plan_tier_required",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the steps do not mention %q", key, want)
			}
		}
		if strings.Contains(text, "/api/v1/…") || strings.Contains(text, "API reference") {
			t.Errorf("%s: a step still points at an unnamed endpoint", key)
		}
	}
}
