package install

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/money"
	"github.com/tandemhq/tandem/programs"
	"github.com/tandemhq/tandem/viewer"
)

// trackScript is the tracking script served at /t.js.
//
//go:embed t.js
var trackScript []byte

// trackScriptETag identifies this build's script, so browsers revalidate
// cheaply after the cache lifetime.
var trackScriptETag = func() string {
	sum := sha256.Sum256(trackScript)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// The routes TrackHandler serves.
const (
	TrackScriptRoute     = "/t.js"
	TrackClickRoute      = "/api/track/click"
	TrackConversionRoute = "/api/track/conversion"
	TrackLeadRoute       = "/api/track/lead"
)

// TrackMaxBody bounds a tracking request's body.
const TrackMaxBody = 8 << 10

// trackActorID is the actor the audit log names for conversions and leads
// the tracking endpoints record.
const trackActorID = "tracking_pixel"

// TrackConfig is what the tracking endpoints need.
type TrackConfig struct {
	Client *ent.Client
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: slog.Default()
	// IPSalt keys the hash a click stores instead of the visitor's IP. Use
	// the same secret on every instance (derive it from a server key) so one
	// visitor hashes alike everywhere; empty gets a random salt per process.
	IPSalt []byte
}

// TrackHandler serves the public tracking endpoints that brands' sites call:
//
//	GET  /t.js                   the tracking script (cacheable)
//	POST /api/track/click        a visit through an affiliate link
//	POST /api/track/conversion   a sale (needs the pixel key)
//	POST /api/track/lead         a signup (needs the pixel key)
//
// They take no credentials: the campaign id in the snippet names the
// organization, and conversions and leads must carry its pixel public key.
// Any origin may call them (CORS without credentials). Bodies are JSON of
// at most 8 KB, sent as application/json or text/plain (the script uses
// text/plain, which needs no preflight). Errors are JSON {error, field,
// message}. The client's address is r.RemoteAddr: mount behind a proxy only
// with middleware that sets it from a trusted forwarding header.
func TrackHandler(cfg TrackConfig) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.IPSalt) == 0 {
		cfg.IPSalt = make([]byte, 32)
		_, _ = rand.Read(cfg.IPSalt)
		cfg.Logger.Warn("tracking: no IP salt configured; click IP hashes will differ between instances and restarts")
	}
	t := &tracker{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+TrackScriptRoute, t.script)
	mux.HandleFunc("POST "+TrackClickRoute, t.api(t.click))
	mux.HandleFunc("POST "+TrackConversionRoute, t.api(t.conversion))
	mux.HandleFunc("POST "+TrackLeadRoute, t.api(t.lead))
	mux.HandleFunc("/api/track/", t.other)
	return mux
}

type tracker struct {
	cfg TrackConfig
}

func (t *tracker) now() time.Time { return t.cfg.Now().UTC() }

func (t *tracker) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", trackScriptETag)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "t.js", time.Time{}, bytes.NewReader(trackScript))
}

// other answers preflights and every request the API routes do not take.
func (t *tracker) other(w http.ResponseWriter, r *http.Request) {
	trackCORS(w)
	known := r.URL.Path == TrackClickRoute || r.URL.Path == TrackConversionRoute || r.URL.Path == TrackLeadRoute
	switch {
	case known && r.Method == http.MethodOptions:
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
	case known:
		w.Header().Set("Allow", "POST, OPTIONS")
		trackWriteError(w, &trackError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			message: r.URL.Path + " takes POST with a JSON body"})
	default:
		trackWriteError(w, &trackError{status: http.StatusNotFound, code: "not_found",
			message: "no such tracking endpoint; use " + TrackClickRoute + ", " + TrackConversionRoute + " or " + TrackLeadRoute})
	}
}

func trackCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "no-store")
}

// trackError is a refusal the endpoints answer with.
type trackError struct {
	status  int
	code    string
	field   string
	message string
}

func (e *trackError) Error() string { return e.message }

