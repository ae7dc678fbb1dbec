package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/store"
)

// The Subscriptions commands act as the system, like the credential
// commands: the operator runs them on the server. They go through package
// partners, so tokens and keys are minted, hashed and bounded as everywhere.

func cmdUserToken(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("user token", o)
	email := fs.String("email", "", "the person's email address")
	name := fs.String("name", "CLI", `what the token is for, e.g. "Claude Desktop laptop"`)
	db, err := parseAndOpen(ctx, fs, args, dbURL, "email", "ada@example.com")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := partners.CreateUserTokenForEmail(ctx, db.Client, *email, *name, time.Now())
	if err != nil {
		return err
	}
	o.result(struct {
		Token string `json:"token"`
	}{res.Token}, fmt.Sprintf("created user token %s %q for %s, valid until %s:\n\n  %s\n\n"+
		"Use it with the MCP endpoint /mcp as Authorization: Bearer <token> (server name %s). %s",
		res.UserToken.ID, res.UserToken.Name, *email, res.UserToken.ExpiresAt.UTC().Format(time.DateOnly), res.Token,
		partners.ServerName, shownOnce))
	return nil
}

func cmdUserGrantAdmin(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("user grant-admin", o)
	email := fs.String("email", "", "the person's email address")
	db, err := parseAndOpen(ctx, fs, args, dbURL, "email", "ada@example.com")
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := partners.GrantAdmin(ctx, db.Client, *email)
	if err != nil {
		return err
	}
	o.result(struct {
		ID      string `json:"id"`
		Email   string `json:"email"`
		IsAdmin bool   `json:"isAdmin"`
	}{u.ID, u.Email, u.IsAdmin}, fmt.Sprintf("%s (%s) is an admin: their tokens may read the whole-database analytics", u.Email, u.ID))
	return nil
}

func cmdPartnerCreate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("partner create", o)
	source := fs.String("source", "", "the partner's source slug: 2–64 of a-z, 0-9, '_' and '-'")
	name := fs.String("name", "", "the partner's display name (optional)")
	db, err := parseAndOpen(ctx, fs, args, dbURL, "source", "acme-bank")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := partners.CreateSource(ctx, db.Client, *source, *name)
	if err != nil {
		return err
	}
	o.result(struct {
		Key string `json:"key"`
	}{res.Key}, fmt.Sprintf("created partner source %s (%s):\n\n  x-partner-key: %s\n\n"+
		"It authenticates POST /api/guest-ingest for source %q only, up to 1,000 calls an hour. %s",
		res.Source.Source, res.Source.ID, res.Key, res.Source.Source, shownOnce))
	return nil
}

func cmdPartnerRevoke(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("partner revoke", o)
	source := fs.String("source", "", "the partner source whose key to revoke")
	db, err := parseAndOpen(ctx, fs, args, dbURL, "source", "acme-bank")
	if err != nil {
		return err
	}
	defer db.Close()
	src, err := partners.RevokeSource(ctx, db.Client, *source, time.Now())
	if err != nil {
		return err
	}
	o.result(struct {
		Source    string    `json:"source"`
		RevokedAt time.Time `json:"revokedAt"`
	}{src.Source, src.RevokedAt.UTC()}, fmt.Sprintf("revoked the key of partner source %s (%s) at %s: /api/guest-ingest refuses it with 401 from now on. "+
		"Give the partner a new key with `tandem partner rotate --source %s`.", src.Source, src.ID, src.RevokedAt.UTC().Format(time.RFC3339), src.Source))
	return nil
}

func cmdPartnerRotate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("partner rotate", o)
	source := fs.String("source", "", "the partner source to give a new key")
	db, err := parseAndOpen(ctx, fs, args, dbURL, "source", "acme-bank")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := partners.RotateSourceKey(ctx, db.Client, *source)
	if err != nil {
		return err
	}
	o.result(struct {
		Key string `json:"key"`
	}{res.Key}, fmt.Sprintf("new key for partner source %s (%s); the old key stopped working:\n\n  x-partner-key: %s\n\n%s",
		res.Source.Source, res.Source.ID, res.Key, shownOnce))
	return nil
}

// parseAndOpen parses args, requires the string flag name (example shows
// its form) and opens the migrated database, which the caller closes.
func parseAndOpen(ctx context.Context, fs *flag.FlagSet, args []string, dbURL *string, name, example string) (*store.DB, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := required(name, fs.Lookup(name).Value.String(), example); err != nil {
		return nil, err
	}
	db, _, err := openMigrated(ctx, *dbURL)
	return db, err
}
