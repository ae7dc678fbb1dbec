package credential

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// secretHolder hides its token from %+v but not from encoding/json, the way
// a struct with a String method and exported fields can.
type secretHolder struct {
	Token string `json:"token"`
}

func (secretHolder) String() string { return "secretHolder{…}" }

// lazySecret produces its token only when slog resolves it.
type lazySecret struct{ token string }

func (l lazySecret) LogValue() slog.Value { return slog.StringValue("lazy " + l.token) }

// panicky panics when printed, to check the handler does not crash.
type panicky struct{}

func (panicky) String() string { panic("boom") }

func TestScrubbingHandler(t *testing.T) {
	mcp := mustNew(t, KindMCP)
	live := mustNew(t, KindAPIKey)
	rks := mustNew(t, KindSigningSecret)
	kordi := mustNew(t, KindUserToken)
	clerk := mustNew(t, KindPartnerUserToken)
	kpk := mustNew(t, KindPartnerKey)
	ident := "t=1767225600,v1=5daa3682c128aa8129f99a13508d240b5f8e6fe54bac0767fe3113fe829adc3f"

	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+mcp)
	hdr.Set(identityHeader, ident)

	tests := []struct {
		name    string
		log     func(*slog.Logger)
		secrets []string
		want    []string // substrings the output must still contain
	}{
		{"message", func(l *slog.Logger) { l.Info("auth failed for " + mcp) }, []string{mcp}, []string{"auth failed for " + Redact(mcp)}},
		{"string attr", func(l *slog.Logger) { l.Info("x", "token", live) }, []string{live}, []string{Redact(live)}},
		{"error attr", func(l *slog.Logger) {
			l.Error("x", "err", fmt.Errorf("calling api: %w", errors.New("bad key "+rks)))
		}, []string{rks}, []string{"calling api: bad key " + Redact(rks)}},
		{"bytes attr", func(l *slog.Logger) { l.Info("x", "body", []byte(`{"token":"`+mcp+`"}`)) }, []string{mcp}, nil},
		{"http.Header attr", func(l *slog.Logger) { l.Info("request", "headers", hdr) }, []string{mcp, "5daa3682"}, nil},
		{"struct hiding its token from fmt", func(l *slog.Logger) { l.Info("x", "holder", secretHolder{Token: live}) }, []string{live}, nil},
		{"log valuer", func(l *slog.Logger) { l.Info("x", "v", lazySecret{mcp}) }, []string{mcp}, []string{"lazy " + Redact(mcp)}},
		{"group", func(l *slog.Logger) {
			l.Info("x", slog.Group("req", slog.String("url", "/x?token="+mcp), slog.Group("inner", "k", live)))
		}, []string{mcp, live}, nil},
		{"with attrs", func(l *slog.Logger) { l.With("token", mcp).Info("x") }, []string{mcp}, nil},
		{"with group then attrs", func(l *slog.Logger) { l.WithGroup("g").With("token", mcp).Info("x", "k", live) }, []string{mcp, live}, nil},
		{"authorization key with a basic credential", func(l *slog.Logger) { l.Info("x", "Authorization", "Basic dXNlcjpwYXNz") }, []string{"dXNlcjpwYXNz"}, []string{Redacted}},
		{"identity key", func(l *slog.Logger) { l.Info("x", identityHeader, ident) }, []string{"5daa3682"}, nil},
		{"sensitive key with a non-string value", func(l *slog.Logger) { l.Info("x", "authorization", []string{"Basic dXNlcjpwYXNz"}) }, []string{"dXNlcjpwYXNz"}, nil},
		{"token as a key", func(l *slog.Logger) { l.Info("x", mcp, 1) }, []string{mcp}, nil},
		{"harmless attrs kept", func(l *slog.Logger) { l.Info("served", "status", 200, "path", "/api/v1/x") }, nil, []string{"status", "200", "/api/v1/x"}},
		{"panicking value", func(l *slog.Logger) { l.Info("x", "p", panicky{}) }, nil, []string{"PANIC"}},
		{"subscriptions credentials", func(l *slog.Logger) {
			l.Info("guest ingest "+kpk, "token", clerk, "url", "/mcp?token="+kordi)
		}, []string{kpk, clerk, kordi}, []string{Redact(kpk), Redact(clerk), Redact(kordi)}},
		{"partner key header key", func(l *slog.Logger) { l.Info("x", "X-Partner-Key", "not-a-kpk-value") }, []string{"not-a-kpk-value"}, []string{Redacted}},
	}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for hname, newHandler := range handlers {
		for _, tt := range tests {
			t.Run(hname+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(slog.New(ScrubbingHandler(newHandler(&buf))))
				out := buf.String()
				if out == "" {
					t.Fatal("nothing was logged")
				}
				for _, s := range tt.secrets {
					if strings.Contains(out, s) {
						t.Errorf("secret %q found in log output:\n%s", s, out)
					}
				}
				// JSON escapes some characters, so compare on the text form only.
				if hname == "text" {
					for _, w := range tt.want {
						if !strings.Contains(out, w) {
							t.Errorf("%q missing from log output:\n%s", w, out)
						}
					}
				}
			})
		}
	}
}

func TestScrubbingHandlerRespectsLevel(t *testing.T) {
	var buf bytes.Buffer
	h := ScrubbingHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) {
		t.Fatal("Info enabled under a Warn handler")
	}
	slog.New(h).Info("dropped")
	if buf.Len() != 0 {
		t.Fatalf("logged below the level: %q", buf.String())
	}
}
