// Package pausepage serves the page a pause link opens: GET /pause/{token}
// shows the subscription and a "Pause for 30 days" button, POST pauses it.
// No sign-in: the signed token (package pauselink) is the authority, for one
// subscription, for 7 days.
//
// The page is Kordi's, not an organization's: server-rendered, no script, no
// external assets, never cached, never sent as a referrer (its URL is the
// capability) and never framed.
package pausepage

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
	"github.com/tandemhq/tandem/viewer"
	"github.com/tandemhq/tandem/webpage"
)

// PauseFor is how long the button pauses a subscription.
const PauseFor = 30 * 24 * time.Hour

// Route is the chi pattern the server mounts Handler at.
const Route = pauselink.Path + "*"

// Config is what the page needs.
type Config struct {
	Client *ent.Client
	Links  pauselink.Signer
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: slog.Default()
	// PublicURL is where people reach the server; a POST whose Origin is
	// present must be this origin.
	PublicURL string
}

// Handler serves GET and POST /pause/{token}.
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://127.0.0.1:8080" // as pauselink.New
	}
	p := &page{cfg: cfg, origin: originOf(cfg.PublicURL)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pauselink.Path+"{token}", p.show)
	mux.HandleFunc("POST "+pauselink.Path+"{token}", p.pause)
	return mux
}

type page struct {
	cfg    Config
	origin string // scheme://host of PublicURL, "" when it has none
}

// view is what the template shows.
type view struct {
	Nonce   string
	Title   string
	Message string // a refusal or a confirmation
	// Set when a subscription is shown.
	Name        string
	Price       string
	PausedUntil string // "until …" when it is paused now
	Cancelled   bool
	Action      string // the form's target: this page's path
	Token       string
	Done        bool // the confirmation after a pause
}

func (p *page) show(w http.ResponseWriter, r *http.Request) {
	nonce := headers(w)
	sub, ok := p.open(w, r, nonce)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, p.describe(sub, r, nonce))
}

func (p *page) pause(w http.ResponseWriter, r *http.Request) {
	nonce := headers(w)
	// CSRF: the form must repeat the path's token (a cross-site form cannot
	// know it without already holding the link) and a browser's Origin, when
	// sent, must be ours.
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, p.origin) {
		p.render(w, http.StatusForbidden, view{Nonce: nonce, Title: "This request was refused",
			Message: "The pause button only works on the page of your pause link. Open the link again and press the button there."})
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(r.PathValue("token"))) != 1 {
		p.render(w, http.StatusForbidden, view{Nonce: nonce, Title: "This request was refused",
			Message: "The form did not come from your pause link. Open the link again and press the button there."})
		return
	}
	sub, ok := p.open(w, r, nonce)
	if !ok {
		return
	}
	if sub.Status == subscription.StatusCancelled {
		p.render(w, http.StatusConflict, p.describe(sub, r, nonce))
		return
	}
	until := p.cfg.Now().UTC().Add(PauseFor)
	sub, err := p.pauseUntil(asOwner(r.Context(), sub), sub, until)
	if err != nil {
		p.fail(w, r, nonce, "pausing a subscription", err)
		return
	}
	v := p.describe(sub, r, nonce)
	v.Done = true
	v.Title = sub.Name + " is paused"
	v.Message = "Paused " + untilText(sub.PausedUntil) + ". Nothing else changed: this is a note in your subscription memory; " +
		"to stop the charges themselves, pause or cancel with " + sub.Name + " too."
	p.render(w, http.StatusOK, v)
}

