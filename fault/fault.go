// Package fault is the refusal every domain package returns when the caller
// can act on it: which input is wrong, or why the action is not allowed.
// The GraphQL layer turns a Kind into a stable error code; the CLI prints
// the message. Anything else is an internal error.
package fault

import (
	"fmt"
	"strings"
)

// Kind classifies an Error.
type Kind int

// The kinds of Error.
const (
	KindInvalid         Kind = iota + 1 // an input is wrong; Field names it
	KindUnauthenticated                 // the credentials, link or session do not prove who is asking
	KindForbidden                       // the viewer may not do this
	KindConflict                        // the input collides with existing data; Field names it when it can
	KindLimitReached                    // a per-organization cap is reached
	KindNotFound                        // an input names nothing in the viewer's organization; Field names it
)

// Error is a refusal a person can act on. Its message is safe to show.
type Error struct {
	Kind  Kind
	Field string // the input at fault, as the GraphQL input names it; may be empty
	// Reason is a specific, stable snake_case cause within the kind (e.g.
	// slug_already_taken) that clients branch on; it travels as
	// extensions.reason and is the error name the MCP and REST adapters show.
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Renamed is a copy of e that names field instead, in Field and where the
// message names the old field: a caller that spells the input differently
// (an item of a list, another operation's argument) keeps the message true.
func (e *Error) Renamed(field string) *Error {
	c := *e
	if e.Field != "" {
		c.Message = strings.Replace(e.Message, e.Field, field, 1)
	}
	c.Field = field
	return &c
}

// Invalid reports a wrong input, naming it and saying how to fix it.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: field + " " + fmt.Sprintf(format, args...)}
}

// Conflict refuses an input that collides with existing data, naming the
// field and a stable reason such as slug_already_taken.
func Conflict(field, reason, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// NotFound refuses an input that names nothing in the viewer's
// organization (another organization's ID reads the same), naming the field.
func NotFound(field, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}
