package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/viewer"
)

// GuestIngestPath is the partner provisioning endpoint of the Subscriptions
// seed.
const GuestIngestPath = "/api/guest-ingest"

// PartnerKeyHeader carries a partner's kpk_ key.
const PartnerKeyHeader = "X-Partner-Key"

// GuestIngestConfig is what the guest-ingest shim needs.
type GuestIngestConfig struct {
	Runner  *graph.Runner // holds guest_ingest (rest/operations)
	Client  *ent.Client   // looks partner keys up
	Limiter ratelimit.Limiter
	// PartnerLimit applies per partner source with a valid key, IPLimit per
	// client IP without one: the server's Limits, which default to
	// ratelimit.PartnerSource and ratelimit.GuestIP.
	PartnerLimit, IPLimit ratelimit.Limit
	Logger                *slog.Logger
}

// GuestIngestHandler answers POST /api/guest-ingest with the seed's request
// and responses, running the guest_ingest operation as a partner viewer. In
// order: the key (an x-partner-key must be a live key, and the body's source,
// if any, its own source: otherwise 401, never the keyless path), then the
// rate limit (1,000/h per source with a key, 5/h per IP without), then the
// body (400 naming the field), then the operation, in one transaction.
//
// The client IP is the connection's (r.RemoteAddr): the server has no
// trusted-proxy setting, so a client-sent X-Forwarded-For is never believed.
func (cfg GuestIngestConfig) Handler() http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return http.HandlerFunc(cfg.serve)
}

