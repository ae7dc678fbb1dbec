package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/privacy"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/gate"
)

// Stable error codes, in extensions.code of every GraphQL error. Clients and
// the MCP and REST adapters branch on these, never on messages.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	// CodeLimitReached: a per-organization cap (10 active MCP tokens) is
	// reached; free one (revoke a token) and retry.
	CodeLimitReached    = "LIMIT_REACHED"
	CodeQueryTooComplex = "QUERY_TOO_COMPLEX"
	CodeInternal        = "INTERNAL"
	CodePlanRequired    = "PLAN_TIER_REQUIRED"
	CodePaidPlan        = "PAID_PLAN_REQUIRED"
	CodeEmailUnverified = "EMAIL_NOT_VERIFIED"
)

// presentError turns any resolver error into a message a client can act on
// and a stable code, and never lets SQL, file paths or stack traces out: what
// it does not recognise is logged with the request id and answered as
// "internal error".
func presentError(log *slog.Logger, dev bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var inner *gqlerror.Error
		if errors.As(err, &inner) && inner.Err == nil {
			// Parse, validation and limit errors are about the query text: safe
			// as they are, less the hints that would map the schema for a stranger.
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
			}
			if field := variableField(gqlErr.Path); field != "" {
				// A variable that does not coerce ("diners is not a valid
				// …CardNetwork"): name the input, as domain refusals do.
				gqlErr.Extensions["field"] = field
				if !strings.Contains(gqlErr.Message, field) {
					gqlErr.Message = field + ": " + gqlErr.Message
				}
			}
			if !dev {
				gqlErr.Message = didYouMean.ReplaceAllString(gqlErr.Message, "")
			}
			return gqlErr
		}
		if inner != nil && len(inner.Path) > len(graphql.GetPath(ctx)) {
			// gqlgen could not read an argument (a bad cursor, time or map):
			// the path runs past the field into the argument's name.
			arg := fmt.Sprint(inner.Path[len(inner.Path)-1])
			gqlErr.Message = fmt.Sprintf("%s has an invalid value: %s", arg, firstLine(inner.Message))
			gqlErr.Err = nil
			gqlErr.Extensions = map[string]any{"code": CodeBadUserInput, "field": arg}
			return gqlErr
		}
		var gateErr *gate.Error
		if errors.As(err, &gateErr) {
			// Plan, role and email gates: the code names the gate and, for
			// plans, the tier that would pass, so a client can say "upgrade to Pro".
			gqlErr.Message, gqlErr.Err = gateErr.Message, nil
			gqlErr.Extensions = map[string]any{"code": gateCodes[gateErr.Code]}
			if gateErr.RequiredTier != "" {
				gqlErr.Extensions["requiredTier"] = gateErr.RequiredTier
			}
			return gqlErr
		}
		code, msg, field := classify(err)
		if code == CodeInternal {
			log.ErrorContext(ctx, "graphql: internal error", "request_id", middleware.GetReqID(ctx), "path", gqlErr.Path.String(), "err", err)
			msg = "internal error"
			if id := middleware.GetReqID(ctx); id != "" {
				msg += " (request " + id + ")"
			}
		}
		// Look for the reason before clearing gqlErr.Err: err is often
		// gqlErr itself, and would then no longer unwrap to the refusal.
		var refusal *fault.Error
		hasReason := errors.As(err, &refusal) && refusal.Reason != ""
		gqlErr.Message = msg
		gqlErr.Err = nil
		gqlErr.Extensions = map[string]any{"code": code}
		if field != "" {
			gqlErr.Extensions["field"] = field
		}
		if hasReason {
			gqlErr.Extensions["reason"] = refusal.Reason
		}
		return gqlErr
	}
}

