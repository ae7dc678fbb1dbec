package credential

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// ScrubbingHandler wraps h so that secrets that reach a log record by
// accident are redacted before h formats them: the message, attribute keys
// and values, group names, and attributes added with Logger.With. It is a
// safety net, not a licence to log secrets: it only knows the patterns Scrub
// knows.
//
// String values are scrubbed in place. Other values (errors, byte slices,
// structs, maps such as http.Header) are checked in each form a handler might
// print them in (fmt's %+v, encoding.TextMarshaler, encoding/json) and, if any
// form holds a secret, replaced by the scrubbed %+v string. Attributes named
// Authorization, Proxy-Authorization, X-Rekomi-MCP-Identity or X-Partner-Key, in any case,
// never pass through unchanged: if Scrub finds nothing to remove in their
// value, the whole value becomes Redacted.
func ScrubbingHandler(h slog.Handler) slog.Handler {
	return scrubbingHandler{next: h}
}

type scrubbingHandler struct{ next slog.Handler }

func (s scrubbingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return s.next.Enabled(ctx, l)
}

func (s scrubbingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return s.next.Handle(ctx, out)
}

func (s scrubbingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return scrubbingHandler{next: s.next.WithAttrs(scrubAttrs(attrs))}
}

func (s scrubbingHandler) WithGroup(name string) slog.Handler {
	return scrubbingHandler{next: s.next.WithGroup(Scrub(name))}
}

func scrubAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = scrubAttr(a)
	}
	return out
}

func scrubAttr(a slog.Attr) slog.Attr {
	// Resolve first: a LogValuer may produce the secret only when asked.
	v := a.Value.Resolve()
	key := Scrub(a.Key)
	sensitive := sensitiveKey(a.Key)
	switch v.Kind() {
	case slog.KindGroup:
		return slog.Attr{Key: key, Value: slog.GroupValue(scrubAttrs(v.Group())...)}
	case slog.KindString:
		return slog.String(key, scrubValue(v.String(), sensitive))
	case slog.KindAny:
		forms := printedForms(v.Any())
		if sensitive {
			return slog.String(key, scrubValue(forms[0], true))
		}
		for _, f := range forms {
			if Scrub(f) != f {
				return slog.String(key, Scrub(forms[0]))
			}
		}
		return slog.Attr{Key: key, Value: v}
	default:
		// Numbers, booleans, times and durations cannot hold a token, but a
		// sensitive key still never shows its value.
		if sensitive {
			return slog.String(key, Redacted)
		}
		return slog.Attr{Key: key, Value: v}
	}
}

// scrubValue scrubs s; for a sensitive key it also hides a value in which
// Scrub recognised nothing, such as a Basic credential.
func scrubValue(s string, sensitive bool) string {
	scrubbed := Scrub(s)
	if sensitive && scrubbed == s {
		return Redacted
	}
	return scrubbed
}

func sensitiveKey(k string) bool {
	return strings.EqualFold(k, "authorization") ||
		strings.EqualFold(k, "proxy-authorization") ||
		strings.EqualFold(k, "x-rekomi-mcp-identity") ||
		strings.EqualFold(k, "x-partner-key")
}

// printedForms returns the ways a slog handler may render x, the first being
// the one a text handler shows: the message of an error, the bytes of a byte
// slice as text, %+v for anything else. The others are %+v of an error (a
// fmt.Formatter may add detail), encoding.TextMarshaler's form and
// encoding/json's. A method that panics is treated as printing nothing: the
// point is to inspect the value, not to crash the logger.
func printedForms(x any) []string {
	var first string
	switch x := x.(type) {
	case error:
		first, _ = safeCall(func() (string, error) { return x.Error(), nil })
	case []byte:
		first = string(x)
	case json.RawMessage:
		first = string(x)
	default:
		first = fmt.Sprintf("%+v", x)
	}
	forms := []string{first}
	if _, ok := x.(error); ok {
		forms = append(forms, fmt.Sprintf("%+v", x))
	}
	if m, ok := x.(encoding.TextMarshaler); ok {
		if t, err := safeCall(func() (string, error) { b, err := m.MarshalText(); return string(b), err }); err == nil {
			forms = append(forms, t)
		}
	}
	if j, err := safeCall(func() (string, error) { b, err := json.Marshal(x); return string(b), err }); err == nil {
		forms = append(forms, j)
	}
	return forms
}

func safeCall(f func() (string, error)) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = "", fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