func trackInvalid(field, format string, args ...any) *trackError {
	return &trackError{status: http.StatusBadRequest, code: "invalid_input", field: field, message: field + " " + fmt.Sprintf(format, args...)}
}

func trackNotFound(field, format string, args ...any) *trackError {
	return &trackError{status: http.StatusNotFound, code: "not_found", field: field, message: fmt.Sprintf(format, args...)}
}

func trackWriteError(w http.ResponseWriter, e *trackError) {
	body := map[string]string{"error": e.code, "message": e.message}
	if e.field != "" {
		body["field"] = e.field
	}
	trackWriteJSON(w, e.status, body)
}

func trackWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// api wraps an endpoint: CORS, the body limit, and turning its result or
// refusal into a JSON response.
func (t *tracker) api(fn func(*http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		trackCORS(w)
		r.Body = http.MaxBytesReader(w, r.Body, TrackMaxBody)
		status, body, err := fn(r)
		if err == nil {
			trackWriteJSON(w, status, body)
			return
		}
		var te *trackError
		var fe *fault.Error
		switch {
		case errors.As(err, &te):
		case errors.As(err, &fe) && fe.Kind == fault.KindInvalid:
			te = &trackError{status: http.StatusBadRequest, code: "invalid_input", field: fe.Field, message: fe.Message}
		default:
			t.cfg.Logger.ErrorContext(r.Context(), "tracking: internal error", "path", r.URL.Path,
				"request_id", middleware.GetReqID(r.Context()), "err", err)
			te = &trackError{status: http.StatusInternalServerError, code: "internal", message: "internal error; retry later"}
		}
		trackWriteError(w, te)
	}
}

// trackDecode reads the JSON body into dst, refusing unknown fields, wrong
// types and bodies over the limit with a message naming the problem.
func trackDecode(r *http.Request, dst any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
		return &trackError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			message: "send the body as JSON (Content-Type application/json or text/plain)"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return &trackError{status: http.StatusBadRequest, code: "invalid_input", message: "the body must be one JSON object"}
		}
		return nil
	}
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return &trackError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
			message: fmt.Sprintf("the body is larger than %d bytes", TrackMaxBody)}
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return trackInvalid(typeErr.Field, "must be a %s", trackJSONType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return trackInvalid(name, "is not a field of this request; check its spelling")
	case errors.Is(err, io.EOF):
		return &trackError{status: http.StatusBadRequest, code: "invalid_input", message: "the body is empty; send a JSON object"}
	}
	return &trackError{status: http.StatusBadRequest, code: "invalid_input", message: "the body is not valid JSON: send one JSON object"}
}

func trackJSONType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "int64", "int", "float64":
		return "number"
	}
	return "JSON " + kind
}

// Shapes of the identifiers the endpoints take.
var (
	trackSlugPattern    = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	trackProgramPattern = regexp.MustCompile(`^cmp_[0-9A-Za-z]{1,36}$`)
	trackVisitorPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)
)

func trackProgram(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", trackInvalid("program", "is required: the campaign id (cmp_…) from the snippet's data-program")
	}
	if !trackProgramPattern.MatchString(s) {
		return "", trackInvalid("program", "must be a campaign id such as cmp_01J…, as in the snippet's data-program")
	}
	return s, nil
}

// trackSlug normalizes an affiliate slug; required says whether it may be empty.
func trackSlug(s string, required bool) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" && required:
		return "", trackInvalid("slug", "is required: the affiliate's referral slug from the link")
	case s == "":
		return "", nil
	case len(s) > 64 || !trackSlugPattern.MatchString(s):
		return "", trackInvalid("slug", "must be an affiliate referral slug (lowercase letters, digits and single hyphens, at most 64 characters)")
	}
	return s, nil
}

