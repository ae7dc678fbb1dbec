package mcpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/graph"
)

// Path is where the Programs MCP server listens.
const Path = "/api/mcp"

// ProtocolVersions are the MCP revisions the endpoint speaks.
var ProtocolVersions = []string{mcp.ProtocolVersion20260728, mcp.ProtocolVersion20251125, mcp.ProtocolVersion20250618}

// Config configures the MCP endpoint (the relay).
type Config struct {
	Name    string // server name in the identity blob and initialize result
	Version string
	Tools   []*Tool
	Caller  *Caller
	Logger  *slog.Logger
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed
	// to call the endpoint, the server's public URL among them; a request
	// with any other Origin header is refused (MCP transport security).
	// Clients that are not browsers send no Origin and are not affected.
	AllowedOrigins []string
	MaxBody        int64 // largest request body; 0: 4 MiB
}

type tokenKey struct{}

// Handler returns the MCP endpoint: POST speaks MCP (Streamable HTTP,
// stateless, JSON responses), GET answers a small identity blob for health
// checks, DELETE is 405 (there are no sessions to end), and the OAuth
// discovery paths answer a clean JSON 404 (Tandem uses bearer tokens).
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	byName := make(map[string]*Tool, len(cfg.Tools))
	for _, t := range cfg.Tools {
		byName[t.Name] = t
	}

	hooks := &server.Hooks{}
	// A read-only token sees only the read tools, an affiliate token only the
	// affiliate tools. The API refuses the others too; hiding them keeps an
	// assistant from planning with them.
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		token, _ := ctx.Value(tokenKey{}).(string)
		who, err := cfg.Caller.WhoAmI(ctx, token)
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
	s := server.NewMCPServer(cfg.Name, cfg.Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithHooks(hooks),
		server.WithInstructions("Tandem runs this organization's affiliate and referral programs. Start with get_org_profile. "+
			"Lists are cursor-paginated: pass nextCursor back as cursor. Confirm writes with the user before calling them, "+
			"and run preview_conversion_import before import_conversions."),
	)
	for _, t := range cfg.Tools {
		s.AddTool(t.Def, cfg.toolHandler(t, t.validator))
	}
	mcpHTTP := server.NewStreamableHTTPServer(s,
		server.WithStateLess(true),
		server.WithEndpointPath(Path),
		server.WithDisableStreaming(true),
		server.WithStreamableHTTPLogger(cfg.Logger),
		// Host checks guard loopback servers against DNS rebinding; the
		// Origin check below covers that for every deployment.
		server.WithDisableLocalhostProtection(true),
		server.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
			token, _ := bearer(r)
			return context.WithValue(ctx, tokenKey{}, token)
		}),
	)

	blob := map[string]any{
		"name": cfg.Name, "version": cfg.Version, "product": "programs",
		"transport": "streamable-http", "stateless": true, "endpoint": Path,
		"protocolVersions": ProtocolVersions, "tools": len(cfg.Tools),
		"auth": "Authorization: Bearer rk_mcp_…",
	}
	mux := http.NewServeMux()
	notOAuth := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"message": "Tandem's MCP server uses a static bearer token (Authorization: Bearer rk_mcp_…), not OAuth"})
	}
	mux.HandleFunc("/.well-known/oauth-protected-resource", notOAuth)
	mux.HandleFunc("/.well-known/oauth-protected-resource"+Path, notOAuth)
	mux.HandleFunc("/.well-known/oauth-authorization-server", notOAuth)
	mux.HandleFunc("/.well-known/oauth-authorization-server"+Path, notOAuth)
	mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
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
			if _, err := bearer(r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": err.Error()})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxBody)
			mcpHTTP.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed",
				"message": "this MCP server is stateless: POST each JSON-RPC message; there is no session to end or stream to open"})
		}
	})
	return mux
}

// bearer returns the request's rk_mcp_ token, refusing malformed and
// look-alike tokens without asking the API.
func bearer(r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("send the connection token as Authorization: Bearer rk_mcp_… (mint one under Settings → AI assistant, or with `tandem token create`)")
	}
	token = strings.TrimSpace(token)
	if kind, err := credential.Parse(token); err != nil || kind != credential.KindMCP {
		return "", errors.New("the token is not a valid rk_mcp_ connection token: copy it again, or mint a fresh one under Settings → AI assistant")
	}
	return token, nil
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
		args, bad := arguments(req)
		if bad == nil {
			bad = v.validate(args)
		}
		if bad != nil {
			return errorResult(*bad), nil
		}
		token, _ := ctx.Value(tokenKey{}).(string)
		data, errs, err := cfg.Caller.Call(ctx, token, t.Name, args)
		var refusal *APIError
		switch {
		case errors.As(err, &refusal):
			return errorResult(refusal.PublicError), nil
		case err != nil:
			cfg.Logger.ErrorContext(ctx, "mcp: tool call failed", "tool", t.Name, "err", err)
			return errorResult(graph.PublicError{Status: http.StatusBadGateway, Error: "upstream_unavailable",
				Message: "Tandem's API did not answer", Next: "Try again in a moment."}), nil
		}
		return t.Result(data, errs), nil
	}
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
