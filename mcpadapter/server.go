package mcpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/ratelimit"
)

// Path is where the Programs MCP server listens.
const Path = "/api/mcp"

// KordiPath is where the Subscriptions (Kordi) MCP server listens.
const KordiPath = "/mcp"

// ProtocolVersions are the MCP revisions the endpoint speaks.
var ProtocolVersions = []string{mcp.ProtocolVersion20260728, mcp.ProtocolVersion20251125, mcp.ProtocolVersion20250618}

// Config configures one MCP endpoint (the relay). The Programs and the
// Subscriptions servers are the same adapter: what differs between them is
// here, down to which token they take.
type Config struct {
	Path         string // where the endpoint listens; "": Path (/api/mcp)
	Name         string // server name in the identity blob and initialize result
	Version      string
	Product      string // the identity blob's product; "": programs
	Instructions string // what the initialize result tells the model; "" on /api/mcp: the Programs text
	// Auth shows a client how to send its token ("Authorization: Bearer
	// rk_mcp_…"): the identity blob and the OAuth-discovery 404 say it.
	Auth string
	// Token finds the request's token and checks its shape, without a
	// lookup; its error is the 401's message, AuthNext the 401's next step.
	// nil: an rk_mcp_ token in the Authorization header (MCPBearer).
	Token    TokenRule
	AuthNext string
	Tools    []*Tool
	// Resources are read-only documents (resources/list, resources/read),
	// each an operation file marked @resource.
	Resources []*Resource
	Caller    *Caller
	Logger    *slog.Logger
	// Limiter, when set, applies Limit to every tools/call and
	// resources/read per token: over it a tool answers isError and a
	// resource read a JSON-RPC error, both saying when to call again.
	Limiter ratelimit.Limiter
	Limit   ratelimit.Limit
	// RefusalNext is this endpoint's next step by error name (unauthorized,
	// forbidden, …) where the Programs wording, written for organizations,
	// would send its users the wrong way. It replaces the next step of the
	// core's errors, and fills in one for a refusal from the API that came
	// without any (see apiRefusal).
	RefusalNext map[string]string
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed
	// to call the endpoint, the server's public URL among them; a request
	// with any other Origin header is refused (MCP transport security).
	// Clients that are not browsers send no Origin and are not affected.
	AllowedOrigins []string
	MaxBody        int64 // largest request body; 0: 4 MiB
}

const programsInstructions = "Tandem runs this organization's affiliate and referral programs. Start with get_org_profile. " +
	"Lists are cursor-paginated: pass nextCursor back as cursor. Confirm writes with the user before calling them, " +
	"and run preview_conversion_import before import_conversions."

type tokenKey struct{}

func tokenFrom(ctx context.Context) string {
	token, _ := ctx.Value(tokenKey{}).(string)
	return token
}

