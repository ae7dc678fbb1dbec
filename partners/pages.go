package partners

import (
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/webpage"
)

// PageConfig is what the /token and /claim pages need.
type PageConfig struct {
	Client    *ent.Client
	PublicURL string
	Now       func() time.Time // nil: time.Now
	Logger    *slog.Logger     // nil: slog.Default()
	// Limiter and LinkLimit bound how many link emails one IP may ask for
	// (the page would otherwise let anyone mail anyone). A nil Limiter
	// keeps them in process.
	Limiter   ratelimit.Limiter
	LinkLimit ratelimit.Limit
	// RecipientLimit bounds how many link emails one address receives,
	// whatever IPs ask (the IP budget alone lets many IPs flood one inbox).
	// Zero: TokenLinkRecipient.
	RecipientLimit ratelimit.Limit
}

// TokenLinkIP is the default LinkLimit: 5 link emails per hour per IP, the
// same budget as keyless guest-ingest.
var TokenLinkIP = ratelimit.Limit{Name: "token_link_ip", Rate: 5, Per: time.Hour}

// TokenLinkRecipient is the default RecipientLimit: 3 link emails per hour
// per address, counted by the normalized address whether or not it has an
// account, so the refusal says nothing about who has one.
var TokenLinkRecipient = ratelimit.Limit{Name: "token_link_email", Rate: 3, Per: time.Hour}

// The lifetimes the pages promise, in the units they speak of.
var (
	linkMinutes = strconv.Itoa(int(account.SignInLinkTTL.Minutes()))
	tokenDays   = strconv.Itoa(int(PersonTokenTTL.Hours() / 24))
)

// PageHandler serves two small server-rendered pages, with no script and no
// external assets:
//
//   - /token: a person enters their email, receives a one-time link, and the
//     link (after a confirm button, so mail scanners that follow links spend
//     nothing) mints a 90-day kordi_ token, shown once with the client
//     configuration.
//   - /claim?t=…: the link of a shadow account's email; its confirm button
//     verifies the address, claims the account and revokes the partner's
//     tokens.
func PageHandler(cfg PageConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.NewMemory(cfg.Now)
	}
	if cfg.LinkLimit == (ratelimit.Limit{}) {
		cfg.LinkLimit = TokenLinkIP
	}
	if cfg.RecipientLimit == (ratelimit.Limit{}) {
		cfg.RecipientLimit = TokenLinkRecipient
	}
	accounts := account.New(cfg.Client, account.Options{Now: cfg.Now, PublicURL: cfg.PublicURL})
	p := &pages{cfg: cfg, opts: Options{PublicURL: cfg.PublicURL, Now: cfg.Now, Accounts: accounts}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+TokenPath, p.tokenGet)
	mux.HandleFunc("POST "+TokenPath, p.tokenPost)
	mux.HandleFunc("GET "+ClaimPath, p.claimGet)
	mux.HandleFunc("POST "+ClaimPath, p.claimPost)
	return mux
}

type pages struct {
	cfg  PageConfig
	opts Options
}

// view is what every page template gets.
type view struct {
	Nonce, Title, Message string
	Link                  string // the link token a confirm form posts back
	Email                 string
	Token, ServerURL      string
	ServerName            string
	ClientConfig          string
}

func (p *pages) tokenGet(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	if t == "" {
		p.render(w, http.StatusOK, emailForm, view{Title: "Get a token for your AI client"})
		return
	}
	if !p.opts.Accounts.CheckLink(r.Context(), t, logintoken.PurposeSignIn) {
		p.render(w, http.StatusUnauthorized, problemPage, view{Title: "This link does not work",
			Message: "It is invalid, expired (links last " + linkMinutes + " minutes) or already used. Enter your email again to get a new one."})
		return
	}
	p.render(w, http.StatusOK, confirmPage, view{Title: "Create your token", Link: t,
		Message: "Create a token that lets your AI client read and update your subscriptions for " + tokenDays + " days."})
}