// trackEmail normalizes an email address; required says whether it may be empty.
func trackEmail(s string, required bool) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		if required {
			return "", trackInvalid("email", "is required")
		}
		return "", nil
	}
	if len(s) > 254 {
		return "", trackInvalid("email", "is longer than 254 characters")
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return "", trackInvalid("email", "must be an email address such as customer@example.com")
	}
	return s, nil
}

func trackName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 200 {
		return "", trackInvalid("name", "is longer than 200 characters")
	}
	return s, nil
}

// trackClip cuts s to at most n bytes without splitting a character.
func trackClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// trackSite is the campaign a request names and its organization.
type trackSite struct {
	campaign *ent.Campaign
	org      *ent.Organization
}

// resolve finds the campaign (and so the organization) a request names,
// checking the pixel key when one is required. It reads as the system: the
// caller is anonymous, and the campaign id is what tells whose data this is.
func (t *tracker) resolve(ctx context.Context, program string, pixelKey *string) (*trackSite, error) {
	sys := rule.AsSystem(ctx) // an anonymous caller: the campaign id names the organization
	cmp, err := t.cfg.Client.Campaign.Query().Where(campaign.ID(program)).WithOrganization().Only(sys)
	if ent.IsNotFound(err) {
		return nil, trackNotFound("program", "no campaign %s: check data-program in the snippet (get it again from get_install_snippet)", program)
	}
	if err != nil {
		return nil, err
	}
	org := cmp.Edges.Organization
	if pixelKey != nil {
		key := strings.TrimSpace(*pixelKey)
		switch {
		case key == "":
			return nil, &trackError{status: http.StatusUnauthorized, code: "unauthorized", field: "pixelKey",
				message: "pixelKey is required: add data-pixel=\"pk_…\" from the install snippet (withPixel) to the script tag"}
		case org.PixelPublicKey == nil || subtle.ConstantTimeCompare([]byte(key), []byte(*org.PixelPublicKey)) != 1:
			return nil, &trackError{status: http.StatusUnauthorized, code: "unauthorized", field: "pixelKey",
				message: "pixelKey does not match this program's organization (it may have been rotated): copy the current snippet with the pixel again"}
		}
	}
	if org.SuspendedAt != nil {
		return nil, &trackError{status: http.StatusForbidden, code: "organization_suspended",
			message: "this program's organization is suspended; nothing is recorded"}
	}
	return &trackSite{campaign: cmp, org: org}, nil
}

// asOrg returns ctx acting as the system on behalf of the site's
// organization: the privacy rules scope every read and write to it, creates
// are stamped with it, and the audit log records actor_type system.
func (s *trackSite) asOrg(ctx context.Context) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		OrgID:              s.org.ID,
		Role:               viewer.RoleAdmin,
		ActorType:          viewer.ActorSystem,
		ActorID:            trackActorID,
		Plan:               string(s.org.PlanTier),
		SubscriptionStatus: string(s.org.SubscriptionStatus),
		RequestID:          middleware.GetReqID(ctx),
	})
}

// trackAffiliate finds the approved affiliate with slug in the viewer's
// organization and its campaign, which must be active.
func trackAffiliate(ctx context.Context, client *ent.Client, slug string) (*ent.Affiliate, *ent.Campaign, error) {
	aff, err := client.Affiliate.Query().Where(affiliate.Slug(slug)).WithCampaign().Only(ctx)
	if ent.IsNotFound(err) || (err == nil && aff.Status != affiliate.StatusApproved) {
		return nil, nil, trackNotFound("slug", "no approved affiliate with slug %q in this program's organization", slug)
	}
	if err != nil {
		return nil, nil, err
	}
	cmp := aff.Edges.Campaign
	if cmp.Status != campaign.StatusActive {
		return nil, nil, &trackError{status: http.StatusConflict, code: "campaign_inactive", field: "slug",
			message: fmt.Sprintf("the affiliate %q belongs to the campaign %q, which is %s: it records nothing until the brand reactivates it", slug, cmp.Name, strings.ToLower(string(cmp.Status)))}
	}
	return aff, cmp, nil
}

