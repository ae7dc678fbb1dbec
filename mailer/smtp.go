package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// DefaultFrom is the From address when the SMTP URL names none. Most mail
// providers refuse or junk mail from a domain the account does not own, so a
// real deployment sets ?from=.
const DefaultFrom = "Tandem <no-reply@localhost>"

// dialTimeout bounds connecting and each SMTP exchange, so a mail server that
// accepts the TCP connection and then says nothing cannot hold a worker.
const dialTimeout = 30 * time.Second

// smtpSender sends each message over a new SMTP connection. Outbox traffic is
// a handful of emails a minute, so a connection per message costs little and
// spares us from detecting and recovering a pooled connection the server
// closed while idle.
type smtpSender struct {
	host      string
	port      int
	implicit  bool // smtps: TLS from the first byte
	insecure  bool // smtp+insecure: never TLS
	user      string
	password  string
	from      string
	redacted  string      // the URL without its password, for errors and String
	tlsConfig *tls.Config // nil: system roots; tests set their own CA
}

// NewSMTPSender returns a Sender that delivers through the SMTP server at
// rawURL:
//
//	smtp://USER:PASS@HOST:587          submission; STARTTLS when the server offers it (default port 587)
//	smtps://USER:PASS@HOST:465         implicit TLS (default port 465)
//	smtp+insecure://HOST:PORT          no TLS at all, for a local test server (MailHog, Mailpit) only (default port 25)
//
// Credentials are optional and must be percent-encoded. The From address is
// the "from" query parameter (smtp://…:587?from=Tandem%20%3Cno-reply%40example.com%3E),
// DefaultFrom when absent; no other parameter is accepted, so a typo fails at
// start-up instead of being ignored.
//
// When an smtp:// server does not offer STARTTLS the message goes out
// unencrypted, but the password does not: go-mail then authenticates only
// with challenge-response mechanisms (CRAM-MD5, SCRAM), never PLAIN or LOGIN.
// smtp+insecure:// sends PLAIN over the open connection, which is why it is
// for local servers only.
//
// Errors, from here and from Send, never contain the password: they name the
// URL with the password replaced by "xxxxx". The returned Sender's String
// method gives the same redacted URL, for a start-up log line.
func NewSMTPSender(rawURL string) (Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, unparsable(rawURL, err)
	}
	s := &smtpSender{from: DefaultFrom}
	switch u.Scheme {
	case "smtp":
		s.port = mail.DefaultPortTLS
	case "smtps":
		s.port, s.implicit = mail.DefaultPortSSL, true
	case "smtp+insecure":
		s.port, s.insecure = mail.DefaultPort, true
	default:
		return nil, fmt.Errorf("mailer: SMTP URL: unsupported scheme %q: use smtp://USER:PASS@HOST:587, smtps://USER:PASS@HOST:465 or, for a local test server, smtp+insecure://HOST:PORT", u.Scheme)
	}
	if u.Opaque != "" {
		// "smtp:user:pass@host": the parser keeps all of it, password
		// included, as opaque text, so the URL cannot be shown redacted.
		return nil, fmt.Errorf("mailer: SMTP URL: no \"//\" after %q: write %s://USER:PASS@HOST:PORT", u.Scheme+":", u.Scheme)
	}
	s.redacted = u.Redacted()
	// An '@' the parser did not take as the end of the credentials means a
	// password with an unescaped '/', '?' or '#' was split into host, port,
	// path or query, where Redacted does not hide it. Then errors name no
	// part of the URL.
	quotable := u.User != nil || !strings.Contains(rawURL, "@")
	bad := func(reason, detail string) error {
		if !quotable {
			return fmt.Errorf("mailer: SMTP URL: %s (percent-encode special characters in the user name and password)", reason)
		}
		if detail != "" {
			reason += ": " + detail
		}
		return fmt.Errorf("mailer: SMTP URL %s: %s", s.redacted, reason)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, bad("no host", "")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("the port is not between 1 and 65535", strconv.Quote(p))
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad("unexpected path: an SMTP URL has none", strconv.Quote(u.Path))
	}
	if u.Fragment != "" {
		return nil, bad("unexpected fragment", "")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
		if s.user == "" && s.password != "" {
			return nil, bad("a password without a user name", "")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("the query is not valid", err.Error())
	}
	for k, v := range q {
		if k != "from" {
			return nil, bad("unknown query parameter: only \"from\" is accepted", strconv.Quote(k))
		}
		if len(v) != 1 {
			return nil, bad("\"from\" is given more than once", "")
		}
		addr, err := netmail.ParseAddress(v[0])
		if err != nil {
			return nil, bad("from is not an email address (want \"Name <address@example.com>\" or \"address@example.com\")",
				fmt.Sprintf("%q: %v", v[0], err))
		}
		s.from = addr.String()
	}
	return s, nil
}

// unparsable reports a URL that url.Parse refused without repeating it: the
// parser's message quotes the URL or a piece of it, and when the URL has
// credentials that piece may be part of the password (an unescaped '#' or
// '/' in it moves where the parser thinks the host starts). So the parser's
// reason is only passed on for a URL without an '@'.
func unparsable(rawURL string, err error) error {
	const hint = "percent-encode special characters in the user name and password"
	if strings.Contains(rawURL, "@") {
		return errors.New("mailer: the SMTP URL is not a valid URL; " + hint)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("mailer: the SMTP URL is not a valid URL: %v", err)
}

// String returns the URL without its password.
func (s *smtpSender) String() string { return s.redacted }

// Send delivers m over a new connection, within ctx's deadline.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mailer: from %q: %v", s.from, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mailer: recipient %q: %v", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	c, err := mail.NewClient(s.host, s.options()...)
	if err != nil {
		return s.scrub(ctx, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return s.scrub(ctx, err)
	}
	return nil
}

func (s *smtpSender) options() []mail.Option {
	tlsConfig := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if s.tlsConfig != nil {
		tlsConfig = s.tlsConfig.Clone()
		tlsConfig.ServerName = s.host
	}
	// The port and TLS mode are set explicitly: go-mail's *PortPolicy and
	// WithSSLPort helpers add a fallback to port 25, which would quietly
	// send elsewhere than the URL says.
	opts := []mail.Option{mail.WithTimeout(dialTimeout), mail.WithTLSConfig(tlsConfig), mail.WithPort(s.port)}
	switch {
	case s.implicit:
		opts = append(opts, mail.WithSSL())
	case s.insecure:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if s.user != "" {
		auth := mail.SMTPAuthAutoDiscover
		if s.insecure {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.user), mail.WithPassword(s.password))
	}
	return opts
}

// scrub turns a go-mail error into one that names the server without the
// password and cannot be unwrapped into the original (whose text a server's
// reply could in principle fill with anything). A cancelled or expired ctx
// stays detectable with errors.Is.
func (s *smtpSender) scrub(ctx context.Context, err error) error {
	msg := err.Error()
	if s.password != "" {
		msg = strings.ReplaceAll(msg, s.password, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(s.password), "xxxxx")
	}
	msg = "smtp " + net.JoinHostPort(s.host, strconv.Itoa(s.port)) + ": " + msg
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", msg, cerr)
	}
	return errors.New(msg)
}