func (cfg *Config) defaults() {
	if cfg.Path == "" {
		cfg.Path = Path
	}
	if cfg.Product == "" {
		cfg.Product = "programs"
	}
	if cfg.Instructions == "" && cfg.Path == Path {
		cfg.Instructions = programsInstructions
	}
	if cfg.Auth == "" {
		cfg.Auth = "Authorization: Bearer rk_mcp_…"
	}
	if cfg.Token == nil {
		cfg.Token = MCPBearer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
}

// Handler returns the MCP endpoint: POST speaks MCP (Streamable HTTP,
// stateless, JSON responses), GET answers a small identity blob for health
// checks, DELETE is 405 (there are no sessions to end), and the OAuth
// discovery paths answer a clean JSON 404 (Tandem uses bearer tokens).
//
// Identity is resolved at this edge: client-supplied identity headers are
// dropped before anything reads them, a token in the URL leaves it before
// anything can log it, and the API sees only the relay's signed request.
func Handler(cfg Config) http.Handler {
	cfg.defaults()
	byName := make(map[string]*Tool, len(cfg.Tools))
	for _, t := range cfg.Tools {
		byName[t.Name] = t
	}

	hooks := &server.Hooks{}
	// A read-only token sees only the read tools, an affiliate token only the
	// affiliate tools. The API refuses the others too; hiding them keeps an
	// assistant from planning with them. Routes without a whoami (a
	// person's, who may call every tool) are not asked.
	if cfg.Caller.api().WhoAmI != "" {
		hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
			who, err := cfg.Caller.WhoAmI(ctx, tokenFrom(ctx))
			switch {
			case err != nil:
				return // a bad token fails on its first call with a clear error
			case who.AffiliateID != "":
				// An affiliate's token sees the tools made for affiliates only.
				res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool { return !byName[t.Name].ForAffiliates })
			case who.ReadOnly:
				res.Tools = slices.DeleteFunc(res.Tools, func(t mcp.Tool) bool { return !byName[t.Name].Read })
			}
		})
	}
	opts := []server.ServerOption{
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithHooks(hooks),
		server.WithInstructions(cfg.Instructions),
	}
	if len(cfg.Resources) > 0 {
		opts = append(opts, server.WithResourceCapabilities(false, false))
	}
	s := server.NewMCPServer(cfg.Name, cfg.Version, opts...)
	for _, t := range cfg.Tools {
		s.AddTool(t.Def, cfg.toolHandler(t, t.validator))
	}
	for _, res := range cfg.Resources {
		s.AddResource(res.Def, cfg.resourceHandler(res))
	}
	mcpHTTP := server.NewStreamableHTTPServer(s,
		server.WithStateLess(true),
		server.WithEndpointPath(cfg.Path),
		server.WithDisableStreaming(true),
		server.WithStreamableHTTPLogger(cfg.Logger),
		// Host checks guard loopback servers against DNS rebinding; the
		// Origin check below covers that for every deployment.
		server.WithDisableLocalhostProtection(true),
	)

	blob := map[string]any{
		"name": cfg.Name, "version": cfg.Version, "product": cfg.Product,
		"transport": "streamable-http", "stateless": true, "endpoint": cfg.Path,
		"protocolVersions": ProtocolVersions, "tools": len(cfg.Tools),
		"auth": cfg.Auth,
	}
	if len(cfg.Resources) > 0 {
		blob["resources"] = len(cfg.Resources)
	}
	mux := http.NewServeMux()
	notOAuth := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"message": "Tandem's MCP server uses a static bearer token (" + cfg.Auth + "), not OAuth"})
	}
	mux.HandleFunc("/.well-known/oauth-protected-resource", notOAuth)
	mux.HandleFunc("/.well-known/oauth-protected-resource"+cfg.Path, notOAuth)
	mux.HandleFunc("/.well-known/oauth-authorization-server", notOAuth)
	mux.HandleFunc("/.well-known/oauth-authorization-server"+cfg.Path, notOAuth)
	mux.HandleFunc(cfg.Path, func(w http.ResponseWriter, r *http.Request) {
		// First, before any branch can read, log or forward the request.
		stripIdentityHeaders(r.Header)
		token, tokenErr := cfg.Token(r)
		dropQueryToken(r)
		if !cfg.originAllowed(r) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden",
				"message": "requests from the browser origin " + r.Header.Get("Origin") + " are not allowed"})
			return
		}
		switch {
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
			// A health check (curl, a load balancer) gets the identity blob; a
			// client asking for an event stream gets 405 below, as the
			// stateless transport specifies.
			writeJSON(w, http.StatusOK, blob)
		case r.Method == http.MethodPost:
			if tokenErr != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
				body := map[string]string{"error": "unauthorized", "message": tokenErr.Error()}
				if cfg.AuthNext != "" {
					body["next"] = cfg.AuthNext
				}
				writeJSON(w, http.StatusUnauthorized, body)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxBody)
			mcpHTTP.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, token)))
		default:
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed",
				"message": "this MCP server is stateless: POST each JSON-RPC message; there is no session to end or stream to open"})
		}
	})
	return mux
}

// originAllowed implements the transport's Origin rule: no Origin (not a
// browser) passes; a browser origin must be one of AllowedOrigins (the
// public URL's among them). The Host header is not trusted for this: under
// DNS rebinding the attacker controls both it and the Origin.
func (cfg Config) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, allowed := range cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(allowed, "/"), origin) {
			return true
		}
	}
	return false
}

func (cfg Config) toolHandler(t *Tool, v *argumentValidator) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		token := tokenFrom(ctx)
		// Every call counts, a refused one too: the budget bounds what a
		// token may ask, not what succeeds.
		if p := cfg.throttled(ctx, token); p != nil {
			return errorResult(*p), nil
		}
		args, bad := arguments(req)
		if bad == nil {
			bad = v.validate(args)
		}
		if bad != nil {
			return errorResult(*bad), nil
		}
		data, errs, err := cfg.Caller.Call(ctx, token, t.Name, args)
		var refusal *APIError
		switch {
		case errors.As(err, &refusal):
			return errorResult(cfg.apiRefusal(refusal.PublicError)), nil
		case err != nil:
			cfg.Logger.ErrorContext(ctx, "mcp: tool call failed", "tool", t.Name, "err", err)
			return errorResult(upstreamUnavailable), nil
		}
		for i := range errs {
			errs[i] = cfg.coreRefusal(errs[i])
		}
		return t.Result(data, errs), nil
	}
}

