package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/relay"
)

// Roles a server can play. An "all" server is the relay and the API in one
// process: tool calls are still signed and verified, without a network hop.
const (
	RoleAll   = "all"
	RoleAPI   = "api"
	RoleRelay = "relay"
)

// Version is reported by the MCP endpoints.
var Version = "dev"

// mcpToolsets are the two MCP servers' operations: Programs at /api/mcp,
// Subscriptions (Kordi) at /mcp. Same adapter, different operation files.
type mcpToolsets struct {
	programs, kordi loadedToolset
}

type loadedToolset struct {
	runner    *graph.Runner
	tools     []*mcpadapter.Tool
	resources []*mcpadapter.Resource
}

// loadMCP loads both toolsets against the schema: an operation file that
// does not validate stops startup with a message naming it.
func loadMCP(cfg Config) (*mcpToolsets, error) {
	programs, err := loadToolset(cfg, mcpadapter.Programs())
	if err != nil {
		return nil, fmt.Errorf("MCP tools (/api/mcp): %w", err)
	}
	kordi, err := loadToolset(cfg, mcpadapter.Kordi())
	if err != nil {
		return nil, fmt.Errorf("MCP tools (/mcp): %w", err)
	}
	return &mcpToolsets{programs: programs, kordi: kordi}, nil
}

func loadToolset(cfg Config, ts mcpadapter.Toolset) (loadedToolset, error) {
	es := newSchema(cfg)
	runner, err := graph.NewRunner(es, dbClient(cfg), graph.Options{Logger: cfg.Logger}, ts.Files)
	if err != nil {
		return loadedToolset{}, err
	}
	tools, err := ts.Tools(es.Schema(), runner)
	if err != nil {
		return loadedToolset{}, err
	}
	resources, err := mcpadapter.Resources(es.Schema(), runner)
	if err != nil {
		return loadedToolset{}, err
	}
	return loadedToolset{runner: runner, tools: tools, resources: resources}, nil
}

// mountMCPOperations serves relayed tool calls and resource reads (the API
// side) for both toolsets, and returns the handler an in-process relay calls.
func mountMCPOperations(r chi.Router, authn *identity.Authenticator, m *mcpToolsets) http.Handler {
	wrap := func(h http.Handler) http.Handler { return limitBody(MaxBodyBytes)(authn.Middleware(h)) }
	programs := wrap(mcpadapter.ProgramsAPI.Handler(m.programs.runner, m.programs.tools, m.programs.resources))
	kordi := wrap(mcpadapter.KordiAPI.Handler(m.kordi.runner, m.kordi.tools, m.kordi.resources))
	r.Handle("/api/v1/mcp/*", programs)
	r.Handle("/api/v1/kordi/*", kordi)
	ops := http.NewServeMux()
	ops.Handle("/api/v1/mcp/", programs)
	ops.Handle("/api/v1/kordi/", kordi)
	return ops
}

// Kordi's next steps where the Programs wording, written for organizations,
// would send a person the wrong way: they replace the core's and fill in
// the API's authentication refusals that come without one.
var kordiRefusalNext = map[string]string{
	"unauthorized":       "Mint a fresh token on the /token page (or `tandem user token --email you@example.com`) and put it in the client's Authorization header.",
	"mcp_relay_required": "Point the AI client at /mcp.",
	"forbidden":          "This token may not do this; tell the user, and do not retry with other arguments.",
	"admin_required": "Only a Kordi operator's token (an admin: `tandem user grant-admin --email …`) may call this; " +
		"tell the user it is not available to them.",
	"not_found": "Call kordi_list_subscriptions and use one of its ids; another person's subscriptions do not exist for this token.",
}

const kordiInstructions = "Kordi is this person's memory for their subscriptions: active subscriptions, trials, pauses, " +
	"price hikes and upcoming bills. Read the resource kordi://subscription-pulse once per session instead of chaining " +
	"several tool calls; kordi_list_proactive_tasks is the worklist, most urgent first. Page kordi_list_subscriptions with " +
	"offset and limit. Call kordi_get_cancellation_route only when the user explicitly asks to cancel, with a service_id " +
	"from kordi_list_subscriptions. When ingesting, pass trial_end_date and card_network only when explicitly known, never guessed."

// mountMCP serves /api/mcp and /mcp (the relay side), calling the API
// through rt at upstream.
func mountMCP(r chi.Router, cfg Config, m *mcpToolsets, upstream *url.URL, rt http.RoundTripper) error {
	if len(cfg.Keys.RelaySecrets) == 0 {
		return fmt.Errorf("the MCP relay needs a relay secret (TANDEM_RELAY_SECRET)")
	}
	signer := relay.Signer{Secret: cfg.Keys.RelaySecrets[0], Now: cfg.Now}
	var origins []string
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	programs := mcpadapter.Handler(mcpadapter.Config{
		Name: "tandem", Version: Version, Tools: m.programs.tools, Logger: cfg.Logger,
		Caller:         &mcpadapter.Caller{Upstream: upstream, Transport: rt, Signer: signer},
		AllowedOrigins: origins, MaxBody: MaxBodyBytes,
	})
	kordi := mcpadapter.Handler(mcpadapter.Config{
		Path: mcpadapter.KordiPath, Name: "kordi-mcp-server", Version: Version, Product: "subscriptions",
		Instructions: kordiInstructions,
		Auth:         "Authorization: Bearer <token>",
		Token:        mcpadapter.UserToken,
		AuthNext: "Mint a token with `tandem user token --email you@example.com` (or on the /token page) and send it as " +
			"Authorization: Bearer <token>.",
		Tools: m.kordi.tools, Resources: m.kordi.resources, Logger: cfg.Logger,
		Caller:  &mcpadapter.Caller{Upstream: upstream, Transport: rt, Signer: signer, API: mcpadapter.KordiAPI},
		Limiter: cfg.Limiter, Limit: cfg.Limits.MCPToken,
		RefusalNext:    kordiRefusalNext,
		AllowedOrigins: origins, MaxBody: MaxBodyBytes,
	})
	r.Handle(mcpadapter.Path, programs)
	r.Handle(mcpadapter.KordiPath, kordi)
	// OAuth discovery: each server answers for its own path (…/mcp), the
	// Programs server for the rest; all are a clean JSON 404.
	r.Handle("/.well-known/*", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, mcpadapter.KordiPath) && !strings.HasSuffix(req.URL.Path, mcpadapter.Path) {
			kordi.ServeHTTP(w, req)
			return
		}
		programs.ServeHTTP(w, req)
	}))
	return nil
}

// upstreamTransport is the relay's HTTP client to a separate API instance.
func upstreamTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 60 * time.Second
	return t
}
