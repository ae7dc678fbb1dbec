// Package server is Tandem's HTTP edge: it routes requests to the GraphQL
// core and answers health checks. Authentication middleware puts the viewer
// in each request's context; everything below trusts only that.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/rest"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
	"github.com/tandemhq/tandem/subscriptions/pausepage"
)

// MaxBodyBytes bounds a request body; the largest legitimate one is a
// 1,000-row import.
const MaxBodyBytes = 4 << 20

// Config is what the server needs.
type Config struct {
	DB        *store.DB
	Logger    *slog.Logger
	Dev       bool      // GraphiQL, introspection, and the dev viewer header
	Keys      keys.Keys // signs sessions, seals API signing secrets, verifies the relay
	PublicURL string    // base of links in emails
	// Redis, when set, shares relay replay protection, credential
	// invalidation and rate limits between instances; without it each
	// instance keeps its own and revocation reaches the others within the
	// auth cache TTL.
	Redis redis.UniversalClient
	Now   func() time.Time
	// Role is RoleAll (default), RoleAPI or RoleRelay. A relay serves only
	// /api/mcp and forwards each signed tool call to Upstream, an API
	// instance; it needs no database.
	Role     string
	Upstream *url.URL
	// Limiter applies the published rate limits (/mcp per token, guest-ingest
	// per partner source and per IP). nil: on Redis when it is set, so
	// instances share one budget, otherwise in process.
	Limiter ratelimit.Limiter
	// Limits overrides the published limits (tests use small ones); a zero
	// field means the published value.
	Limits Limits

	authCache *identity.Cache // set by New: the auth cache, which also holds organization snapshots
}

// Limits are the rate limits the server applies; see package ratelimit.
type Limits struct {
	MCPToken, PartnerSource, GuestIP ratelimit.Limit
}

// withDefaults fills unset limits with the published ones.
func (l Limits) withDefaults() Limits {
	if l.MCPToken == (ratelimit.Limit{}) {
		l.MCPToken = ratelimit.MCPToken
	}
	if l.PartnerSource == (ratelimit.Limit{}) {
		l.PartnerSource = ratelimit.PartnerSource
	}
	if l.GuestIP == (ratelimit.Limit{}) {
		l.GuestIP = ratelimit.GuestIP
	}
	return l
}

