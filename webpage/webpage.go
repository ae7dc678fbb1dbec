// Package webpage holds what Tandem's server-rendered pages share: a fresh
// style nonce for each response, the headers of a page whose URL or body
// holds a secret, and rendering into a buffer, so that a template error
// answers a clean 500 instead of half a page.
package webpage

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
)

// Nonce returns a fresh nonce for a page's stylesheet, which its
// Content-Security-Policy admits by it.
func Nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SecretHeaders sets the headers of a page whose URL or body holds a
// secret (a one-time link, a token): never cached, never sent on as a
// referrer, never framed, and nothing loads but its own nonce'd stylesheet;
// its forms post only to itself.
func SecretHeaders(h http.Header, nonce string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; "+
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
}

// Render executes t with data and writes it with status. A template error
// is logged with what (the page's name) and answered 500.
func Render(w http.ResponseWriter, status int, t *template.Template, data any, log *slog.Logger, what string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		log.Error("rendering "+what+" failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
