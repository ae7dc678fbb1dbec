package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store"

	"github.com/tandemhq/tandem/demo"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/server"
)

const (
	demoSlug  = "demo"
	demoOwner = "owner@demo.tandem.test"
)

// cmdDemoRun is `make run`: migrate, create and fill the demo organization on
// the first run only, say what to open, and serve in development mode.
func cmdDemoRun(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("demo run", o)
	sf := addServeFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// demo run is development mode, whose header acts as any organization's
	// owner: it listens on this machine only.
	if host, _, err := net.SplitHostPort(*sf.addr); err != nil || !isLoopback(host) {
		return fmt.Errorf("%w: demo run listens on a loopback address only (e.g. 127.0.0.1:8080); use tandem serve to serve others", errUsage)
	}
	db, k, applied, err := openWithKeys(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := provision.OrgBySlug(ctx, db.Client, demoSlug); err != nil {
		fmt.Fprintln(o.stderr, "First run: creating the demo organization and its data…")
		if _, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{
			Name: "Demo Brand", Slug: demoSlug, OwnerEmail: demoOwner, Plan: "growth",
		}); err != nil {
			return err
		}
		if _, err := seedOrg(ctx, db, demoSlug, demo.Options{Affiliates: 200, Conversions: 5000, Clicks: 20000, Seed: 1}, o); err != nil {
			return err
		}
	}
	token, err := demoMCPToken(ctx, db)
	if err != nil {
		return err
	}
	personToken, err := demoPersonToken(ctx, db)
	if err != nil {
		return err
	}
	return serve(ctx, serveConfig{db: db, keys: k, flags: sf, dev: true, applied: applied}, o, func(listen string) {
		fmt.Fprintln(o.stdout, nextSteps(listen, token, personToken))
	})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// demoTokenName names the MCP token each `make run` mints. A token's
// plaintext is never stored, so each run revokes the previous run's token
// and mints a fresh one to print; the organization's cap of 10 is never hit.
const demoTokenName = "Local AI client (make run)"

func demoMCPToken(ctx context.Context, db *store.DB) (string, error) {
	org, err := provision.OrgBySlug(ctx, db.Client, demoSlug)
	if err != nil {
		return "", err
	}
	sys := rule.AsSystem(ctx) // the CLI acts for the machine's operator
	if err := db.Client.MCPToken.Update().
		Where(mcptoken.OrgID(org.ID), mcptoken.Name(demoTokenName), mcptoken.RevokedAtIsNil()).
		SetRevokedAt(time.Now()).Exec(sys); err != nil {
		return "", err
	}
	res, err := account.New(db.Client, account.Options{}).
		CreateMCPTokenAsSystem(ctx, org.ID, account.CreateMCPTokenInput{Name: demoTokenName})
	if err != nil {
		return "", err
	}
	return res.Token, nil
}

func nextSteps(listen, token, personToken string) string {
	base := "http://" + listen
	return strings.TrimSpace(fmt.Sprintf(`
Tandem is running at %[1]s with the demo organization %[2]q (plan Growth).

Connect an AI client over MCP (a fresh token is minted on every run):

  Claude Desktop, Cursor (claude_desktop_config.json, ~/.cursor/mcp.json):
    {
      "mcpServers": {
        "tandem": {
          "url": "%[1]s/api/mcp",
          "headers": {
            "Authorization": "Bearer %[4]s"
          }
        }
      }
    }

  Claude Code:
    claude mcp add --transport http tandem %[1]s/api/mcp \
      --header "Authorization: Bearer %[4]s"

  Then ask: "what's in my Tandem account?"

Subscriptions (Kordi) for the demo person %[5]s, at /mcp:

  Claude Desktop, Cursor: add beside "tandem"
        "kordi": {
          "url": "%[1]s/mcp",
          "headers": {
            "Authorization": "Bearer %[6]s"
          }
        }

  Claude Code:
    claude mcp add --transport http kordi %[1]s/mcp \
      --header "Authorization: Bearer %[6]s"

  Then ask: "which of my subscriptions need attention this week?"

  Explore the API   open %[1]s/graphiql and add the header
                    {"%[3]s": "%[2]s"} to act as the demo owner.
  From a terminal   curl -s %[1]s/graphql -H 'Content-Type: application/json' \
                      -H '%[3]s: %[2]s' \
                      -d '{"query":"{ viewerOrganization { name planTier } conversions(first: 5, where: {status: Approved}) { totalCount edges { node { id amountCents currency } } } }"}'
  Health            %[1]s/healthz and %[1]s/readyz

Stop with Ctrl-C; the data stays in ./data/tandem.db.`, base, demoSlug, server.DevViewerHeader, token, demoPerson, personToken))
}