// New returns the HTTP handler serving every route. ctx bounds background
// work (the Redis invalidation listener). It fails when an operation file of
// an adapter does not validate against the schema.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Role == "" {
		cfg.Role = RoleAll
	}
	if cfg.Role != RoleRelay && cfg.DB != nil {
		cfg.authCache = identity.NewCache(5*time.Second, cfg.Now)
	}
	switch {
	case cfg.Limiter != nil:
	case cfg.Redis != nil:
		cfg.Limiter = ratelimit.NewRedis(cfg.Redis)
	default:
		cfg.Limiter = ratelimit.NewMemory(cfg.Now)
	}
	cfg.Limits = cfg.Limits.withDefaults()
	r := chi.NewRouter()
	r.Use(middleware.RequestID, requestLog(cfg.Logger), middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "role": cfg.Role})
	})
	mcps, err := loadMCP(cfg)
	if err != nil {
		return nil, err
	}
	switch cfg.Role {
	case RoleRelay:
		if cfg.Upstream == nil {
			return nil, fmt.Errorf("a relay forwards tool calls to an API instance: set its URL (--upstream)")
		}
		r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "role": cfg.Role})
		})
		return r, mountMCP(r, cfg, mcps, cfg.Upstream, upstreamTransport())
	case RoleAPI, RoleAll:
	default:
		return nil, fmt.Errorf("unknown role %q: use all, api or relay", cfg.Role)
	}

	// The cancellation routes read the provider catalog from the database.
	if err := subscriptions.SyncCatalog(ctx, cfg.DB.Client); err != nil {
		return nil, err
	}
	authn := newAuthenticator(ctx, cfg)
	restRunner, err := graph.NewRunner(newSchema(cfg), cfg.DB.Client, graph.Options{Logger: cfg.Logger}, rest.Operations())
	if err != nil {
		return nil, fmt.Errorf("REST operations: %w", err)
	}
	r.Get("/readyz", readiness(cfg.DB))

	gql := newGraphQLHandler(cfg)
	r.Group(func(r chi.Router) {
		r.Use(limitBody(MaxBodyBytes), authn.Middleware)
		if cfg.Dev {
			r.Use(devViewer(cfg.DB.Client, cfg.Logger))
			r.Get("/graphiql", playground.Handler("Tandem GraphiQL", "/graphql"))
		}
		r.Handle("/graphql", gql)
	})
	ops := mountMCPOperations(r, authn, mcps)
	r.Group(func(r chi.Router) {
		r.Use(limitBody(MaxBodyBytes))
		r.Mount("/api/v1", rest.Handler(rest.Config{
			Runner: restRunner, Authn: authn, Keys: cfg.Keys, Replay: authn.Replay, MaxBody: MaxBodyBytes,
		}))
	})
	// The tracking script and its endpoints are public: brands' sites call
	// them from visitors' browsers. They limit their own bodies (8 KB).
	track := install.TrackHandler(install.TrackConfig{
		Client: cfg.DB.Client, Now: cfg.Now, Logger: cfg.Logger, IPSalt: install.TrackIPSaltFrom(cfg.Keys.Session),
	})
	r.Handle("/t.js", track)
	r.Handle("/api/track/*", track)
	// An affiliate's own dashboard: the embed iframe and the emailed welcome link.
	pages := enrollment.PageHandler(enrollment.PageConfig{Client: cfg.DB.Client, Now: cfg.Now, Logger: cfg.Logger, PublicURL: cfg.PublicURL})
	r.Handle(enrollment.EmbedPath, pages)
	r.Handle(enrollment.WelcomePath, pages)
	// The page a Kordi pause link opens (trial reminders, ingests): the
	// signed link is the credential, for one subscription, for 7 days.
	r.With(limitBody(64<<10)).Handle(pausepage.Route, pausepage.Handler(pausepage.Config{
		Client: cfg.DB.Client, Links: pauselink.New(cfg.Keys, cfg.PublicURL, cfg.Now),
		Now: cfg.Now, Logger: cfg.Logger, PublicURL: cfg.PublicURL,
	}))
	// Subscriptions partner provisioning (the REST shim over guest_ingest) and
	// the /token and /claim pages. Public: the key, the link or the rate limit
	// is the credential.
	r.Group(func(r chi.Router) {
		r.Use(limitBody(MaxBodyBytes))
		r.Handle(rest.GuestIngestPath, rest.GuestIngestConfig{
			Runner: restRunner, Client: cfg.DB.Client, Limiter: cfg.Limiter,
			PartnerLimit: cfg.Limits.PartnerSource, IPLimit: cfg.Limits.GuestIP, Logger: cfg.Logger,
		}.Handler())
		people := partners.PageHandler(partners.PageConfig{
			Client: cfg.DB.Client, PublicURL: cfg.PublicURL, Now: cfg.Now, Logger: cfg.Logger, Limiter: cfg.Limiter,
		})
		r.Handle(partners.TokenPath, people)
		r.Handle(partners.ClaimPath, people)
	})
	// The install guides every recipe's docsURL points at.
	r.Mount(install.DocsRoute, install.DocsHandler(cfg.PublicURL))
	if cfg.Role == RoleAll {
		// The relay half calls the API half in-process: same signature, same
		// verification, no network hop.
		inProcess := &url.URL{Scheme: "http", Host: "in-process"}
		if err := mountMCP(r, cfg, mcps, inProcess, mcpadapter.InProcess(ops)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// dbClient is the database client, or nil for a relay, which never runs an
// operation itself.
func dbClient(cfg Config) *ent.Client {
	if cfg.DB == nil {
		return nil
	}
	return cfg.DB.Client
}

func newSchema(cfg Config) graphql.ExecutableSchema {
	deps := graph.Deps{Keys: cfg.Keys, Now: cfg.Now, PublicURL: cfg.PublicURL,
		PauseLinks: pauselink.New(cfg.Keys, cfg.PublicURL, cfg.Now)}
	if cfg.authCache != nil {
		deps.Orgs = cfg.authCache
	}
	return graph.NewSchema(dbClient(cfg), deps)
}

func newGraphQLHandler(cfg Config) http.Handler {
	srv := handler.New(newSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{}) // queries only: gqlgen refuses mutations over GET
	srv.AddTransport(transport.POST{})
	graph.Configure(srv, cfg.DB.Client, graph.Options{Logger: cfg.Logger, Dev: cfg.Dev})
	return srv
}

// newAuthenticator builds the one credential checker of this instance and
// hooks the cache invalidation into the ent client.
func newAuthenticator(ctx context.Context, cfg Config) *identity.Authenticator {
	cache := cfg.authCache
	cfg.DB.Client.Use(identity.InvalidateOnChange(cache))
	replay := relay.NewMemoryReplayCache(cfg.Now)
	if cfg.Redis != nil {
		cache.UseRedis(ctx, cfg.Redis, cfg.Logger)
		replay = relay.NewRedisReplayCache(cfg.Redis, relay.DefaultRedisPrefix)
	}
	return &identity.Authenticator{
		Client: cfg.DB.Client, Keys: cfg.Keys, Replay: replay, Cache: cache,
		Now: cfg.Now, Log: cfg.Logger, MaxBody: MaxBodyBytes,
	}
}

// readiness answers 200 when the database is reachable and fully migrated.
func readiness(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.SQL.PingContext(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
			return
		}
		pending, err := db.Pending(ctx)
		if err != nil || len(pending) > 0 {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": "migrations pending: run `tandem migrate`", "pending": pending})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "request_too_large", "message": "the request body is larger than 4 MiB"})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// requestLog logs one line per request: method, path (never the query
// string, which may carry a legacy token), status, duration and request id.
// Headers are never logged.
func requestLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			log.InfoContext(r.Context(), "http",
				"method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "duration_ms", time.Since(start).Milliseconds(),
				"request_id", middleware.GetReqID(r.Context()))
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
