package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/provision"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// The credential commands act as the system: a self-hoster runs them on the
// server without a session. They go through package account, so the rules
// (the cap of active MCP tokens, hashing, sealing) are the dashboard's.

func cmdTokenCreate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("token create", o)
	slug := fs.String("org", "", "slug of the organization the token is for")
	name := fs.String("name", "", `what the token is for, e.g. "Claude Desktop laptop"`)
	readOnly := fs.Bool("read-only", false, "the token sees and calls read operations only")
	affiliateID := fs.String("affiliate", "", "scope the token to one Approved affiliate (aff_…): it acts for that affiliate and can use only the affiliate tools")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requiredAll([3]string{"org", *slug, "acme"}, [3]string{"name", *name, `"Claude Desktop laptop"`}); err != nil {
		return err
	}
	db, _, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := provision.OrgBySlug(ctx, db.Client, *slug)
	if err != nil {
		return err
	}
	in := account.CreateMCPTokenInput{Name: *name, ReadOnly: *readOnly}
	if *affiliateID != "" {
		in.AffiliateID = affiliateID
	}
	res, err := account.New(db.Client, account.Options{}).CreateMCPTokenAsSystem(ctx, org.ID, in)
	if err != nil {
		return err
	}
	scope := "read and write"
	if res.MCPToken.ReadOnly {
		scope = "read-only"
	}
	if a := res.MCPToken.AffiliateID; a != nil {
		scope += ", acting for affiliate " + *a + " only"
	}
	o.result(struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}{res.MCPToken.ID, res.Token}, fmt.Sprintf("created MCP token %s %q (%s) in %s:\n\n  %s\n\n%s",
		res.MCPToken.ID, res.MCPToken.Name, scope, org.Slug, res.Token, shownOnce))
	return nil
}

func cmdTokenRevoke(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("token revoke", o)
	id := fs.String("id", "", "ID of the MCP token (mcp_…)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required("id", *id, "mcp_01J…"); err != nil {
		return err
	}
	db, _, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := account.New(db.Client, account.Options{}).RevokeMCPTokenAsSystem(ctx, *id)
	if ent.IsNotFound(err) {
		return fmt.Errorf("no MCP token has id %q", *id)
	}
	if err != nil {
		return err
	}
	o.result(struct {
		ID        string `json:"id"`
		RevokedAt string `json:"revokedAt"`
	}{tok.ID, tok.RevokedAt.UTC().Format(time.RFC3339)},
		fmt.Sprintf("revoked MCP token %s %q; it stops working within seconds", tok.ID, tok.Name))
	return nil
}

func cmdAPIKeyCreate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("apikey create", o)
	slug := fs.String("org", "", "slug of the organization the key is for")
	name := fs.String("name", "", `what the key is for, e.g. "checkout server"`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requiredAll([3]string{"org", *slug, "acme"}, [3]string{"name", *name, `"checkout server"`}); err != nil {
		return err
	}
	db, k, _, err := openWithKeys(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := provision.OrgBySlug(ctx, db.Client, *slug)
	if err != nil {
		return err
	}
	res, err := account.New(db.Client, account.Options{Keys: k}).
		CreateAPIKeyAsSystem(ctx, org.ID, account.CreateAPIKeyInput{Name: *name})
	if err != nil {
		return err
	}
	o.result(struct {
		ID            string `json:"id"`
		Key           string `json:"key"`
		SigningSecret string `json:"signingSecret"`
	}{res.APIKey.ID, res.Key, res.SigningSecret}, fmt.Sprintf("created API key %s %q in %s:\n\n  key             %s\n  signing secret  %s\n\n%s",
		res.APIKey.ID, res.APIKey.Name, org.Slug, res.Key, res.SigningSecret,
		"They are shown only this once: copy them now. Tandem keeps only the key's hash and the secret encrypted."))
	return nil
}

func cmdUserCreate(ctx context.Context, args []string, o *output) error {
	fs, dbURL := newFlags("user create", o)
	email := fs.String("email", "", "the person's email address")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input; without it the person signs in by email link")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required("email", *email, "ada@example.com"); err != nil {
		return err
	}
	password := ""
	if *fromStdin {
		var err error
		if password, err = readPassword(stdin); err != nil {
			return err
		}
	}
	db, _, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := account.New(db.Client, account.Options{}).CreateUser(ctx, *email, password)
	if err != nil {
		return err
	}
	how := "signs in by email link"
	if password != "" {
		how = "signs in with the password or by email link"
	}
	o.result(struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}{u.ID, u.Email}, fmt.Sprintf("created user %s (%s), who %s", u.Email, u.ID, how))
	return nil
}

const shownOnce = "It is shown only this once: copy it now. Tandem keeps only a hash."

// readPassword returns the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("%w: --password-stdin found no password on standard input, e.g. printf '%%s\\n' \"$PASSWORD\" | tandem user create --email E --password-stdin", errUsage)
	}
	return line, nil
}

// requiredAll checks required flags in order: name, value, example.
func requiredAll(flags ...[3]string) error {
	for _, f := range flags {
		if err := required(f[0], f[1], f[2]); err != nil {
			return err
		}
	}
	return nil
}