func classify(err error) (code, msg, field string) {
	var refErr *rule.RefNotFoundError
	var validation *ent.ValidationError
	var notFound *ent.NotFoundError
	var refusal *fault.Error
	switch {
	case errors.As(err, &refusal):
		return faultCodes[refusal.Kind], refusal.Message, refusal.Field
	case errors.Is(err, rule.ErrNoViewer):
		return CodeUnauthenticated, "sign in first: this operation needs a signed-in viewer", ""
	case errors.Is(err, rule.ErrReadOnly):
		return CodeForbidden, "your role can read this organization's data but not change it; ask an owner or admin", ""
	case errors.As(err, &refErr):
		return CodeNotFound, refErr.Error(), lowerCamel(refErr.Edge) + "ID"
	case errors.As(err, &notFound), ent.IsNotFound(err):
		return CodeNotFound, "not found", ""
	case errors.Is(err, rule.ErrOwnerSessionOnly):
		return CodeForbidden, "only an organization owner signed in to the dashboard may create, rotate or revoke MCP tokens and API keys", ""
	case errors.Is(err, privacy.Deny):
		// Tenancy denials read exactly like a missing row.
		return CodeNotFound, "not found", ""
	case errors.As(err, &validation):
		f := validationField(validation.Name)
		return CodeBadUserInput, fmt.Sprintf("%s is invalid: %s", f, validationCause(validation)), f
	case ent.IsConstraintError(err):
		if f := uniqueField(constraintText(err)); f != "" {
			return CodeConflict, fmt.Sprintf("%s is already taken in this organization: choose another", f), f
		}
		return CodeConflict, "this change conflicts with existing data (a unique value is taken or a referenced row is missing)", ""
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Extensions != nil {
		if c, ok := gqlErr.Extensions["code"].(string); ok && c != "" {
			return c, gqlErr.Message, ""
		}
	}
	return CodeInternal, "", ""
}

// gateCodes maps the gates' seed codes to GraphQL error codes; the MCP and
// REST adapters map these back to the seed's codes and HTTP statuses.
var gateCodes = map[string]string{
	"plan_tier_required": CodePlanRequired,
	"paid_plan_required": CodePaidPlan,
	"forbidden":          CodeForbidden,
	"email_not_verified": CodeEmailUnverified,
	"unauthorized":       CodeUnauthenticated,
}

// faultCodes maps domain refusals to error codes.
var faultCodes = map[fault.Kind]string{
	fault.KindInvalid:         CodeBadUserInput,
	fault.KindUnauthenticated: CodeUnauthenticated,
	fault.KindForbidden:       CodeForbidden,
	fault.KindConflict:        CodeConflict,
	fault.KindLimitReached:    CodeLimitReached,
	fault.KindNotFound:        CodeNotFound,
}

func validationField(name string) string {
	// ent names fields "Type.field_name" in some errors and "field_name" in others.
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return lowerCamel(name)
}

func validationCause(v *ent.ValidationError) string {
	cause := errors.Unwrap(v)
	if cause == nil {
		return "the value is not allowed"
	}
	msg := cause.Error()
	msg = strings.TrimPrefix(msg, "ent: ")
	switch {
	case strings.Contains(msg, "does not match validation"):
		return "it has characters or a shape that is not allowed (slugs: lowercase letters, digits and single hyphens; codes: A–Z, 0–9, _ and -)"
	case strings.Contains(msg, "value is less than the required length"), strings.Contains(msg, "empty"):
		return "it must not be empty"
	case strings.Contains(msg, "value is greater than the required length"):
		return "it is too long"
	case strings.Contains(msg, "out of range"):
		return "it is outside the allowed range"
	case strings.Contains(msg, "negative"):
		return "it must not be negative"
	case strings.Contains(msg, "not a valid enum") || strings.Contains(msg, "invalid enum value"):
		return "it is not one of the allowed values"
	}
	return "the value is not allowed"
}

var didYouMean = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var (
	sqliteUnique = regexp.MustCompile(`UNIQUE constraint failed: ([a-z_.,\s]+)`)
	// PostgreSQL's error detail names the columns: Key (org_id, slug)=(…) already exists.
	postgresUniqueKey = regexp.MustCompile(`^Key \(([a-z_, ]+)\)=`)
)

// constraintText is the part of a constraint error that names columns: the
// detail of a PostgreSQL error, the message of a SQLite one.
func constraintText(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Detail
	}
	return err.Error()
}

// uniqueField names the field a unique-constraint error is about, from the
// driver's message, without repeating the message (it names tables and SQL).
func uniqueField(msg string) string {
	var cols []string
	if m := sqliteUnique.FindStringSubmatch(msg); m != nil {
		for _, c := range strings.Split(m[1], ",") {
			c = strings.TrimSpace(c)
			if i := strings.IndexByte(c, '.'); i >= 0 {
				c = c[i+1:]
			}
			cols = append(cols, c)
		}
	} else if m := postgresUniqueKey.FindStringSubmatch(msg); m != nil {
		for _, c := range strings.Split(m[1], ",") {
			cols = append(cols, strings.TrimSpace(c))
		}
	}
	var kept []string
	for _, c := range cols {
		c = strings.TrimPrefix(c, "org_id_")
		if c != "org_id" && c != "" {
			kept = append(kept, lowerCamel(c))
		}
	}
	return strings.Join(kept, ", ")
}

func lowerCamel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// recoverPanic logs a resolver panic with its stack, server-side only.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic", "request_id", middleware.GetReqID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("internal panic")
	}
}

// variableField is the innermost input named by the path of a variable
// coercion error (variable → input → cardNetwork), or "".
func variableField(path ast.Path) string {
	if len(path) < 2 || fmt.Sprint(path[0]) != "variable" {
		return ""
	}
	for i := len(path) - 1; i > 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return ""
}