func (cfg GuestIngestConfig) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, graph.PublicError{Status: http.StatusMethodNotAllowed, Error: "method_not_allowed",
			Message: "guest-ingest takes POST", Next: "POST the JSON body {email, source, subscriptions: [...]}."})
		return
	}
	raw, perr := readJSONBody(r)
	if perr != nil {
		writeJSON(w, perr.Status, perr)
		return
	}
	// 1. The key. A header that is present but wrong is a hard 401.
	var src *ent.PartnerSource
	if keys := r.Header.Values(PartnerKeyHeader); len(keys) > 0 {
		var err error
		src, err = partners.SourceForKey(r.Context(), cfg.Client, strings.TrimSpace(keys[0]))
		if err != nil {
			cfg.refuse(w, r, err)
			return
		}
		if s := peekSource(raw); s != "" && s != src.Source {
			cfg.refuse(w, r, partners.ErrWrongSource)
			return
		}
	}
	// 2. The rate limit: by source with a key, by connection IP without.
	if src != nil {
		if !ratelimit.Enforce(w, r, cfg.Limiter, cfg.PartnerLimit, src.Source, cfg.Logger) {
			return
		}
	} else if !ratelimit.Enforce(w, r, cfg.Limiter, cfg.IPLimit, ratelimit.IPKey(r.RemoteAddr), cfg.Logger) {
		return
	}
	// 3. The body.
	in, vars, perr := decodeGuestIngest(raw)
	if perr != nil {
		writeJSON(w, perr.Status, perr)
		return
	}
	if err := partners.ValidateGuestIngest(in, true); err != nil {
		cfg.refuse(w, r, err)
		return
	}
	// 4. The operation, as the partner.
	v := &viewer.Viewer{ActorType: viewer.ActorPartner, ActorID: "guest", RequestID: middleware.GetReqID(r.Context())}
	if src != nil {
		v.ActorID, v.PartnerSource = src.ID, src.Source
	}
	ctx := viewer.NewContext(r.Context(), v)
	data, ok := Config{Runner: cfg.Runner}.run(w, ctx, "guest_ingest", map[string]any{"input": vars})
	if !ok {
		return
	}
	var res struct {
		Status       string  `json:"status"`
		Imported     int     `json:"imported"`
		TotalMonthly float64 `json:"totalMonthly"`
		Token        *string `json:"token"`
		MCPURL       *string `json:"mcpURL"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	out := guestIngestResponse{Status: res.Status, Imported: res.Imported,
		TotalMonthly: json.Number(strconv.FormatFloat(res.TotalMonthly, 'f', 2, 64))}
	if res.Status == partners.StatusCreated {
		out.Token, out.MCPURL = res.Token, res.MCPURL
	}
	w.Header().Set("Cache-Control", "no-store") // a created account's token is in it
	writeJSON(w, http.StatusOK, out)
}

// guestIngestResponse is the seed's response: token and mcp_url only for a
// created account.
type guestIngestResponse struct {
	Status       string      `json:"status"`
	Imported     int         `json:"imported"`
	TotalMonthly json.Number `json:"total_monthly"`
	Token        *string     `json:"token,omitempty"`
	MCPURL       *string     `json:"mcp_url,omitempty"`
}

// refuse answers a domain refusal in the public error shape.
func (cfg GuestIngestConfig) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var f *fault.Error
	if !errors.As(err, &f) {
		cfg.Logger.ErrorContext(r.Context(), "guest-ingest failed", "err", err, "request_id", middleware.GetReqID(r.Context()))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	p := graph.PublicError{Status: http.StatusBadRequest, Error: "invalid_argument", Message: f.Message, Field: f.Field}
	switch f.Kind {
	case fault.KindUnauthenticated:
		p.Status, p.Error = http.StatusUnauthorized, f.Reason
		p.Next = "Send the x-partner-key issued for your source with that source (or without a source), or omit the header to use the keyless budget."
		w.Header().Set("WWW-Authenticate", `PartnerKey realm="tandem"`)
	default:
		p.Next = "Fix " + f.Field + " as the message says and send the request again."
	}
	writeJSON(w, p.Status, p)
}

// readJSONBody reads the body, refusing a non-JSON content type.
func readJSONBody(r *http.Request) ([]byte, *graph.PublicError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, &graph.PublicError{Status: http.StatusUnsupportedMediaType, Error: "unsupported_media_type",
				Message: "send the body as JSON with Content-Type: application/json", Next: "Set Content-Type: application/json."}
		}
	}
	raw, err := io.ReadAll(r.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, &graph.PublicError{Status: http.StatusRequestEntityTooLarge, Error: "request_too_large",
			Message: "the request body is too large", Next: "Send at most 100 subscriptions per request."}
	}
	if err != nil {
		return nil, badBody("", "the body could not be read: send it again")
	}
	return raw, nil
}

// peekSource returns the body's "source" string, or "" when there is none
// or the body is not an object (the body check reports that later).
func peekSource(raw []byte) string {
	var b struct {
		Source any `json:"source"`
	}
	if json.Unmarshal(raw, &b) != nil {
		return ""
	}
	s, _ := b.Source.(string)
	return s
}

// decodeGuestIngest reads the seed's snake_case body into the domain input
// (for validation with the wire's field names) and the GraphQL variables.
// JSON nulls mean "not given"; unknown fields, a "tier" among them, are
// ignored: the server sets the tier.
func decodeGuestIngest(raw []byte) (partners.GuestIngestInput, map[string]any, *graph.PublicError) {
	var in partners.GuestIngestInput
	top, perr := object(raw, "", "the body must be one JSON object: {email, source, subscriptions: [...]}")
	if perr != nil {
		return in, nil, perr
	}
	vars := map[string]any{}
	if err := member(top, "email", "email", "a string such as ada@example.com", &in.Email); err != nil {
		return in, nil, err
	}
	if _, ok := present(top, "email"); !ok {
		return in, nil, badBody("email", "email is required: the person's email address")
	}
	vars["email"] = in.Email
	var source string
	if err := member(top, "source", "source", "a string: your source slug", &source); err != nil {
		return in, nil, err
	}
	if source != "" {
		in.Source, vars["source"] = &source, source
	}
	subsRaw, ok := present(top, "subscriptions")
	if !ok {
		return in, nil, badBody("subscriptions", "subscriptions is required: a list of 1–100 objects, each with name and amount")
	}
	var items []json.RawMessage
	if json.Unmarshal(subsRaw, &items) != nil {
		return in, nil, badBody("subscriptions", "subscriptions must be a list of objects, each with name and amount")
	}
	if len(items) > partners.MaxIngestSubscriptions {
		return in, nil, badBody("subscriptions", fmt.Sprintf("subscriptions has %d items: send at most %d per request and split the rest", len(items), partners.MaxIngestSubscriptions))
	}
	var list []any
	for i, item := range items {
		s, v, perr := decodeSubscription(item, fmt.Sprintf("subscriptions[%d]", i))
		if perr != nil {
			return in, nil, perr
		}
		in.Subscriptions = append(in.Subscriptions, s)
		list = append(list, v)
	}
	vars["subscriptions"] = list
	return in, vars, nil
}

func decodeSubscription(raw json.RawMessage, path string) (*subscriptions.IngestInput, map[string]any, *graph.PublicError) {
	obj, perr := object(raw, path, path+" must be an object with at least name and amount")
	if perr != nil {
		return nil, nil, perr
	}
	s := &subscriptions.IngestInput{}
	v := map[string]any{}
	if _, ok := present(obj, "name"); !ok {
		return nil, nil, badBody(path+".name", path+".name is required: the service's name, e.g. Netflix")
	}
	if err := member(obj, "name", path+".name", "a string: the service's name", &s.Name); err != nil {
		return nil, nil, err
	}
	v["name"] = s.Name
	if _, ok := present(obj, "amount"); !ok {
		return nil, nil, badBody(path+".amount", path+".amount is required: the monthly amount in dollars, e.g. 15.99")
	}
	if err := member(obj, "amount", path+".amount", "a number: the monthly amount in dollars from 0 to 100000, e.g. 15.99", &s.Amount); err != nil {
		return nil, nil, err
	}
	v["amount"] = s.Amount
	if b, ok := present(obj, "bill_date"); ok {
		var bd subscriptions.BillDate
		if bd.UnmarshalJSON(b) != nil {
			return nil, nil, badBody(path+".bill_date", path+".bill_date must be a day of the month (1–31) or text of at most 64 characters")
		}
		s.BillDate = &bd
		if bd.Text != "" {
			v["billDate"] = bd.Text
		} else {
			v["billDate"] = bd.Day
		}
	}
	var trial string
	if err := member(obj, "trial_end_date", path+".trial_end_date", "a date string YYYY-MM-DD", &trial); err != nil {
		return nil, nil, err
	}
	if _, ok := present(obj, "trial_end_date"); ok {
		s.TrialEndDate, v["trialEndDate"] = &trial, trial
	}
	var network string
	if err := member(obj, "card_network", path+".card_network", "one of visa, mastercard, amex or discover", &network); err != nil {
		return nil, nil, err
	}
	if _, ok := present(obj, "card_network"); ok {
		cn := subscription.CardNetwork(network)
		s.CardNetwork, v["cardNetwork"] = &cn, network
	}
	return s, v, nil
}

// object decodes raw as a JSON object (a field per member).
func object(raw []byte, field, msg string) (map[string]json.RawMessage, *graph.PublicError) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, badBody(field, msg)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badBody(field, msg)
	}
	return obj, nil
}

// present returns a member that is there and not null.
func present(obj map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	v, ok := obj[name]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

// member decodes obj[name] into dst when present, naming path and the
// expected JSON type when it does not fit.
func member[T any](obj map[string]json.RawMessage, name, path, want string, dst *T) *graph.PublicError {
	v, ok := present(obj, name)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return badBody(path, path+" must be "+want)
	}
	return nil
}
