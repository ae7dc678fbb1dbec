package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/demo"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/mailer"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
	"github.com/tandemhq/tandem/subscriptions/reminders"
)

func openMigrated(ctx context.Context, dbURL string) (*store.DB, []string, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, applied, nil
}

// loadKeys reads the server's keys from the environment, filling the unset
// ones from keys.json beside the SQLite database (./data for PostgreSQL),
// which is created on first use.
func loadKeys(dbURL string) (keys.Keys, error) {
	if dbURL == "" {
		dbURL = store.DefaultURL
	}
	dir := "./data"
	if strings.HasPrefix(dbURL, "sqlite://") || strings.HasPrefix(dbURL, "file:") {
		path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite://"), "file:")
		path, _, _ = strings.Cut(path, "?")
		dir = filepath.Dir(path)
	}
	return keys.Load(filepath.Join(dir, "keys.json"))
}

// openWithKeys opens and migrates the database and loads the server's keys.
func openWithKeys(ctx context.Context, dbURL string) (*store.DB, keys.Keys, []string, error) {
	k, err := loadKeys(dbURL)
	if err != nil {
		return nil, keys.Keys{}, nil, err
	}
	db, applied, err := openMigrated(ctx, dbURL)
	return db, k, applied, err
}

func cmdMigrate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("migrate", o)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, applied, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	human := "database is up to date"
	if len(applied) > 0 {
		human = "applied " + strings.Join(applied, ", ")
	}
	if applied == nil {
		applied = []string{}
	}
	o.result(map[string]any{"applied": applied}, human)
	return nil
}

func cmdOrgCreate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("org create", o)
	var in provision.OrgInput
	fs.StringVar(&in.Name, "name", "", "the brand's display name")
	fs.StringVar(&in.Slug, "slug", "", "URL-safe identifier: lowercase letters, digits, hyphens")
	fs.StringVar(&in.OwnerEmail, "owner-email", "", "the owner's email address")
	fs.StringVar(&in.Plan, "plan", "trial", "free, trial, starter, growth or pro")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, r := range [][3]string{{"name", in.Name, `"Acme"`}, {"slug", in.Slug, "acme"}, {"owner-email", in.OwnerEmail, "owner@acme.test"}} {
		if err := required(r[0], r[1], r[2]); err != nil {
			return err
		}
	}
	db, _, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := provision.CreateOrg(ctx, db.Client, in)
	if err != nil {
		return err
	}
	o.result(res, fmt.Sprintf("created organization %s (%s), owner %s (%s)", in.Slug, res.OrgID, in.OwnerEmail, res.OwnerUserID))
	return nil
}

func cmdDemoSeed(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("demo seed", o)
	slug := fs.String("org", "", "slug of the organization to fill")
	opts := demo.Options{}
	fs.IntVar(&opts.Affiliates, "affiliates", 200, "how many affiliates")
	fs.IntVar(&opts.Conversions, "conversions", 5000, "how many conversions")
	fs.IntVar(&opts.Clicks, "clicks", 20000, "how many clicks")
	fs.Int64Var(&opts.Seed, "seed", 1, "random seed: the same seed gives the same data")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required("org", *slug, "demo"); err != nil {
		return err
	}
	db, _, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := seedOrg(ctx, db, *slug, opts, o)
	if err != nil {
		return err
	}
	o.result(res, fmt.Sprintf("seeded %s in %s: %d campaigns, %d affiliates, %d clicks, %d leads, %d conversions, %d payouts, %d coupons",
		*slug, res.Elapsed.Round(time.Millisecond), res.Campaigns, res.Affiliates, res.Clicks, res.Leads, res.Conversions, res.Payouts, res.Coupons))
	return nil
}

func seedOrg(ctx context.Context, db *store.DB, slug string, opts demo.Options, o *output) (demo.Result, error) {
	org, err := provision.OrgBySlug(ctx, db.Client, slug)
	if err != nil {
		return demo.Result{}, err
	}
	opts.OrgID = org.ID
	opts.Now = time.Now()
	opts.Progress = o.progress()
	return demo.Seed(ctx, db, opts)
}

// serveFlags are the flags of every command that serves.
type serveFlags struct {
	addr, publicURL, redisURL, smtpURL *string
	role                               string   // server.RoleAll unless set
	upstream                           *url.URL // with RoleRelay
}

func addServeFlags(fs *flag.FlagSet) serveFlags {
	return serveFlags{
		addr:      fs.String("addr", "127.0.0.1:8080", "address to listen on"),
		publicURL: fs.String("public-url", "", "the URL people reach this server at, for links in emails (default http://ADDR)"),
		redisURL:  fs.String("redis-url", "", "redis://HOST:6379/0: share revocation and replay protection between instances"),
		smtpURL:   fs.String("smtp-url", "", "smtp://USER:PASS@HOST:587?from=Name%20%3Caddr%3E (smtps://…:465 for implicit TLS); empty: emails are printed to the log"),
	}
}

