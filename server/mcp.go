package server

import (
	"fmt"
	"net/http"
	"net/url"
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

// Version is reported by the MCP endpoint.
var Version = "dev"

// programsTools loads the Programs toolset against the schema: an operation
// file that does not validate stops startup with a message naming it.
func programsTools(cfg Config) (*graph.Runner, []*mcpadapter.Tool, error) {
	es := newSchema(cfg)
	runner, err := graph.NewRunner(es, dbClient(cfg), graph.Options{Logger: cfg.Logger}, mcpadapter.ProgramsTools())
	if err != nil {
		return nil, nil, fmt.Errorf("MCP tools: %w", err)
	}
	tools, err := mcpadapter.Tools(es.Schema(), runner)
	if err != nil {
		return nil, nil, fmt.Errorf("MCP tools: %w", err)
	}
	return runner, tools, nil
}

// mountMCPOperations serves relayed tool calls (the API side).
func mountMCPOperations(r chi.Router, authn *identity.Authenticator, runner *graph.Runner, tools []*mcpadapter.Tool) http.Handler {
	h := limitBody(MaxBodyBytes)(authn.Middleware(mcpadapter.OperationsHandler(runner, tools)))
	r.Handle("/api/v1/mcp/*", h)
	return h
}

// mountMCP serves /api/mcp (the relay side), calling the API through rt at upstream.
func mountMCP(r chi.Router, cfg Config, tools []*mcpadapter.Tool, upstream *url.URL, rt http.RoundTripper) error {
	if len(cfg.Keys.RelaySecrets) == 0 {
		return fmt.Errorf("the MCP relay needs a relay secret (TANDEM_RELAY_SECRET)")
	}
	caller := &mcpadapter.Caller{
		Upstream: upstream, Transport: rt,
		Signer: relay.Signer{Secret: cfg.Keys.RelaySecrets[0], Now: cfg.Now},
	}
	var origins []string
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		origins = append(origins, u.Scheme+"://"+u.Host)
	}
	h := mcpadapter.Handler(mcpadapter.Config{
		Name: "tandem", Version: Version, Tools: tools, Caller: caller, Logger: cfg.Logger,
		AllowedOrigins: origins, MaxBody: MaxBodyBytes,
	})
	r.Handle(mcpadapter.Path, h)
	r.Handle("/.well-known/*", h)
	return nil
}

// upstreamTransport is the relay's HTTP client to a separate API instance.
func upstreamTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 60 * time.Second
	return t
}
