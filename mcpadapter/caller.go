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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// API is the toolset's routes on the API; zero means ProgramsAPI.
	API API

	mu     sync.Mutex
	whoami map[string]whoamiEntry

	baseOnce sync.Once
	base     string // Upstream without a trailing slash, rendered once
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
	if err := c.do(ctx, http.MethodPost, c.api().Operations+tool, token, body, &out); err != nil {
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
	if err := c.do(ctx, http.MethodGet, c.api().WhoAmI+"?n="+callID(), token, nil, &who); err != nil {
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

func (c *Caller) api() API {
	if c.API.Operations == "" {
		return ProgramsAPI
	}
	return c.API
}

// APIError is a refusal from the API before any tool ran (a bad, revoked or
// suspended token; a relay signature the API did not accept). Its Next is
// the API's, often empty: the endpoint fills it in (Config.apiRefusal).
type APIError struct{ graph.PublicError }

func (e *APIError) Error() string { return e.PublicError.Error + ": " + e.Message }

func (c *Caller) do(ctx context.Context, method, target, token string, body []byte, out any) error {
	c.baseOnce.Do(func() {
		u := *c.Upstream
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		u.RawQuery, u.Fragment = "", ""
		c.base = u.String()
	})
	req, err := http.NewRequestWithContext(ctx, method, c.base+target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	// Canonical header names, set directly: Header.Set would canonicalize
	// each name again on every call.
	req.Header = http.Header{
		"Authorization": {"Bearer " + token},
		"Content-Type":  {"application/json"},
	}
	if id := middleware.GetReqID(ctx); id != "" {
		req.Header[middleware.RequestIDHeader] = []string{id}
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
	var raw []byte
	if b, ok := resp.Body.(*answer); ok && int64(b.Len()) <= limit {
		raw = b.Bytes() // in process: the handler's bytes, not a copy
	} else if raw, err = io.ReadAll(io.LimitReader(resp.Body, limit)); err != nil {
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
		return &APIError{graph.PublicError{Status: resp.StatusCode, Error: refusal.Error, Message: refusal.Message, Next: refusal.Next}}
	}
	return json.Unmarshal(raw, out)
}

// callID returns an ID no other call signs with: a random prefix drawn once
// per process (so relays sharing a replay cache differ) and a counter. It
// needs to be unique, not secret; the signature is what cannot be forged.
func callID() string {
	callIDPrefix.Do(func() {
		var b [12]byte
		_, _ = rand.Read(b[:])
		callIDBase = base64.RawURLEncoding.EncodeToString(b[:]) + "."
	})
	return callIDBase + strconv.FormatUint(callIDSeq.Add(1), 36)
}

var (
	callIDPrefix sync.Once
	callIDBase   string
	callIDSeq    atomic.Uint64
)

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
		Body: &rec.body, Request: req,
	}, nil
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   answer
}

// answer is an in-process response body; the Caller reads its bytes
// without copying them.
type answer struct{ bytes.Buffer }

func (*answer) Close() error { return nil }

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
