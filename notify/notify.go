// Package notify writes the emails an organization sends its affiliates
// (invitations, approvals, rejections, import notices), branded with the
// organization's name, colour and logo.
//
// Queue renders a Message into an HTML email and its plain-text twin and
// writes it to the outbox (OutboxMessage) with the caller's client, so that
// inside a transaction the email exists if and only if the action that
// caused it commits. Package mailer delivers the outbox.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
)

// Message is one branded email to one recipient. Every field but NoteHTML is
// plain text and is escaped; NoteHTML must come from SanitizeNote.
type Message struct {
	// Kind names the email in the outbox (affiliate_invite, …), at most 64 bytes.
	Kind string
	// Subject is the subject line, at most 300 bytes.
	Subject string
	// Heading is the large first line of the email.
	Heading string
	// Paragraphs are the body, one paragraph each.
	Paragraphs []string
	// NoteHTML is a personal note from the brand, already sanitized with
	// SanitizeNote; it is inserted as it is, in a quoted box.
	NoteHTML string
	// ActionLabel and ActionURL make the button; the URL is also written out
	// under the button and in the text version. Both or neither.
	ActionLabel, ActionURL string
}

// DefaultBrandColor is used when an organization's colour is not a
// #rrggbb hex colour (the schema's default).
const DefaultBrandColor = "#4f46e5"

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Queue renders m for org and writes it to the outbox addressed to to, with
// client (the transaction's client when called in one). The outbox is the
// system's, so the row is written AsSystem; it carries org's ID.
func Queue(ctx context.Context, client *ent.Client, org *ent.Organization, to string, m Message) error {
	if org == nil {
		return errors.New("notify: no organization")
	}
	_, err := queue(ctx, client, org.ID, brandOf(org), "Sent by "+org.Name+"'s affiliate program.", to, m, time.Now())
	return err
}

// queue checks m, renders it in b with footer and writes it to the outbox
// addressed to to, due at now, for orgID ("": no organization). It returns
// the outbox message's ID.
func queue(ctx context.Context, client *ent.Client, orgID string, b brand, footer, to string, m Message, now time.Time) (string, error) {
	if err := m.check(to); err != nil {
		return "", err
	}
	htmlBody, err := renderHTML(b, footer, m)
	if err != nil {
		return "", err
	}
	create := client.OutboxMessage.Create().
		SetKind(m.Kind).
		SetToAddress(to).
		SetSubject(m.Subject).
		SetTextBody(renderText(footer, m)).
		SetHTMLBody(htmlBody).
		SetNextAttemptAt(now.UTC())
	if orgID != "" {
		create.SetOrgID(orgID)
	}
	// The outbox is system-only (no viewer may read emails, which carry
	// sign-in links); writing to it is what every email-causing action does.
	msg, err := create.Save(rule.AsSystem(ctx))
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}

func (m Message) check(to string) error {
	switch {
	case strings.TrimSpace(to) == "" || len(to) > 254:
		return fmt.Errorf("notify: recipient %q is not an address", to)
	case m.Kind == "" || len(m.Kind) > 64:
		return fmt.Errorf("notify: kind %q must have 1 to 64 bytes", m.Kind)
	case strings.TrimSpace(m.Subject) == "" || len(m.Subject) > 300 || strings.ContainsAny(m.Subject, "\r\n"):
		return fmt.Errorf("notify: subject of %s must be one line of 1 to 300 bytes", m.Kind)
	case (m.ActionLabel == "") != (m.ActionURL == ""):
		return fmt.Errorf("notify: %s has a button label or URL without the other", m.Kind)
	}
	if m.ActionURL != "" {
		u, err := url.Parse(m.ActionURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("notify: %s button URL is not an absolute http(s) URL", m.Kind)
		}
	}
	return nil
}

// brand is what the templates know of the organization.
type brand struct {
	Name      string
	Color     string // #rrggbb
	TextColor string // readable on Color
	LogoURL   string // https only, or empty
}

func brandOf(org *ent.Organization) brand {
	b := brand{Name: org.Name, Color: DefaultBrandColor}
	if hexColor.MatchString(org.BrandColor) {
		b.Color = strings.ToLower(org.BrandColor)
	}
	b.TextColor = TextOn(b.Color)
	if u, err := url.Parse(org.LogoURL); err == nil && u.Scheme == "https" && u.Host != "" {
		b.LogoURL = u.String()
	}
	return b
}