// trackClickRequest is the body of POST /api/track/click.
type trackClickRequest struct {
	Program    string `json:"program"`
	Slug       string `json:"slug"`
	Param      string `json:"param"`
	LandingURL string `json:"landingURL"`
	Referrer   string `json:"referrer"`
	VisitorID  string `json:"visitorID"`
}

// click records a visit through an affiliate link and tells the script how
// long to remember the referral. The click is credited to the affiliate's
// own campaign (its commission rules and cookie window), which may differ
// from the campaign of the snippet when a brand runs several on one site.
//
// Clicks are visitors' traffic, not anyone's action on the organization's
// data, so they are written as the system without a viewer and leave no
// audit entry (one per page view would drown the log).
func (t *tracker) click(r *http.Request) (int, any, error) {
	var req trackClickRequest
	if err := trackDecode(r, &req); err != nil {
		return 0, nil, err
	}
	program, err := trackProgram(req.Program)
	if err != nil {
		return 0, nil, err
	}
	slug, err := trackSlug(req.Slug, true)
	if err != nil {
		return 0, nil, err
	}
	param := strings.TrimSpace(req.Param)
	if param != "" && !attributionEntry.MatchString(param) {
		return 0, nil, trackInvalid("param", "must be the URL parameter that carried the slug, such as via or ref")
	}
	visitor := strings.TrimSpace(req.VisitorID)
	if visitor != "" && !trackVisitorPattern.MatchString(visitor) {
		return 0, nil, trackInvalid("visitorID", "must be at most 64 letters, digits, '_' or '-'")
	}
	site, err := t.resolve(r.Context(), program, nil)
	if err != nil {
		return 0, nil, err
	}
	ctx := site.asOrg(r.Context())
	aff, cmp, err := trackAffiliate(ctx, t.cfg.Client, slug)
	if err != nil {
		return 0, nil, err
	}
	c := t.cfg.Client.Click.Create().
		SetOrgID(site.org.ID).
		SetAffiliateID(aff.ID).
		SetCampaignID(cmp.ID).
		SetOccurredAt(t.now()).
		SetLandingURL(trackClip(req.LandingURL, 2048)).
		SetReferrer(trackClip(req.Referrer, 2048)).
		SetAttributionParam(param).
		SetVisitorID(visitor).
		SetIPHash(t.ipHash(r)).
		SetUserAgent(trackClip(r.UserAgent(), 512))
	// Written as the system with no viewer: see the function comment.
	clk, err := c.Save(rule.AsSystem(r.Context()))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{
		"clickId":          clk.ID,
		"slug":             aff.Slug,
		"cookieDays":       cmp.CookieWindowDays,
		"attributionModel": string(cmp.AttributionModel),
	}, nil
}

// ipHash is the keyed hash stored instead of the visitor's address.
func (t *tracker) ipHash(r *http.Request) string {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if ip == "" {
		return ""
	}
	return TrackHashIP(t.cfg.IPSalt, ip)
}

// TrackHashIP returns the hex HMAC-SHA256 of ip under salt: what a click
// stores instead of the address.
func TrackHashIP(salt []byte, ip string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil))
}

// TrackIPSaltFrom derives the IP salt from a server secret (keys.Session,
// say), so every instance hashes a visitor's address alike with no new
// secret to configure, and the salt changes when that secret is rotated.
func TrackIPSaltFrom(secret []byte) []byte {
	const purpose = "tandem/track/ip-salt/v1"
	if len(secret) == 0 {
		// Derive refuses an empty secret; the salt is then what it has
		// always been, the HMAC under an empty key, rather than none.
		m := hmac.New(sha256.New, nil)
		m.Write([]byte(purpose))
		return m.Sum(nil)
	}
	return keys.Keys{Session: secret}.Derive(purpose)
}