// open verifies the path's token and loads its subscription, or writes the
// refusal: 410 for an expired link, 404 for a forged one or a subscription
// that is gone.
func (p *page) open(w http.ResponseWriter, r *http.Request, nonce string) (*ent.Subscription, bool) {
	id, _, err := p.cfg.Links.Verify(r.PathValue("token"))
	var expired *pauselink.ExpiredError
	switch {
	case errors.As(err, &expired):
		p.render(w, http.StatusGone, view{Nonce: nonce, Title: "This pause link has expired", Message: expired.Message()})
		return nil, false
	case err != nil:
		p.notFound(w, nonce)
		return nil, false
	}
	// The token names the subscription; it is read as the system because
	// no one is signed in, and then changed as its owner (asOwner).
	sub, err := p.cfg.Client.Subscription.Get(rule.AsSystem(r.Context()), id)
	if ent.IsNotFound(err) {
		p.notFound(w, nonce)
		return nil, false
	} else if err != nil {
		p.fail(w, r, nonce, "reading a subscription", err)
		return nil, false
	}
	return sub, true
}

func (p *page) describe(sub *ent.Subscription, r *http.Request, nonce string) view {
	v := view{Nonce: nonce, Title: "Pause " + sub.Name, Name: sub.Name, Price: price(sub.AmountCents, sub.Currency),
		Action: r.URL.Path, Token: r.PathValue("token")}
	switch {
	case sub.Status == subscription.StatusCancelled:
		v.Cancelled = true
		v.Title = sub.Name + " is cancelled"
		v.Message = "This subscription is marked cancelled, so there is nothing to pause."
	case sub.Status == subscription.StatusPaused && (sub.PausedUntil == nil || sub.PausedUntil.After(p.cfg.Now())):
		v.PausedUntil = untilText(sub.PausedUntil)
	}
	return v
}

func (p *page) notFound(w http.ResponseWriter, nonce string) {
	p.render(w, http.StatusNotFound, view{Nonce: nonce, Title: "This pause link does not work",
		Message: "The link is incomplete, mistyped, or not one of ours. Open the full link from your email, or ask your assistant for a fresh one."})
}

func (p *page) fail(w http.ResponseWriter, r *http.Request, nonce, what string, err error) {
	p.cfg.Logger.ErrorContext(r.Context(), "pause page: "+what, "err", err)
	p.render(w, http.StatusInternalServerError, view{Nonce: nonce, Title: "Something went wrong",
		Message: "The subscription could not be paused. Try again in a minute."})
}

func (p *page) render(w http.ResponseWriter, status int, v view) {
	webpage.Render(w, status, pageTemplate, v, p.cfg.Logger, "the pause page")
}

// asOwner returns ctx acting as the subscription's owner: the link is their
// authority, so the change runs under the same person rules as their own
// token would, not as the system.
func asOwner(ctx context.Context, sub *ent.Subscription) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		UserID: sub.UserID, ActorType: viewer.ActorPerson, ActorID: sub.UserID,
	})
}

// pauseUntil pauses sub until until and returns it paused, keeping a later
// pause: a link pressed twice, or after a longer pause was set, never
// shortens it. An indefinite pause (paused, no until) is the latest of all.
func (p *page) pauseUntil(ctx context.Context, sub *ent.Subscription, until time.Time) (*ent.Subscription, error) {
	if sub.Status == subscription.StatusPaused {
		if sub.PausedUntil == nil {
			return sub, nil
		}
		if sub.PausedUntil.After(until) {
			until = *sub.PausedUntil
		}
	}
	return subscriptions.Service{Now: p.cfg.Now}.Pause(ctx, p.cfg.Client, sub.ID, until)
}

// headers sets what every response of the page carries and returns the
// style nonce.
func headers(w http.ResponseWriter) string {
	nonce := webpage.Nonce()
	webpage.SecretHeaders(w.Header(), nonce)
	return nonce
}

func originOf(publicURL string) string {
	u, err := url.Parse(strings.TrimSpace(publicURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func price(cents int64, currency string) string {
	return enrollment.FormatMoney(cents, currency) + " a month"
}

// untilText says how long a pause lasts: "until <day>", or "until you
// resume it" for an open-ended pause.
func untilText(until *time.Time) string {
	if until == nil {
		return "until you resume it"
	}
	return "until " + day(*until)
}

func day(t time.Time) string { return t.UTC().Format("Monday, 2 January 2006") }