// TextOn returns the text colour (#ffffff or #111827) that reads best on the
// #rrggbb background bg, by WCAG relative luminance.
func TextOn(bg string) string {
	if !hexColor.MatchString(bg) {
		return "#ffffff"
	}
	channel := func(i int) float64 {
		v, _ := strconv.ParseUint(bg[i:i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*channel(1) + 0.7152*channel(3) + 0.0722*channel(5)
	// Contrast with white is 1.05/(l+0.05), with near-black (l≈0.012)
	// (l+0.05)/0.062; pick the larger.
	if 1.05/(l+0.05) >= (l+0.05)/0.062 {
		return "#ffffff"
	}
	return "#111827"
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#111827;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px;overflow:hidden;">
<tr><td style="background:{{.Brand.Color}};color:{{.Brand.TextColor}};padding:20px 32px;font-size:18px;font-weight:600;">
{{- if .Brand.LogoURL}}<img src="{{.Brand.LogoURL}}" alt="" height="32" style="height:32px;vertical-align:middle;margin-right:12px;border:0;">{{end -}}
<span style="vertical-align:middle;">{{.Brand.Name}}</span>
</td></tr>
<tr><td style="padding:32px;">
<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;color:#111827;">{{.Heading}}</h1>
{{- range .Paragraphs}}
<p style="margin:0 0 16px;font-size:15px;line-height:1.6;">{{.}}</p>
{{- end}}
{{- if .Note}}
<div style="margin:8px 0 24px;padding:12px 16px;border-left:4px solid {{.Brand.Color}};background:#f9fafb;font-size:15px;line-height:1.6;">{{.Note}}</div>
{{- end}}
{{- if .ActionURL}}
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 16px;"><tr>
<td style="background:{{.Brand.Color}};border-radius:6px;">
<a href="{{.ActionURL}}" style="display:inline-block;padding:12px 24px;color:{{.Brand.TextColor}};font-size:15px;font-weight:600;text-decoration:none;">{{.ActionLabel}}</a>
</td></tr></table>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#6b7280;">Or paste this link into your browser:<br><a href="{{.ActionURL}}" style="color:#374151;word-break:break-all;">{{.ActionURL}}</a></p>
{{- end}}
</td></tr>
<tr><td style="padding:16px 32px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.5;color:#6b7280;">
{{.Footer}}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`))

// renderHTML renders m under brand b, with footer (plain text) as its last line.
func renderHTML(b brand, footer string, m Message) (string, error) {
	var buf bytes.Buffer
	err := emailHTML.Execute(&buf, struct {
		Message
		Brand  brand
		Footer string
		// Note is the sanitized note, marked safe for the template.
		Note template.HTML
	}{m, b, footer, template.HTML(m.NoteHTML)}) // #nosec G203 -- NoteHTML comes from SanitizeNote
	if err != nil {
		return "", fmt.Errorf("notify: rendering %s: %w", m.Kind, err)
	}
	return buf.String(), nil
}

// renderText is the plain-text version: the same words, the note without
// its markup (links written out), and the button as a bare URL.
func renderText(footer string, m Message) string {
	var b strings.Builder
	b.WriteString(m.Heading)
	b.WriteString("\n\n")
	for _, p := range m.Paragraphs {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	if note := NoteText(m.NoteHTML); note != "" {
		for _, line := range strings.Split(note, "\n") {
			b.WriteString("> ")
			b.WriteString(line)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	if m.ActionURL != "" {
		b.WriteString(m.ActionLabel)
		b.WriteString(":\n")
		b.WriteString(m.ActionURL)
		b.WriteString("\n\n")
	}
	b.WriteString("-- \n")
	b.WriteString(footer)
	b.WriteString("\n")
	return b.String()
}

// NoteText turns a sanitized note into plain text: paragraphs and line
// breaks become new lines, list items get a "- ", a link's address follows
// its text in parentheses, and entities are decoded.
func NoteText(noteHTML string) string {
	if noteHTML == "" {
		return ""
	}
	var b strings.Builder
	var href string
	z := html.NewTokenizer(strings.NewReader(noteHTML))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			// Runs of white space in HTML text are one space.
			t := string(z.Text())
			if t != "" && isSpace(t[0]) {
				b.WriteByte(' ')
			}
			b.WriteString(strings.Join(strings.Fields(t), " "))
			if len(strings.Fields(t)) > 0 && isSpace(t[len(t)-1]) {
				b.WriteByte(' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "p", "blockquote", "ul", "ol":
				b.WriteString("\n\n")
			case "br":
				b.WriteString("\n")
			case "li":
				b.WriteString("\n- ")
			case "a":
				href = ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "blockquote", "ul", "ol":
				b.WriteString("\n\n")
			case "a":
				if href != "" {
					b.WriteString(" (" + strings.TrimPrefix(href, "mailto:") + ")")
					href = ""
				}
			}
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// tidyText trims each line, collapses runs of spaces, and collapses runs
// of blank lines into one.
func tidyText(s string) string {
	var out []string
	blank := true // drops leading blank lines
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// clip cuts s to at most n bytes without splitting a character, adding "…"
// when it cuts. Callers use it to keep subjects within the outbox's limit.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Subject returns a one-line subject of at most 300 bytes built from s:
// line breaks become spaces and an over-long subject is cut.
func Subject(s string) string {
	return clip(strings.Join(strings.Fields(s), " "), 300)
}