var upstreamUnavailable = graph.PublicError{Status: http.StatusBadGateway, Error: "upstream_unavailable",
	Message: "Tandem's API did not answer", Next: "Try again in a moment."}

// resourceHandler reads a resource through the API like a tool call. Its
// failures are JSON-RPC errors (resources/read has no isError), worded
// like a tool's: what went wrong, then what to do.
func (cfg Config) resourceHandler(res *Resource) server.ResourceHandlerFunc {
	return func(ctx context.Context, _ mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		token := tokenFrom(ctx)
		if p := cfg.throttled(ctx, token); p != nil {
			return nil, errors.New(p.Message)
		}
		data, errs, err := cfg.Caller.Call(ctx, token, res.Name, nil)
		var refusal *APIError
		switch {
		case errors.As(err, &refusal):
			return nil, refusalError(cfg.apiRefusal(refusal.PublicError))
		case err != nil:
			cfg.Logger.ErrorContext(ctx, "mcp: resource read failed", "resource", res.Def.URI, "err", err)
			return nil, refusalError(upstreamUnavailable)
		case len(errs) > 0:
			return nil, refusalError(cfg.coreRefusal(errs[0]))
		}
		text, err := res.Text(data)
		if err != nil {
			return nil, refusalError(graph.PublicError{Error: "internal", Message: "the resource returned nothing.", Next: "Try again in a moment."})
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: res.Def.URI, MIMEType: res.Def.MIMEType, Text: text}}, nil
	}
}

// refusalError is a refusal as a JSON-RPC error message.
func refusalError(p graph.PublicError) error {
	return fmt.Errorf("%s: %s %s", p.Error, p.Message, p.Next)
}

// throttled applies the endpoint's rate limit to token and returns the
// refusal when its budget is spent. The limiter keys by a digest of the
// token, so it (in memory or in Redis) never holds the token itself.
func (cfg Config) throttled(ctx context.Context, token string) *graph.PublicError {
	if cfg.Limiter == nil {
		return nil
	}
	res := ratelimit.Check(ctx, cfg.Limiter, cfg.Limit, token, cfg.Logger)
	if res.Allowed {
		return nil
	}
	return &graph.PublicError{Status: http.StatusTooManyRequests, Error: "rate_limited", Message: res.Message(),
		Next: fmt.Sprintf("Wait %d seconds before calling again; read one summary instead of chaining many calls.", res.RetryAfterSeconds())}
}

// apiRefusal fills in the next step of a refusal from the API that came
// without one (identity words its authentication errors for people, not
// agents): this endpoint's wording, else the Programs one. A next step the
// API sent stays: it knows more than the name (a relay signature that did
// not verify is not fixed by a new token).
func (cfg Config) apiRefusal(p graph.PublicError) graph.PublicError {
	if p.Next != "" {
		return p
	}
	if next, ok := cfg.RefusalNext[p.Error]; ok {
		p.Next = next
	} else {
		p.Next = programsNext(p.Error)
	}
	return p
}

// programsNext is the Programs endpoint's next step for the API's
// authentication refusals.
func programsNext(name string) string {
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

// coreRefusal rewords the next step of the core's error, written for
// organizations, where RefusalNext says so.
func (cfg Config) coreRefusal(p graph.PublicError) graph.PublicError {
	if next, ok := cfg.RefusalNext[p.Error]; ok {
		p.Next = next
	}
	return p
}

// arguments decodes a call's arguments from the wire bytes, keeping
// integers exact (json.Number, not float64), and drops null values: a client
// that sends null for an optional argument means "not given". Anything but
// a JSON object is refused; treating it as {} would run a tool that takes
// only optional arguments with none of them.
func arguments(req mcp.CallToolRequest) (map[string]any, *graph.PublicError) {
	var args map[string]any
	if raw := req.Params.RawArguments; len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, invalidArguments("", "arguments are not valid JSON")
		}
		switch v := v.(type) {
		case nil:
		case map[string]any:
			args = v
		default:
			return nil, invalidArguments("", "arguments must be a JSON object of named arguments, e.g. {\"take\": 10}")
		}
	} else if req.Params.Arguments != nil {
		m, ok := req.Params.Arguments.(map[string]any)
		if !ok {
			return nil, invalidArguments("", "arguments must be a JSON object of named arguments, e.g. {\"take\": 10}")
		}
		args = m
	}
	for k, v := range args {
		if v == nil {
			delete(args, k)
		}
	}
	return args, nil
}
