package mcpadapter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/relay"
)

// Caller is the relay's half of a tool call: it signs the call exactly as
// the seed's relay does (X-Rekomi-MCP-Identity over the method, path and
// body) and sends it to the API. With an in-process transport the request
// never leaves the process; with an HTTP transport it goes to another
// instance (tandem serve --role relay --upstream URL). The API verifies it
// the same way in both cases.
type Caller struct {
	Upstream  *url.URL          // the API's base URL
	Transport http.RoundTripper // InProcess(handler) or an HTTP transport
	Signer    relay.Signer
	MaxBody   int64 // largest API response read; 0: 8 MiB

	mu     sync.Mutex
	whoami map[string]whoamiEntry
}

type whoamiEntry struct {
	who     WhoAmI
	expires time.Time
}

// whoamiTTL bounds how stale the relay's view of a token's scope may be; it
// matches the API's auth cache, so revocation still lands within seconds.
const whoamiTTL = 5 * time.Second

// Call runs tool with args as the token's organization.
func (c *Caller) Call(ctx context.Context, token, tool string, args map[string]any) (json.RawMessage, []graph.PublicError, error) {
	if args == nil {
		args = map[string]any{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" stays one byte: a note of HTML must not grow past the body limit
	if err := enc.Encode(callRequest{Arguments: args, CallID: callID()}); err != nil {
		return nil, nil, fmt.Errorf("encode arguments: %w", err)
	}
	body := buf.Bytes()
	var out callResponse
	if err := c.do(ctx, http.MethodPost, OperationsPath+tool, token, body, &out); err != nil {
		return nil, nil, err
	}
	return out.Data, out.Errors, nil
}

// WhoAmI returns what token may do, cached briefly.
func (c *Caller) WhoAmI(ctx context.Context, token string) (WhoAmI, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.whoami[token]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.who, nil
	}
	var who WhoAmI
	// The nonce keeps two lookups in one second from signing identically.
	if err := c.do(ctx, http.MethodGet, WhoAmIPath+"?n="+callID(), token, nil, &who); err != nil {
		return WhoAmI{}, err
	}
	c.mu.Lock()
	if c.whoami == nil || len(c.whoami) > 10000 {
		c.whoami = map[string]whoamiEntry{} // bounded: tokens are few, a flood of bad ones is not cached
	}
	c.whoami[token] = whoamiEntry{who: who, expires: now.Add(whoamiTTL)}
	c.mu.Unlock()
	return who, nil
}

// APIError is a refusal from the API before any tool ran (a bad, revoked or
// suspended token; a relay signature the API did not accept).
type APIError struct{ graph.PublicError }

func (e *APIError) Error() string { return e.PublicError.Error + ": " + e.Message }

func (c *Caller) do(ctx context.Context, method, target, token string, body []byte, out any) error {
	u := *c.Upstream
	path, query, _ := strings.Cut(target, "?")
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if id := middleware.GetReqID(ctx); id != "" {
		req.Header.Set(middleware.RequestIDHeader, id)
	}
	c.Signer.SignRequest(req, body)
	resp, err := c.Transport.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("mcp relay: upstream: %w", err)
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = 8 << 20
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return fmt.Errorf("mcp relay: read upstream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var refusal struct {
			Error   string `json:"error"`
			Message string `json:"message"`
			Next    string `json:"next"`
		}
		_ = json.Unmarshal(raw, &refusal)
		if refusal.Error == "" {
			return fmt.Errorf("mcp relay: upstream answered %d", resp.StatusCode)
		}
		p := graph.PublicError{Status: resp.StatusCode, Error: refusal.Error, Message: refusal.Message, Next: refusal.Next}
		if p.Next == "" {
			p.Next = nextFor(refusal.Error)
		}
		return &APIError{p}
	}
	return json.Unmarshal(raw, out)
}

// nextFor is the next step for the API's authentication refusals, which
// identity words for people rather than agents.
func nextFor(name string) string {
	switch name {
	case "unauthorized":
		return "Mint a fresh token under Settings → AI assistant (or `tandem token create`) and put it in the client's Authorization header."
	case "account_suspended":
		return "The organization is suspended; its owner should contact support."
	case "mcp_relay_required":
		return "Point the AI client at /api/mcp."
	}
	return "Try again in a moment; if it keeps failing, contact support."
}

func callID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// InProcess is a transport that serves requests with h in this process, so a
// relay and an API in one binary skip the network but not the signing and
// verification.
func InProcess(h http.Handler) http.RoundTripper { return inProcess{h} }

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	// The API sees what a server would: a request URI and a remote address.
	req.RequestURI = req.URL.RequestURI()
	req.RemoteAddr = "127.0.0.1:0"
	t.h.ServeHTTP(rec, req)
	return &http.Response{
		StatusCode: rec.status, Header: rec.header,
		Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Request: req,
	}, nil
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
