// Package rest is the REST shim partners' servers call at /api/v1: each
// endpoint runs one named GraphQL operation (rest/operations/*.graphql)
// in-process, so every rule of the core applies to it unchanged.
package rest

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/gate"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/viewer"
)

//go:embed operations/*.graphql
var operationFiles embed.FS

// Operations are the REST shim's GraphQL operations.
func Operations() fs.FS {
	sub, _ := fs.Sub(operationFiles, "operations")
	return sub
}

// SignatureHeader carries a server-to-server request's signature: the relay
// format (t=<unix>,v1=<hex>) over {t}.{METHOD}.{path}.{body_sha256_hex},
// keyed with the API key's rks_ signing secret.
const SignatureHeader = "X-Tandem-Signature"

// Config is what the shim needs.
type Config struct {
	Runner  *graph.Runner
	Authn   *identity.Authenticator
	Keys    keys.Keys
	Replay  relay.ReplayCache
	MaxBody int64
}

// Handler returns the /api/v1 routes.
func Handler(cfg Config) http.Handler {
	r := chi.NewRouter()
	r.Use(cfg.authenticate)
	r.Get("/organization", cfg.single("get_organization", nil))
	r.Get("/campaigns", cfg.page("list_campaigns"))
	r.Post(ConversionsPath, cfg.recordConversion)
	return r
}

// authenticate admits an rk_live_ key whose request is signed with its rks_
// secret (and whose plan passes the public-API gate), or an rk_mcp_ token
// co-signed by the relay, or a dashboard session. Anything else is refused.
func (cfg Config) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, _ := credential.Bearer(r.Header.Get("Authorization"))
		var v *viewer.Viewer
		var err error
		if strings.HasPrefix(bearer, string(credential.KindAPIKey)) {
			v, err = cfg.apiKey(r, bearer)
		} else {
			v, err = cfg.Authn.Authenticate(r)
		}
		var ae *identity.Error
		switch {
		case errors.As(err, &ae):
			identity.WriteError(w, ae)
			return
		case err != nil:
			writeError(w, http.StatusInternalServerError, "internal", "authentication is unavailable; try again")
			return
		case v == nil:
			writeError(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer rk_live_… with an "+SignatureHeader+" signature")
			return
		}
		if err := gate.PublicAPI(v); err != nil {
			writeGateError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	})
}

func (cfg Config) apiKey(r *http.Request, key string) (*viewer.Viewer, error) {
	v, sealed, err := cfg.Authn.APIKeyViewer(r.Context(), key)
	if err != nil {
		return nil, err
	}
	secret, err := credential.Unseal(cfg.Keys.Encryption, sealed)
	if err != nil {
		return nil, err
	}
	// The signature travels in its own header; verify it with the relay's code.
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return nil, &identity.Error{Status: http.StatusUnauthorized, Code: "signature_required",
			Message: "sign each request with the key's rks_ secret in " + SignatureHeader}
	}
	r.Header.Set(relay.Header, sig)
	defer r.Header.Del(relay.Header)
	// Replay keys are per key: the same request signed by two different keys
	// is two requests.
	verifier := relay.Verifier{Secrets: [][]byte{[]byte(secret)}, Replay: scopedReplay{cfg.Replay, "apikey:" + v.TokenID + ":"}}
	if _, err := verifier.VerifyRequest(r, cfg.MaxBody); err != nil {
		return nil, &identity.Error{Status: http.StatusUnauthorized, Code: "invalid_signature",
			Message: "the request signature did not verify: sign {t}.{METHOD}.{path}.{sha256(body)} with the rks_ secret, within 300 s"}
	}
	v.RequestID = r.Header.Get("X-Request-Id")
	return v, nil
}

// scopedReplay namespaces a replay cache.
type scopedReplay struct {
	relay.ReplayCache
	prefix string
}

func (s scopedReplay) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.ReplayCache.Seen(ctx, s.prefix+key, ttl)
}

// single answers the operation's one root field.
func (cfg Config) single(op string, vars func(*http.Request) (map[string]any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var variables map[string]any
		if vars != nil {
			var err error
			if variables, err = vars(r); err != nil {
				writeError(w, http.StatusBadRequest, "bad_request", err.Error())
				return
			}
		}
		data, ok := cfg.run(w, r.Context(), op, variables)
		if ok {
			writeJSON(w, http.StatusOK, data)
		}
	}
}

// page answers a connection as the seed's page: {items, nextCursor, hasMore}.
func (cfg Config) page(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		vars := map[string]any{}
		if s := r.URL.Query().Get("take"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 200 {
				writeError(w, http.StatusBadRequest, "bad_request", "take must be a whole number from 1 to 200")
				return
			}
			vars["take"] = n
		}
		if c := r.URL.Query().Get("cursor"); c != "" {
			vars["cursor"] = c
		}
		data, ok := cfg.run(w, r.Context(), op, vars)
		if !ok {
			return
		}
		var conn struct {
			PageInfo struct {
				HasNextPage bool    `json:"hasNextPage"`
				EndCursor   *string `json:"endCursor"`
			} `json:"pageInfo"`
			Edges []struct {
				Node json.RawMessage `json:"node"`
			} `json:"edges"`
		}
		if err := json.Unmarshal(data, &conn); err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		items := make([]json.RawMessage, len(conn.Edges))
		for i, e := range conn.Edges {
			items[i] = e.Node
		}
		next := ""
		if conn.PageInfo.HasNextPage && conn.PageInfo.EndCursor != nil {
			next = *conn.PageInfo.EndCursor
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next, "hasMore": conn.PageInfo.HasNextPage})
	}
}

// run executes op and returns its single root field's JSON, or writes the
// error response and returns false.
func (cfg Config) run(w http.ResponseWriter, ctx context.Context, op string, vars map[string]any) (json.RawMessage, bool) {
	resp := cfg.Runner.Run(ctx, op, vars)
	if len(resp.Errors) > 0 {
		p := graph.Public(resp.Errors[0])
		writeJSON(w, p.Status, p)
		return nil, false
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(resp.Data, &root); err != nil || len(root) != 1 {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return nil, false
	}
	for _, v := range root {
		return v, true
	}
	return nil, false
}

func writeGateError(w http.ResponseWriter, err error) {
	var ge *gate.Error
	if !errors.As(err, &ge) {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	body := map[string]string{"error": ge.Code, "message": ge.Message}
	if ge.RequiredTier != "" {
		body["requiredTier"] = ge.RequiredTier
	}
	writeJSON(w, ge.Status, body)
}

// writeError answers in the same JSON shape as authentication failures.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	identity.WriteError(w, &identity.Error{Status: status, Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
