// Package mailer delivers the emails queued in the outbox (OutboxMessage).
//
// Code that causes an email (a sign-in link, an address to verify) writes an
// OutboxMessage row in the same transaction as the action itself, so an email
// exists if and only if the action happened. This package is the other half:
// a Worker reads due rows, hands each to a Sender and records the outcome, with
// retries, so a flaky mail server delays an email instead of losing it, and
// several server instances can run a Worker against one database without
// sending anything twice.
//
// Two senders exist: NewSMTPSender for real delivery, and LogSender for
// development, where no mail server is configured and the developer reads the
// email (and clicks its link) in the server log.
package mailer

import (
	"context"
	"log/slog"
	"strings"
)

// Message is one email as a Sender sees it: a single recipient, a subject, a
// plain-text body and, optionally, an HTML alternative. It is deliberately
// smaller than an OutboxMessage so that senders need not know the database.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string // empty: plain text only
}

// Sender delivers one message. An error means the message may not have been
// delivered and the Worker will try again later, so an error must not carry
// secrets: it is stored in the outbox row and written to the log.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// LogSender "sends" by writing the email to a log. It is what a server uses
// when no SMTP server is configured, so that a developer can still sign in:
// the sign-in link appears in the log. The Worker marks such messages sent,
// so they stay in the outbox as a record and are not mailed later if SMTP is
// configured afterwards (by then their links have usually expired anyway).
//
// The log line holds the whole body, sign-in links included, which are
// credentials: a production server should configure SMTP instead.
type LogSender struct {
	Log *slog.Logger // nil: slog.Default()
}

// Send writes m to the log: recipient, subject, text body, and the links the
// body contains as an attribute of their own, so they can be copied without
// unescaping the quoted body.
func (s LogSender) Send(ctx context.Context, m Message) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "email not sent: no SMTP server is configured, so it is printed here instead",
		"to", m.To, "subject", m.Subject, "links", strings.Join(links(m.Text), " "), "text", m.Text)
	return nil
}

// links returns the http(s) URLs in text, in order.
func links(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			out = append(out, strings.TrimRight(f, ".,;:!?)>\"'"))
		}
	}
	return out
}