func cmdServe(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("serve", o)
	sf := addServeFlags(fs)
	dev := fs.Bool("dev", false, "development mode: GraphiQL, introspection, the "+server.DevViewerHeader+" header")
	role := fs.String("role", server.RoleAll, "all: the API and the MCP endpoint; api: the API only; relay: only /api/mcp, forwarding signed tool calls to --upstream")
	upstream := fs.String("upstream", "", "the API instance a relay forwards to, e.g. http://10.0.0.5:8080 (with --role relay)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sf.role = *role
	if *role == server.RoleRelay {
		u, err := url.Parse(*upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: --role relay needs --upstream, the API's base URL (http://HOST:PORT)", errUsage)
		}
		sf.upstream = u
		if os.Getenv(keys.EnvRelaySecret) == "" {
			// A generated secret would differ from the API's, and every tool call would fail.
			return fmt.Errorf("%w: --role relay needs %s, the same value the API instances use", errUsage, keys.EnvRelaySecret)
		}
		// A relay holds no data: it needs only the relay secret.
		k, err := loadKeys(*dbURL)
		if err != nil {
			return err
		}
		return serve(ctx, serveConfig{keys: k, flags: sf, dev: *dev}, o, nil)
	}
	if *upstream != "" {
		return fmt.Errorf("%w: --upstream is for --role relay", errUsage)
	}
	db, k, applied, err := openWithKeys(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return serve(ctx, serveConfig{db: db, keys: k, flags: sf, dev: *dev, applied: applied}, o, nil)
}

type serveConfig struct {
	db      *store.DB
	keys    keys.Keys
	flags   serveFlags
	dev     bool
	applied []string
}

// serve runs the HTTP server until ctx ends (SIGTERM, SIGINT), then drains
// in-flight requests for up to 15 seconds. ready, when set, is called with
// the listening address before requests are served.
func serve(ctx context.Context, c serveConfig, o *output, ready func(string)) error {
	db, dev, addr := c.db, c.dev, *c.flags.addr
	var handler slog.Handler = slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
	if o.json {
		handler = slog.NewJSONHandler(o.stderr, nil)
	}
	// Every log line passes the scrubber: a credential that reaches a log by
	// accident is redacted before it is written.
	log := slog.New(credential.ScrubbingHandler(handler))
	if len(c.applied) > 0 {
		log.Info("migrated", "applied", strings.Join(c.applied, ","))
	}
	var rdb redis.UniversalClient
	if *c.flags.redisURL != "" {
		opt, err := redis.ParseURL(*c.flags.redisURL)
		if err != nil {
			return fmt.Errorf("%w: --redis-url: %v", errUsage, err)
		}
		client := redis.NewClient(opt)
		defer client.Close()
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis %s: %w", store.Redact(*c.flags.redisURL), err)
		}
		rdb = client
	}
	var sender mailer.Sender = mailer.LogSender{Log: log}
	if *c.flags.smtpURL != "" {
		s, err := mailer.NewSMTPSender(*c.flags.smtpURL)
		if err != nil {
			return fmt.Errorf("%w: --smtp-url: %v", errUsage, err)
		}
		sender = s
		log.Info("email via SMTP", "smtp", fmt.Sprint(s))
	} else {
		log.Warn("no --smtp-url: emails, sign-in links included, are printed to this log, not sent")
	}
	if dev {
		log.Warn("development mode: introspection and GraphiQL are on, and the " + server.DevViewerHeader + " header acts as that organization's owner; never use --dev in production")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	publicURL := *c.flags.publicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	publicURL = strings.TrimRight(publicURL, "/")
	srvCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	h, err := server.New(srvCtx, server.Config{
		DB: db, Logger: log, Dev: dev, Keys: c.keys, PublicURL: publicURL, Redis: rdb,
		Role: c.flags.role, Upstream: c.flags.upstream,
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	base := "http://" + ln.Addr().String()
	if db == nil {
		log.Info("serving", "role", c.flags.role, "url", base, "mcp", base+"/api/mcp", "subscriptions_mcp", base+"/mcp", "upstream", c.flags.upstream.String())
	} else {
		log.Info("serving", "role", c.flags.role, "url", base, "graphql", base+"/graphql", "mcp", base+"/api/mcp", "subscriptions_mcp", base+"/mcp", "db", db.Dialect)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		if db == nil {
			return // a relay sends no email
		}
		(&mailer.Worker{Client: db.Client, Sender: sender, Log: log}).Run(srvCtx, mailer.DefaultInterval)
	}()
	// Trial reminders (Subscriptions) go to the outbox the mailer drains.
	remindDone := make(chan struct{})
	go func() {
		defer close(remindDone)
		if db == nil {
			return
		}
		links := pauselink.New(c.keys, publicURL, nil)
		(&reminders.Worker{Client: db.Client, Links: links, Log: log, BaseURL: publicURL}).Run(srvCtx, reminders.DefaultInterval)
	}()
	defer func() { stopBackground(); <-mailDone; <-remindDone }() // the workers finish before the database closes
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