func (p *pages) tokenPost(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	if t := r.PostForm.Get("t"); t != "" {
		created, err := RedeemTokenLink(r.Context(), p.cfg.Client, p.opts.Accounts, t, p.opts.now())
		if err != nil {
			p.refuse(w, r, err)
			return
		}
		p.showToken(w, created.Token)
		return
	}
	address := r.PostForm.Get("email")
	normalized, err := checkEmail("email", address)
	if err != nil {
		p.render(w, http.StatusBadRequest, emailForm, view{Title: "Get a token for your AI client", Email: address,
			Message: "That is not an email address: enter one such as ada@example.com."})
		return
	}
	res := ratelimit.Check(r.Context(), p.cfg.Limiter, p.cfg.LinkLimit, ratelimit.IPKey(r.RemoteAddr), p.cfg.Logger)
	if !res.Allowed {
		ratelimit.WriteHeaders(w, res)
		p.render(w, http.StatusTooManyRequests, problemPage, view{Title: "Too many links asked for", Message: res.Message()})
		return
	}
	// The same answer for an address with or without an account: the count
	// is the address's, and the message names neither.
	res = ratelimit.Check(r.Context(), p.cfg.Limiter, p.cfg.RecipientLimit, normalized, p.cfg.Logger)
	if !res.Allowed {
		ratelimit.WriteHeaders(w, res)
		p.render(w, http.StatusTooManyRequests, problemPage, view{Title: "Too many links asked for",
			Message: "Several links were sent to this address in the last hour. Use the newest one, or ask again in " +
				strconv.Itoa((res.RetryAfterSeconds()+59)/60) + " minutes."})
		return
	}
	if err := RequestTokenLink(r.Context(), p.cfg.Client, address, p.opts); err != nil {
		p.refuse(w, r, err)
		return
	}
	p.render(w, http.StatusOK, problemPage, view{Title: "Check your email",
		Message: "We sent a one-time link to " + address + ". Open it within " + linkMinutes + " minutes to create your token."})
}

func (p *pages) showToken(w http.ResponseWriter, token string) {
	serverURL := p.opts.publicURL() + MCPPath
	cfg, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{ServerName: map[string]any{
		"url": serverURL, "headers": map[string]string{"Authorization": "Bearer " + token},
	}}}, "", "  ")
	p.render(w, http.StatusOK, tokenPage, view{Title: "Your Kordi token", Token: token, ServerURL: serverURL,
		ServerName: ServerName, ClientConfig: string(cfg)})
}

func (p *pages) claimGet(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	if !p.opts.Accounts.CheckLink(r.Context(), t, logintoken.PurposeVerifyEmail) {
		p.render(w, http.StatusUnauthorized, problemPage, view{Title: "This link does not work",
			Message: "It is invalid, expired or already used. If you claimed your account already, get a token at " + TokenPath + "."})
		return
	}
	p.render(w, http.StatusOK, claimPage, view{Title: "Claim your Kordi account", Link: t})
}

func (p *pages) claimPost(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	// Spending the link verifies the address, claims the account and
	// revokes every token issued while the partner held it, in one
	// transaction (account.Service.SpendLink).
	u, err := p.opts.Accounts.VerifyEmail(r.Context(), r.PostForm.Get("t"))
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	p.render(w, http.StatusOK, problemPage, view{Title: "Your account is yours",
		Message: u.Email + " is verified and the access granted when the account was created has ended. " +
			"To connect your own AI client, get a token at " + TokenPath + "."})
}

// parseForm reads a small urlencoded form.
func (p *pages) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.render(w, http.StatusBadRequest, problemPage, view{Title: "That did not work", Message: "The form could not be read: go back and try again."})
		return false
	}
	return true
}

