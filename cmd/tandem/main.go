// Command tandem runs Tandem: the server, migrations, and the admin commands
// self-hosters and scripts use. Output is for people by default and JSON with
// --json; every flag can also be set as a TANDEM_* environment variable
// (--owner-email is TANDEM_OWNER_EMAIL).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `tandem: affiliate programs and subscription memory on one GraphQL core

Usage:
  tandem serve   [--addr 127.0.0.1:8080] [--db URL] [--dev]
  tandem migrate [--db URL]
  tandem org create --name N --slug S --owner-email E [--plan free|trial|starter|growth|pro]
  tandem demo seed --org SLUG [--affiliates N] [--conversions N] [--clicks N] [--seed K]
  tandem demo run  [--addr 127.0.0.1:8080] [--db URL]   (what 'make run' does)
  tandem token create --org SLUG --name N [--read-only] [--affiliate AFF_ID]   (prints the rk_mcp_ token, once)
  tandem token revoke --id ID
  tandem apikey create --org SLUG --name N   (prints the rk_live_ key and rks_ signing secret, once)
  tandem user create --email E [--password-stdin]   (the password is the first line of stdin)
  tandem user token --email E [--name N]   (prints a 90-day kordi_ token for /mcp, once)
  tandem user grant-admin --email E   (the person may read the Subscriptions analytics)
  tandem partner create --source S [--name N]   (prints the partner's kpk_ key for /api/guest-ingest, once)
  tandem partner revoke --source S   (the partner's key stops working at once)
  tandem partner rotate --source S   (prints a new kpk_ key, once; the old one stops at once)

Every command takes --json for machine-readable output. --db defaults to
sqlite://./data/tandem.db; PostgreSQL is --db postgres://USER@HOST/DB.
Flags may also be set as TANDEM_<FLAG> environment variables.
`

// errUsage marks an error the user can fix by changing the command line.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "org" || cmd == "demo" || cmd == "token" || cmd == "apikey" || cmd == "user" || cmd == "partner") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	commands := map[string]func(context.Context, []string, *output) error{
		"serve":            cmdServe,
		"migrate":          cmdMigrate,
		"org create":       cmdOrgCreate,
		"demo seed":        cmdDemoSeed,
		"demo run":         cmdDemoRun,
		"token create":     cmdTokenCreate,
		"token revoke":     cmdTokenRevoke,
		"apikey create":    cmdAPIKeyCreate,
		"user create":      cmdUserCreate,
		"user token":       cmdUserToken,
		"user grant-admin": cmdUserGrantAdmin,
		"partner create":   cmdPartnerCreate,
		"partner revoke":   cmdPartnerRevoke,
		"partner rotate":   cmdPartnerRotate,
	}
	f, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "tandem: unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), usage)
		return 2
	}
	out := &output{stdout: stdout, stderr: stderr}
	if err := f(ctx, rest, out); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		out.fail(err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// output writes results for people or, with --json, for scripts.
type output struct {
	stdout, stderr io.Writer
	json           bool
}

// result prints v as JSON, or human as text.
func (o *output) result(v any, human string) {
	if o.json {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	fmt.Fprintln(o.stdout, human)
}

// progress returns where progress bars go: nowhere for scripts.
func (o *output) progress() io.Writer {
	if o.json {
		return nil
	}
	return o.stderr
}

func (o *output) fail(err error) {
	msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
	if o.json {
		_ = json.NewEncoder(o.stdout).Encode(map[string]string{"error": msg})
		return
	}
	fmt.Fprintln(o.stderr, "tandem:", msg)
}

// newFlags returns a flag set for a command with the flags every command has.
func newFlags(name string, o *output) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("tandem "+name, flag.ContinueOnError)
	fs.SetOutput(o.stderr)
	fs.BoolVar(&o.json, "json", false, "print machine-readable JSON")
	db := fs.String("db", "", "database URL (default sqlite://./data/tandem.db)")
	return fs, db
}

// parse reads TANDEM_* environment variables as defaults, then the arguments.
func parse(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := "TANDEM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%w: %s=%q: %v", errUsage, key, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

func required(name, value, example string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%w: --%s is required, e.g. --%s %s", errUsage, name, name, example)
	}
	return nil
}
