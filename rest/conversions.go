package rest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/graph"
)

// ConversionsPath is the server-to-server conversion endpoint under /api/v1.
const ConversionsPath = "/conversions"

// conversionBody is the body of POST /api/v1/conversions: the fields of
// recordConversion's RecordConversionInput, as JSON.
type conversionBody struct {
	Slug         *string `json:"slug"`
	CampaignID   *string `json:"campaignId"`
	AmountCents  *int64  `json:"amountCents"`
	Currency     *string `json:"currency"`
	OrderID      *string `json:"orderId"`
	Email        *string `json:"email"`
	CustomerName *string `json:"customerName"`
	Type         *string `json:"type"`
	OccurredAt   *string `json:"occurredAt"`
}

// conversionFields lists the body's fields for error messages.
const conversionFields = "slug, campaignId, amountCents, currency, orderId, email, customerName, type, occurredAt"

// recordConversion answers POST /api/v1/conversions: it runs
// record_conversion with the body as the input and answers the conversion
// ({id, status, type, amountCents, commissionCents, currency, affiliateId,
// campaignId, externalId, occurredAt, created}): 201 when this call recorded
// it, 200 (created false) when its orderId was recorded before. Errors are
// graph.PublicError bodies with the status they name.
func (cfg Config) recordConversion(w http.ResponseWriter, r *http.Request) {
	input, perr := decodeConversion(r)
	if perr != nil {
		writeJSON(w, perr.Status, perr)
		return
	}
	data, ok := cfg.run(w, r.Context(), "record_conversion", map[string]any{"input": input})
	if !ok {
		return
	}
	var res struct {
		Created    bool                       `json:"created"`
		Conversion map[string]json.RawMessage `json:"conversion"`
	}
	if err := json.Unmarshal(data, &res); err != nil || res.Conversion == nil {
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	res.Conversion["created"] = json.RawMessage("false")
	status := http.StatusOK
	if res.Created {
		res.Conversion["created"] = json.RawMessage("true")
		status = http.StatusCreated
	}
	writeJSON(w, status, res.Conversion)
}

// decodeConversion reads the body into recordConversion's input, refusing
// what GraphQL would refuse with a vaguer message: a body that is not one
// JSON object, an unknown field, a value of the wrong JSON type, a missing
// required field, an unknown type or an unreadable time.
func decodeConversion(r *http.Request) (map[string]any, *graph.PublicError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, &graph.PublicError{Status: http.StatusUnsupportedMediaType, Error: "unsupported_media_type",
				Message: "send the body as JSON with Content-Type: application/json",
				Next:    "Set Content-Type: application/json and sign the exact bytes you send."}
		}
	}
	var body conversionBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, badBody("", "the body must be exactly one JSON object")
		}
	}
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
	case errors.As(err, &maxErr):
		return nil, &graph.PublicError{Status: http.StatusRequestEntityTooLarge, Error: "request_too_large",
			Message: "the request body is too large", Next: "Send one conversion per request."}
	case errors.As(err, &typeErr) && typeErr.Field != "":
		want := "a string"
		if typeErr.Field == "amountCents" {
			want = "a whole number of minor units (4900 = 49.00)"
		}
		return nil, badBody(typeErr.Field, typeErr.Field+" must be "+want)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return nil, badBody(name, name+" is not a field of a conversion: send only "+conversionFields)
	case errors.Is(err, io.EOF):
		return nil, badBody("", "the body is empty: send a JSON object with slug, amountCents, currency and orderId")
	default:
		return nil, badBody("", "the body is not a JSON object: send one object with the fields "+conversionFields)
	}

	in := map[string]any{}
	put := func(name string, v *string) {
		if v != nil {
			in[name] = *v
		}
	}
	switch {
	case body.AmountCents == nil:
		return nil, badBody("amountCents", "amountCents is required: the sale amount in minor units (4900 = 49.00)")
	case body.Currency == nil:
		return nil, badBody("currency", "currency is required: the ISO 4217 code of amountCents, such as USD")
	case body.OrderID == nil:
		return nil, badBody("orderId", "orderId is required: your order or invoice id, which makes a retried call record one sale")
	}
	in["amountCents"] = *body.AmountCents
	put("currency", body.Currency)
	put("orderId", body.OrderID)
	put("slug", body.Slug)
	put("campaignId", body.CampaignID)
	put("email", body.Email)
	put("customerName", body.CustomerName)
	if body.Type != nil {
		if conversion.TypeValidator(conversion.Type(*body.Type)) != nil {
			return nil, badBody("type", "type must be Sale, Subscription or Renewal")
		}
		in["type"] = *body.Type
	}
	if body.OccurredAt != nil {
		if _, err := time.Parse(time.RFC3339Nano, *body.OccurredAt); err != nil {
			return nil, badBody("occurredAt", "occurredAt must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
		}
		in["occurredAt"] = *body.OccurredAt
	}
	return in, nil
}

// badBody is a 400 about the request body, in the shape of every REST error.
func badBody(field, msg string) *graph.PublicError {
	next := "Fix the body as the message says and send it again (signed anew)."
	if field != "" {
		next = "Fix " + field + " as the message says and send the request again (signed anew)."
	}
	return &graph.PublicError{Status: http.StatusBadRequest, Error: "invalid_argument", Message: msg, Field: field, Next: next}
}