// refuse shows a refusal the person can act on, and hides anything else.
func (p *pages) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var f *fault.Error
	if errors.As(err, &f) {
		status := http.StatusBadRequest
		if f.Kind == fault.KindUnauthenticated {
			status = http.StatusUnauthorized
		}
		p.render(w, status, problemPage, view{Title: "That did not work", Message: f.Message})
		return
	}
	p.cfg.Logger.ErrorContext(r.Context(), "subscriptions page failed", "path", r.URL.Path, "err", err)
	p.render(w, http.StatusInternalServerError, problemPage, view{Title: "Something went wrong", Message: "Try again in a moment."})
}

func (p *pages) render(w http.ResponseWriter, status int, tmpl *template.Template, v view) {
	v.Nonce = webpage.Nonce()
	// The URL or the page holds a secret: never cache it, never send it on.
	webpage.SecretHeaders(w.Header(), v.Nonce)
	webpage.Render(w, status, tmpl, v, p.cfg.Logger, "a subscriptions page")
}

const pageHead = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} · Kordi</title>
<style nonce="{{.Nonce}}">
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827; font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { background: #111827; color: #fff; padding: 16px 24px; font-size: 18px; font-weight: 600; }
main { max-width: 720px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 8px; }
.card { background: #fff; border-radius: 8px; padding: 20px; margin: 16px 0; }
label { display: block; font-weight: 600; margin-bottom: 6px; }
input[type=email] { width: 100%; padding: 8px 10px; font-size: 15px; border: 1px solid #d1d5db; border-radius: 6px; }
button { margin-top: 12px; padding: 8px 16px; font-size: 15px; border: 0; border-radius: 6px; background: #111827; color: #fff; cursor: pointer; }
code, pre { background: #f3f4f6; padding: 2px 6px; border-radius: 4px; font-size: 14px; word-break: break-all; white-space: pre-wrap; }
pre { padding: 12px; }
dt { font-weight: 600; margin-top: 8px; }
.muted { color: #6b7280; }
</style>
</head>
<body>
<header>Kordi</header>
<main>
{{end}}`

const pageFoot = `</main>
</body>
</html>
`

var (
	problemPage = template.Must(template.New("problem").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</div>
` + pageFoot))

	emailForm = template.Must(template.New("email").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>Enter your email address. We will send you a one-time link that creates a token your AI client (Claude, Cursor, Raycast or any MCP client) uses to read your subscriptions. The token works for ` + tokenDays + ` days.</p>
{{if .Message}}<p><b>{{.Message}}</b></p>{{end}}
<form method="post" action="/token">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{{.Email}}" required autocomplete="email">
<button type="submit">Email me a link</button>
</form>
</div>
` + pageFoot))

	confirmPage = template.Must(template.New("confirm").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<form method="post" action="/token">
<input type="hidden" name="t" value="{{.Link}}">
<button type="submit">Create my token</button>
</form>
</div>
` + pageFoot))

	claimPage = template.Must(template.New("claim").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>An app you use created this account for you and added your subscriptions. Claiming it verifies your email address and ends the access the app was given when it created the account; the app can still send subscriptions, but no longer read them.</p>
<form method="post" action="/claim">
<input type="hidden" name="t" value="{{.Link}}">
<button type="submit">Claim my account</button>
</form>
</div>
` + pageFoot))

	tokenPage = template.Must(template.New("token").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>Copy it now: it is shown only this once, and Kordi keeps only a hash. It works for ` + tokenDays + ` days; to revoke it, sign in to the dashboard.</p>
<pre>{{.Token}}</pre>
</div>
<div class="card">
<h2>Configure your MCP client</h2>
<dl>
<dt>Transport</dt><dd>Streamable HTTP</dd>
<dt>Server URL</dt><dd><code>{{.ServerURL}}</code></dd>
<dt>Auth header</dt><dd><code>Authorization: Bearer {{.Token}}</code></dd>
<dt>Server name</dt><dd><code>{{.ServerName}}</code></dd>
</dl>
<p class="muted">For Claude Desktop, Cursor and clients with the same format:</p>
<pre>{{.ClientConfig}}</pre>
</div>
` + pageFoot))
)