// trackConversionRequest is the body of POST /api/track/conversion.
type trackConversionRequest struct {
	Program     string          `json:"program"`
	PixelKey    string          `json:"pixelKey"`
	Slug        string          `json:"slug"`
	AmountCents json.RawMessage `json:"amountCents"`
	Currency    string          `json:"currency"`
	OrderID     string          `json:"orderId"`
	Email       string          `json:"email"`
	Name        string          `json:"name"`
}

// conversion records a sale. The order id is the idempotency key: a repeat
// answers with the conversion already recorded. The sale is credited to the
// affiliate of the slug the script remembered; without one, to the affiliate
// who referred the customer's email as a lead; with neither, nothing is
// recorded ({"credited": false}).
func (t *tracker) conversion(r *http.Request) (int, any, error) {
	var req trackConversionRequest
	if err := trackDecode(r, &req); err != nil {
		return 0, nil, err
	}
	program, err := trackProgram(req.Program)
	if err != nil {
		return 0, nil, err
	}
	slug, err := trackSlug(req.Slug, false)
	if err != nil {
		return 0, nil, err
	}
	amount, err := trackAmount(req.AmountCents)
	if err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(req.Currency) == "" {
		return 0, nil, trackInvalid("currency", "is required: the ISO 4217 code of amountCents, such as USD")
	}
	currency, err := money.Code("currency", req.Currency)
	if err != nil {
		return 0, nil, err
	}
	orderID := strings.TrimSpace(req.OrderID)
	switch {
	case orderID == "":
		return 0, nil, trackInvalid("orderId", "is required: your order or invoice id, which makes a repeated call record one sale")
	case len(orderID) > 255:
		return 0, nil, trackInvalid("orderId", "is longer than 255 characters")
	}
	email, err := trackEmail(req.Email, false)
	if err != nil {
		return 0, nil, err
	}
	name, err := trackName(req.Name)
	if err != nil {
		return 0, nil, err
	}
	site, err := t.resolve(r.Context(), program, &req.PixelKey)
	if err != nil {
		return 0, nil, err
	}
	ctx := site.asOrg(r.Context())

	var id string
	var duplicate, credited bool
	err = trackInTx(ctx, t.cfg.Client, func(client *ent.Client) error {
		existing, err := client.Conversion.Query().Where(conversion.ExternalID(orderID)).Only(ctx)
		if err == nil {
			id, duplicate, credited = existing.ID, true, true
			return nil
		}
		if !ent.IsNotFound(err) {
			return err
		}
		aff, cmp, leadID, err := trackCreditFor(ctx, client, slug, email)
		if err != nil || aff == nil {
			return err
		}
		cnv, err := trackNewConversion(ctx, client, site.org, cmp, aff, conversion.TypeSale, amount, currency, t.now())
		if err != nil {
			return err
		}
		cnv.SetExternalID(orderID).SetCustomerEmail(email).SetCustomerName(name)
		if leadID != "" {
			cnv.SetLeadID(leadID)
		}
		saved, err := cnv.Save(ctx)
		if err != nil {
			return err
		}
		id, credited = saved.ID, true
		return nil
	})
	if ent.IsConstraintError(err) {
		// Another call with the same order id committed first.
		if existing, qerr := t.cfg.Client.Conversion.Query().Where(conversion.ExternalID(orderID)).Only(ctx); qerr == nil {
			id, duplicate, credited, err = existing.ID, true, true, nil
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if !credited {
		return http.StatusOK, map[string]any{"credited": false,
			"message": "no referral for this sale: no affiliate slug was remembered and the email is not a referred lead"}, nil
	}
	status := http.StatusCreated
	if duplicate {
		status = http.StatusOK
	}
	return status, map[string]any{"credited": true, "conversionId": id, "duplicate": duplicate}, nil
}

// trackAmount reads amountCents: a JSON integer greater than 0.
func trackAmount(raw json.RawMessage) (int64, error) {
	text := strings.TrimSpace(string(raw))
	if text == "" || text == "null" {
		return 0, trackInvalid("amountCents", "is required: the sale amount in minor units (4900 = 49.00)")
	}
	amount, err := strconv.ParseInt(text, 10, 64)
	switch {
	case err != nil:
		return 0, trackInvalid("amountCents", "must be a whole number of minor units (4900 = 49.00), not %s", trackClip(text, 40))
	case amount <= 0:
		return 0, trackInvalid("amountCents", "must be greater than 0")
	}
	return amount, nil
}

// trackCreditFor finds whom a sale is credited to: the approved affiliate
// of slug, else the affiliate whose lead email is, else no one (nil). It
// also returns the lead of email in that affiliate's campaign, if any.
func trackCreditFor(ctx context.Context, client *ent.Client, slug, email string) (*ent.Affiliate, *ent.Campaign, string, error) {
	if slug != "" {
		aff, cmp, err := trackAffiliate(ctx, client, slug)
		if err != nil {
			return nil, nil, "", err
		}
		var leadID string
		if email != "" {
			l, err := client.Lead.Query().Where(lead.CampaignID(cmp.ID), lead.Email(email), lead.AffiliateID(aff.ID)).Only(ctx)
			switch {
			case err == nil:
				leadID = l.ID
			case !ent.IsNotFound(err):
				return nil, nil, "", err
			}
		}
		return aff, cmp, leadID, nil
	}
	if email == "" {
		return nil, nil, "", nil
	}
	l, err := client.Lead.Query().Where(lead.Email(email)).
		Order(ent.Desc(lead.FieldOccurredAt), ent.Desc(lead.FieldID)).
		WithAffiliate(func(q *ent.AffiliateQuery) { q.WithCampaign() }).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	aff := l.Edges.Affiliate
	if aff == nil || aff.Status != affiliate.StatusApproved || aff.Edges.Campaign == nil ||
		aff.Edges.Campaign.Status != campaign.StatusActive {
		return nil, nil, "", nil
	}
	return aff, aff.Edges.Campaign, l.ID, nil
}

// trackNewConversion prepares a Pending conversion of typ for aff on cmp:
// the commission by the campaign's rules (a sale earns on a per-sale
// campaign, a lead on a per-lead one; otherwise it is recorded with none),
// the recruiter's sub-affiliate override, and the home-currency amounts.
func trackNewConversion(ctx context.Context, client *ent.Client, org *ent.Organization, cmp *ent.Campaign, aff *ent.Affiliate,
	typ conversion.Type, amount int64, currency string, now time.Time) (*ent.ConversionCreate, error) {
	var commission int64
	earns := (typ == conversion.TypeSale && cmp.CommissionModel == campaign.CommissionModelCps) ||
		(typ == conversion.TypeLead && cmp.CommissionModel == campaign.CommissionModelCpl)
	if earns {
		commission = programs.Commission(cmp, aff, amount)
		if programs.CommissionType(cmp, aff) == campaign.CommissionTypeFixed && commission != 0 && cmp.Currency != currency {
			return nil, fault.Invalid("currency", "is %s, but the campaign %q pays a fixed commission in %s; send the sale in %s",
				currency, cmp.Name, cmp.Currency, cmp.Currency)
		}
	}
	var overrideAff *string
	var override int64
	if cmp.SubAffiliatesEnabled && aff.RecruitedByID != nil {
		recruiter, err := client.Affiliate.Get(ctx, *aff.RecruitedByID)
		switch {
		case err == nil && recruiter.Status == affiliate.StatusApproved:
			overrideAff, override = &recruiter.ID, programs.Override(cmp, commission)
		case err != nil && !ent.IsNotFound(err):
			return nil, err
		}
	}
	home, rate, err := money.ToHome("currency", currency, org.HomeCurrency, amount, commission)
	if err != nil {
		return nil, err
	}
	return client.Conversion.Create().
		SetAffiliateID(aff.ID).
		SetCampaignID(cmp.ID).
		SetType(typ).
		SetStatus(conversion.StatusPending).
		SetAmountCents(amount).
		SetCurrency(currency).
		SetCommissionCents(commission).
		SetHomeAmountCents(home[0]).
		SetHomeCommissionCents(home[1]).
		SetHomeCurrency(org.HomeCurrency).
		SetFxRate(rate).
		SetNillableOverrideAffiliateID(overrideAff).
		SetOverrideCommissionCents(override).
		SetOccurredAt(now), nil
}

// trackLeadRequest is the body of POST /api/track/lead.
type trackLeadRequest struct {
	Program  string `json:"program"`
	PixelKey string `json:"pixelKey"`
	Slug     string `json:"slug"`
	Email    string `json:"email"`
	Name     string `json:"name"`
}

// lead records a signup as a lead of the referring affiliate, once per
// campaign and email: a repeat answers with the lead already recorded. On a
// per-lead (Cpl) campaign the lead also earns its commission, as a Lead
// conversion.
func (t *tracker) lead(r *http.Request) (int, any, error) {
	var req trackLeadRequest
	if err := trackDecode(r, &req); err != nil {
		return 0, nil, err
	}
	program, err := trackProgram(req.Program)
	if err != nil {
		return 0, nil, err
	}
	slug, err := trackSlug(req.Slug, true)
	if err != nil {
		return 0, nil, err
	}
	email, err := trackEmail(req.Email, true)
	if err != nil {
		return 0, nil, err
	}
	name, err := trackName(req.Name)
	if err != nil {
		return 0, nil, err
	}
	site, err := t.resolve(r.Context(), program, &req.PixelKey)
	if err != nil {
		return 0, nil, err
	}
	ctx := site.asOrg(r.Context())

	var id string
	var duplicate bool
	err = trackInTx(ctx, t.cfg.Client, func(client *ent.Client) error {
		aff, cmp, err := trackAffiliate(ctx, client, slug)
		if err != nil {
			return err
		}
		existing, err := client.Lead.Query().Where(lead.CampaignID(cmp.ID), lead.Email(email)).Only(ctx)
		if err == nil {
			id, duplicate = existing.ID, true
			return nil
		}
		if !ent.IsNotFound(err) {
			return err
		}
		l, err := client.Lead.Create().
			SetAffiliateID(aff.ID).
			SetCampaignID(cmp.ID).
			SetEmail(email).
			SetName(name).
			SetSource(lead.SourcePixel).
			SetOccurredAt(t.now()).
			Save(ctx)
		if err != nil {
			return err
		}
		id = l.ID
		if cmp.CommissionModel != campaign.CommissionModelCpl {
			return nil
		}
		if cmp.Currency != site.org.HomeCurrency {
			return &trackError{status: http.StatusConflict, code: "campaign_currency_mismatch",
				message: fmt.Sprintf("the campaign %q pays per lead in %s, but the organization records money in %s and has no exchange rate: the brand must set the campaign's currency to %s",
					cmp.Name, cmp.Currency, site.org.HomeCurrency, site.org.HomeCurrency)}
		}
		cnv, err := trackNewConversion(ctx, client, site.org, cmp, aff, conversion.TypeLead, 0, cmp.Currency, t.now())
		if err != nil {
			return err
		}
		return cnv.SetLeadID(l.ID).SetCustomerEmail(email).SetCustomerName(name).Exec(ctx)
	})
	if ent.IsConstraintError(err) {
		// The same signup reported twice at once: the other call recorded it.
		if existing, qerr := t.cfg.Client.Lead.Query().Where(lead.Email(email), lead.HasAffiliateWith(affiliate.Slug(slug))).First(ctx); qerr == nil {
			id, duplicate, err = existing.ID, true, nil
		}
	}
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusCreated
	if duplicate {
		status = http.StatusOK
	}
	return status, map[string]any{"credited": true, "leadId": id, "duplicate": duplicate}, nil
}

// trackInTx runs fn in a transaction, so a record and its audit entries
// commit together.
func trackInTx(ctx context.Context, client *ent.Client, fn func(*ent.Client) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
