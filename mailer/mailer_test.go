package mailer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
)

// The SMTP credentials of the test servers; the tests check that the
// password never shows in an error, a log line or last_error.
const (
	smtpUser     = "mailer"
	smtpPassword = "hunter2-S3CRET/pw"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// --- a real SMTP server -----------------------------------------------------

// received is one message a test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
}

// testServer is a go-smtp server on 127.0.0.1 that records what it accepts.
// reject, when set, decides per command ("rcpt" or "data") whether to refuse.
type testServer struct {
	addr string
	got  chan struct{} // one value per accepted message

	mu       sync.Mutex
	msgs     []received
	attempts int // RCPT commands seen
	reject   func(cmd string, n int) error
	dataSeen int
}

type serverOpts struct {
	starttls *tls.Config // offered with STARTTLS
	implicit *tls.Config // TLS from the first byte
	noAuth   bool        // accept mail without AUTH
}

func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{got: make(chan struct{}, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, conn: c, authed: o.noAuth}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected
	srv.AllowInsecureAuth = o.starttls == nil
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = o.starttls
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicit != nil {
		ln = tls.NewListener(ln, o.implicit)
	}
	ts.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ts
}

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

func (ts *testServer) rcptAttempts() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.attempts
}

func (ts *testServer) setReject(f func(cmd string, n int) error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.reject = f
}

// url is the server's smtp+insecure URL with the test credentials.
func (ts *testServer) url() string {
	return "smtp+insecure://" + url.UserPassword(smtpUser, smtpPassword).String() + "@" + ts.addr +
		"?from=" + url.QueryEscape("Tandem <no-reply@example.com>")
}

type session struct {
	ts     *testServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != smtpUser || pass != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	s.ts.attempts++
	reject, n := s.ts.reject, s.ts.attempts
	s.ts.mu.Unlock()
	if reject != nil {
		if err := reject("rcpt", n); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	s.ts.dataSeen++
	reject, n := s.ts.reject, s.ts.dataSeen
	s.ts.mu.Unlock()
	if reject != nil {
		if err := reject("data", n); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, received{from: s.from, to: s.to, data: data, tls: isTLS})
	s.ts.mu.Unlock()
	s.ts.got <- struct{}{}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// parsed is a received message taken apart.
type parsed struct {
	header     netmail.Header
	subject    string
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, data)
	}
	var p parsed
	p.header = m.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	media, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(media, "multipart/") {
		p.text = decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return p
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return p
		} else if err != nil {
			t.Fatal(err)
		}
		body := decodeBody(t, part.Header.Get("Content-Transfer-Encoding"), part)
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.text = body
		case "text/html":
			p.html = body
		}
	}
}

func decodeBody(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// --- the database and a fake clock ------------------------------------------

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func sys() context.Context { return rule.AsSystem(context.Background()) }

type msgOpts struct {
	to, subject, text, html, orgID string
	due                            time.Time
}

func queue(t *testing.T, c *ent.Client, o msgOpts) *ent.OutboxMessage {
	t.Helper()
	create := c.OutboxMessage.Create().SetKind("sign_in_link").SetToAddress(o.to).SetSubject(o.subject).
		SetTextBody(o.text).SetNextAttemptAt(o.due)
	if o.html != "" {
		create.SetHTMLBody(o.html)
	}
	if o.orgID != "" {
		create.SetOrgID(o.orgID)
	}
	m, err := create.Save(sys())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func reload(t *testing.T, c *ent.Client, id string) *ent.OutboxMessage {
	t.Helper()
	m, err := c.OutboxMessage.Get(sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func smtpSenderFor(t *testing.T, rawURL string) Sender {
	t.Helper()
	s, err := NewSMTPSender(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runOnce(t *testing.T, w *Worker, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if sent != wantSent || failed != wantFailed {
		t.Fatalf("RunOnce = %d sent, %d failed; want %d, %d", sent, failed, wantSent, wantFailed)
	}
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{smtpPassword, url.QueryEscape(smtpPassword), url.PathEscape(smtpPassword)} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the SMTP password: %s", what, s)
		}
	}
}

// --- the worker ---------------------------------------------------------------

func TestWorkerDeliversPendingMessagesOnceAndMarksThemSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ts := startServer(t, serverOpts{})
		clk := newClock()
		link := "http://localhost:8080/sign-in/link?token=abc-_XYZ0123456789"
		a := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Your Tandem sign-in link",
			text: "Hello,\n\nOpen this link to sign in to Tandem:\n\n" + link + "\n", due: t0.Add(-time.Minute)})
		h := queue(t, db.Client, msgOpts{to: "grace@example.com", subject: "Verify your email address",
			text: "Plain version", html: "<p>HTML <a href=\"" + link + "\">version</a></p>", due: t0})
		o := queue(t, db.Client, msgOpts{to: "alan@example.com", subject: "Org mail", text: "for an org",
			orgID: "org_01", due: t0.Add(-time.Hour)})

		w := &Worker{Client: db.Client, Sender: smtpSenderFor(t, ts.url()), Now: clk.Now}
		runOnce(t, w, 3, 0)

		byTo := map[string]parsed{}
		for _, r := range ts.messages() {
			if r.from != "no-reply@example.com" || len(r.to) != 1 {
				t.Errorf("envelope from %q to %v", r.from, r.to)
				continue
			}
			byTo[r.to[0]] = parse(t, r.data)
		}
		if len(byTo) != 3 || len(ts.messages()) != 3 {
			t.Fatalf("server got %d messages for %d recipients, want 3", len(ts.messages()), len(byTo))
		}
		if p := byTo["ada@example.com"]; p.subject != a.Subject || !strings.Contains(p.text, link) ||
			!strings.Contains(p.header.Get("From"), "Tandem") || p.header.Get("To") != "<ada@example.com>" {
			t.Errorf("sign-in email: subject %q, From %q, To %q, text %q", p.subject, p.header.Get("From"), p.header.Get("To"), p.text)
		}
		if p := byTo["grace@example.com"]; p.text != "Plain version" || !strings.Contains(p.html, link) {
			t.Errorf("HTML email: text %q, html %q", p.text, p.html)
		}
		for _, id := range []string{a.ID, h.ID, o.ID} {
			m := reload(t, db.Client, id)
			if m.Status != outboxmessage.StatusSent || m.SentAt == nil || !m.SentAt.Equal(t0) ||
				m.Attempts != 1 || m.LastError != "" {
				t.Errorf("%s: status %s, sent_at %v, attempts %d, last_error %q", id, m.Status, m.SentAt, m.Attempts, m.LastError)
			}
		}

		// Nothing is sent twice, now or after any lease would have run out.
		runOnce(t, w, 0, 0)
		clk.Advance(Lease + time.Hour)
		runOnce(t, w, 0, 0)
		if n := len(ts.messages()); n != 3 {
			t.Fatalf("server got %d messages after more runs, want still 3", n)
		}
	})
}

func TestWorkerSendsMessagesQueuedWithTheWallClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		// account queues with time.Now(), which carries a monotonic clock
		// reading and nanoseconds; the SQLite driver stores a time as its
		// String(), "… +0000 UTC m=+0.01", which no value read back equals.
		due := time.Now()
		m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Link", text: "x", due: due})
		rec := &recorder{}
		w := &Worker{Client: db.Client, Sender: rec, Now: func() time.Time { return due.Add(time.Second) }}
		runOnce(t, w, 1, 0)
		if got := reload(t, db.Client, m.ID); got.Status != outboxmessage.StatusSent {
			t.Fatalf("status %s", got.Status)
		}
	})
}

func TestWorkerRetriesWithBackoffAndGivesUpAfterMaxAttempts(t *testing.T) {
	for _, cmd := range []string{"rcpt", "data"} {
		t.Run(cmd, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, b storetest.Backend) {
				db := b.Open(t)
				ts := startServer(t, serverOpts{})
				ts.setReject(func(c string, _ int) error {
					if c != cmd {
						return nil
					}
					if c == "rcpt" {
						return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox busy, try later"}
					}
					return errors.New("disk full") // go-smtp answers 554 with this text
				})
				clk := newClock()
				var logs bytes.Buffer
				w := &Worker{Client: db.Client, Sender: smtpSenderFor(t, ts.url()), Now: clk.Now,
					Log: slog.New(slog.NewTextHandler(&logs, nil))}
				m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Link", text: "secret link", due: t0})
				wantErr := map[string]string{"rcpt": "mailbox busy, try later", "data": "disk full"}[cmd]

				delays := []time.Duration{1, 2, 4, 8, 16, 32, 60} // minutes, capped at an hour
				for i, d := range delays {
					attempt := i + 1
					runOnce(t, w, 0, 1)
					got := reload(t, db.Client, m.ID)
					next := clk.Now().Add(d * time.Minute)
					if got.Status != outboxmessage.StatusPending || got.Attempts != attempt || !got.NextAttemptAt.Equal(next) {
						t.Fatalf("after attempt %d: status %s, attempts %d, next_attempt_at %v; want pending, %d, %v",
							attempt, got.Status, got.Attempts, got.NextAttemptAt, attempt, next)
					}
					if !strings.Contains(got.LastError, wantErr) || strings.Contains(got.LastError, "secret link") {
						t.Fatalf("after attempt %d: last_error %q", attempt, got.LastError)
					}
					noSecret(t, "last_error", got.LastError)

					// Not due yet: nothing happens, not even a connection.
					clk.Set(next.Add(-time.Second))
					runOnce(t, w, 0, 0)
					if n := ts.rcptAttempts(); n != attempt {
						t.Fatalf("server saw %d attempts before the retry was due, want %d", n, attempt)
					}
					clk.Set(next)
				}

				runOnce(t, w, 0, 1)
				got := reload(t, db.Client, m.ID)
				if got.Status != outboxmessage.StatusFailed || got.Attempts != DefaultMaxAttempts ||
					!strings.Contains(got.LastError, wantErr) || got.SentAt != nil {
					t.Fatalf("after the last attempt: status %s, attempts %d, last_error %q, sent_at %v",
						got.Status, got.Attempts, got.LastError, got.SentAt)
				}
				clk.Advance(24 * time.Hour)
				runOnce(t, w, 0, 0)
				if n, delivered := ts.rcptAttempts(), len(ts.messages()); n != DefaultMaxAttempts || delivered != 0 {
					t.Fatalf("server saw %d attempts and accepted %d messages; want %d and 0", n, delivered, DefaultMaxAttempts)
				}
				noSecret(t, "the log", logs.String())
				if strings.Contains(logs.String(), "secret link") {
					t.Errorf("the log holds the message body:\n%s", logs.String())
				}
			})
		})
	}
}

func TestWorkerDeliversAfterTheServerRecovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ts := startServer(t, serverOpts{})
		ts.setReject(func(cmd string, n int) error {
			if cmd == "data" && n <= 2 {
				return errors.New("temporary trouble")
			}
			return nil
		})
		clk := newClock()
		w := &Worker{Client: db.Client, Sender: smtpSenderFor(t, ts.url()), Now: clk.Now}
		m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Link", text: "hi", due: t0})
		runOnce(t, w, 0, 1)
		clk.Advance(time.Minute)
		runOnce(t, w, 0, 1)
		clk.Advance(2 * time.Minute)
		runOnce(t, w, 1, 0)
		got := reload(t, db.Client, m.ID)
		if got.Status != outboxmessage.StatusSent || got.Attempts != 3 || !got.SentAt.Equal(clk.Now()) {
			t.Fatalf("status %s, attempts %d, sent_at %v", got.Status, got.Attempts, got.SentAt)
		}
		// The last failure stays on record: sent after 3 attempts, and why.
		if !strings.Contains(got.LastError, "temporary trouble") {
			t.Errorf("last_error %q", got.LastError)
		}
		if n := len(ts.messages()); n != 1 {
			t.Fatalf("server accepted %d messages, want 1", n)
		}
	})
}

func TestWorkerSendsOnlyDueMessagesOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		clk := newClock()
		rec := &recorder{}
		w := &Worker{Client: db.Client, Sender: rec, Now: clk.Now, Batch: 2}
		for i, due := range []time.Duration{-time.Minute, -3 * time.Minute, -2 * time.Minute, 10 * time.Minute, 2 * time.Hour} {
			queue(t, db.Client, msgOpts{to: fmt.Sprintf("u%d@example.com", i), subject: fmt.Sprintf("due %v", due), text: "x", due: t0.Add(due)})
		}
		runOnce(t, w, 2, 0) // a batch of 2 of the 3 due, oldest first
		runOnce(t, w, 1, 0)
		runOnce(t, w, 0, 0) // the other two are not due
		clk.Advance(10 * time.Minute)
		runOnce(t, w, 1, 0)
		clk.Advance(time.Hour)
		runOnce(t, w, 0, 0)
		clk.Set(t0.Add(2 * time.Hour))
		runOnce(t, w, 1, 0)
		want := []string{"due -3m0s", "due -2m0s", "due -1m0s", "due 10m0s", "due 2h0m0s"}
		if got := rec.subjects(); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("sent %v, want %v", got, want)
		}
	})
}

func TestWorkersRacingDeliverEachMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		// Two connection pools on one database, as two server instances
		// would have.
		u := b.URL(t)
		dbs := []*store.DB{storetest.OpenURL(t, u), storetest.OpenURL(t, u)}
		ts := startServer(t, serverOpts{})
		clk := newClock()
		const rounds, perRound = 3, 25
		total := 0
		for round := range rounds {
			for i := range perRound {
				queue(t, dbs[0].Client, msgOpts{to: fmt.Sprintf("u%d@example.com", i),
					subject: fmt.Sprintf("round %d message %02d", round, i), text: "x", due: clk.Now()})
			}
			total += perRound
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				sent  = make([]int, 4)
				errs  = make([]error, 4)
			)
			for i := range sent {
				w := &Worker{Client: dbs[i%2].Client, Sender: smtpSenderFor(t, ts.url()), Now: clk.Now, Batch: 100}
				wg.Go(func() {
					<-start
					sent[i], _, errs[i] = w.RunOnce(context.Background())
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if n := sent[0] + sent[1] + sent[2] + sent[3]; n != perRound {
				t.Fatalf("round %d: workers report %v sent, %d in all; want %d", round, sent, n, perRound)
			}
			t.Logf("round %d: workers sent %v", round, sent)
			clk.Advance(time.Second)
		}
		count := map[string]int{}
		for _, r := range ts.messages() {
			count[parse(t, r.data).subject]++
		}
		if len(count) != total || len(ts.messages()) != total {
			t.Fatalf("server got %d messages with %d subjects, want %d of each", len(ts.messages()), len(count), total)
		}
		for s, n := range count {
			if n != 1 {
				t.Errorf("%q delivered %d times", s, n)
			}
		}
		n, err := dbs[1].Client.OutboxMessage.Query().Where(outboxmessage.StatusEQ(outboxmessage.StatusSent), outboxmessage.Attempts(1)).Count(sys())
		if err != nil || n != total {
			t.Fatalf("%d messages sent on the first attempt (%v), want %d", n, err, total)
		}
	})
}

// recorder is a Sender that keeps what it is given, and runs during while
// sending, if set.
type recorder struct {
	mu     sync.Mutex
	msgs   []Message
	during func(ctx context.Context) error
}

func (r *recorder) Send(ctx context.Context, m Message) error {
	if r.during != nil {
		if err := r.during(ctx); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, m := range r.msgs {
		s = append(s, m.Subject)
	}
	return s
}

func TestClaimedMessageIsLeasedToItsWorker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		clk := newClock()
		// The second worker's clock is just short of the lease's end.
		other := &Worker{Client: db.Client, Sender: &recorder{}, Now: func() time.Time { return clk.Now().Add(Lease - time.Second) }}
		var otherSent, otherFailed int
		var otherErr error
		rec := &recorder{during: func(context.Context) error {
			// While this worker is sending, the message is leased: a
			// second worker does not touch it.
			otherSent, otherFailed, otherErr = other.RunOnce(context.Background())
			return nil
		}}
		w := &Worker{Client: db.Client, Sender: rec, Now: clk.Now}
		m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Link", text: "x", due: t0})
		runOnce(t, w, 1, 0)
		if otherErr != nil || otherSent != 0 || otherFailed != 0 {
			t.Fatalf("second worker during the send: %d sent, %d failed, %v", otherSent, otherFailed, otherErr)
		}
		if got := reload(t, db.Client, m.ID); got.Status != outboxmessage.StatusSent {
			t.Fatalf("status %s", got.Status)
		}
	})
}

func TestAbandonedClaimIsRetriedWhenTheLeaseEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		clk := newClock()
		rec := &recorder{}
		w := &Worker{Client: db.Client, Sender: rec, Now: clk.Now, MaxAttempts: 3}
		// As a worker leaves them when it dies between claiming and
		// recording: attempt counted, next_attempt_at a lease away.
		crashed := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "crashed once", text: "x", due: t0.Add(Lease)})
		exhausted := queue(t, db.Client, msgOpts{to: "bob@example.com", subject: "crashed thrice", text: "x", due: t0.Add(Lease)})
		if err := db.Client.OutboxMessage.UpdateOneID(crashed.ID).SetAttempts(1).Exec(sys()); err != nil {
			t.Fatal(err)
		}
		if err := db.Client.OutboxMessage.UpdateOneID(exhausted.ID).SetAttempts(3).Exec(sys()); err != nil {
			t.Fatal(err)
		}
		runOnce(t, w, 0, 0)
		clk.Advance(Lease)
		runOnce(t, w, 1, 1)
		if got := reload(t, db.Client, crashed.ID); got.Status != outboxmessage.StatusSent || got.Attempts != 2 {
			t.Errorf("crashed once: status %s, attempts %d", got.Status, got.Attempts)
		}
		if got := reload(t, db.Client, exhausted.ID); got.Status != outboxmessage.StatusFailed || got.Attempts != 4 ||
			!strings.Contains(got.LastError, "did not finish") {
			t.Errorf("crashed thrice: status %s, attempts %d, last_error %q", got.Status, got.Attempts, got.LastError)
		}
		if s := rec.subjects(); len(s) != 1 || s[0] != "crashed once" {
			t.Errorf("sent %v", s)
		}
	})
}

func TestShutdownMidSendLeavesTheMessageDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		clk := newClock()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &recorder{during: func(sendCtx context.Context) error {
			cancel() // SIGTERM arrives while the mail server is talking
			<-sendCtx.Done()
			return sendCtx.Err()
		}}
		w := &Worker{Client: db.Client, Sender: rec, Now: clk.Now}
		m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Link", text: "x", due: t0})
		queue(t, db.Client, msgOpts{to: "bob@example.com", subject: "Link", text: "x", due: t0})
		sent, failed, err := w.RunOnce(ctx)
		if sent != 0 || failed != 1 || !errors.Is(err, context.Canceled) {
			t.Fatalf("RunOnce = %d, %d, %v; want 0, 1, context.Canceled", sent, failed, err)
		}
		got := reload(t, db.Client, m.ID)
		if got.Status != outboxmessage.StatusPending || !got.NextAttemptAt.Equal(t0) || got.Attempts != 1 ||
			!strings.Contains(got.LastError, "interrupted") {
			t.Fatalf("status %s, next_attempt_at %v, attempts %d, last_error %q", got.Status, got.NextAttemptAt, got.Attempts, got.LastError)
		}
		rec.during = nil
		runOnce(t, w, 2, 0)
	})
}

func TestRunDeliversUntilCancelled(t *testing.T) {
	db := storetest.SQLite(t)
	ts := startServer(t, serverOpts{})
	clk := newClock()
	w := &Worker{Client: db.Client, Sender: smtpSenderFor(t, ts.url()), Now: clk.Now, Batch: 2}
	for i := range 5 {
		queue(t, db.Client, msgOpts{to: "ada@example.com", subject: fmt.Sprintf("m%d", i), text: "x", due: t0})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, time.Hour) }()
	// A full batch is followed by the next at once, so all five arrive
	// long before the hour-long interval would allow a second run.
	for i := range 5 {
		select {
		case <-ts.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 5 messages arrived", i)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// --- the log sender -------------------------------------------------------------

func TestLogSenderPrintsTheEmailAndItsLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		var buf bytes.Buffer
		// Through the scrubber, as the server logs: the link must survive it.
		logger := slog.New(credential.ScrubbingHandler(slog.NewTextHandler(&buf, nil)))
		link := "http://localhost:8080/sign-in/link?token=Zm9vYmFy-_0123456789abcdefABCDEF"
		m := queue(t, db.Client, msgOpts{to: "ada@example.com", subject: "Your Tandem sign-in link",
			text: "Hello,\n\nOpen this link to sign in to Tandem:\n\n" + link + "\n\nThe link works once.", due: t0})
		w := &Worker{Client: db.Client, Sender: LogSender{Log: logger}, Now: newClock().Now}
		runOnce(t, w, 1, 0)
		out := buf.String()
		for _, want := range []string{"Your Tandem sign-in link", "ada@example.com", "links=\"" + link + "\"", "The link works once."} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if got := reload(t, db.Client, m.ID); got.Status != outboxmessage.StatusSent || got.SentAt == nil {
			t.Errorf("status %s, sent_at %v", got.Status, got.SentAt)
		}
	})
}

// --- the SMTP sender ------------------------------------------------------------

func TestNewSMTPSenderRefusesBadURLsWithoutEchoingThePassword(t *testing.T) {
	const pw = "hunter2-S3CRET"
	for _, c := range []struct{ url, want string }{
		{"", "unsupported scheme"},
		{"http://u:" + pw + "@mail.example.com", `unsupported scheme "http"`},
		{"mail.example.com:587", "unsupported scheme"},
		{"smtp:u:" + pw + "@mail.example.com", `no "//"`},
		{"smtp://u:" + pw + "@:587", "no host"},
		{"smtp://u:" + pw + "@mail.example.com:99999", "port"},
		{"smtp://u:" + pw + "@mail.example.com:0", "port"},
		{"smtp://u:" + pw + "@mail.example.com:abc", "not a valid URL"},
		{"smtp://u:" + pw + "@mail.example.com/inbox", "unexpected path"},
		{"smtp://u:" + pw + "@mail.example.com#x", "unexpected fragment"},
		{"smtp://u:" + pw + "@mail.example.com?frm=a@example.com", `unknown query parameter: only "from" is accepted: "frm"`},
		{"smtp://u:" + pw + "@mail.example.com?from=nobody", "from is not an email address"},
		{"smtp://u:" + pw + "@mail.example.com?from=a@example.com&from=b@example.com", "more than once"},
		{"smtp://u:" + pw + "@mail.example.com?from=%zz", "query is not valid"},
		{"smtp://:" + pw + "@mail.example.com", "a password without a user name"},
		{"smtp://u:" + pw + "%zz@mail.example.com", "percent-encode"},
		{"smtps://u:" + pw + "@mail example.com", "not a valid URL"},
		// Unescaped '/', '#' or '?' in the password: the parser splits it
		// into host, port, path or fragment, where Redacted would show it.
		{"smtp://u:1234/" + pw + "@mail.example.com", "unexpected path"},
		{"smtp://u:" + pw + "#x@mail.example.com", "not a valid URL"},
		{"smtp://u:1234#" + pw + "@mail.example.com", "unexpected fragment"},
		{"smtp://u:1234?" + pw + "@mail.example.com", "unknown query parameter"},
	} {
		_, err := NewSMTPSender(c.url)
		if err == nil {
			t.Errorf("NewSMTPSender(%q) = nil error", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSMTPSender(%q) = %q, want it to say %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("NewSMTPSender(%q) = %q, which holds the password", c.url, err)
		}
	}
}

func TestNewSMTPSenderAcceptsTheThreeSchemes(t *testing.T) {
	for _, c := range []struct {
		url, redacted, host, from string
		port                      int
		implicit, insecure        bool
	}{
		{"smtp://apikey:p%40ss@smtp.example.com", "smtp://apikey:xxxxx@smtp.example.com",
			"smtp.example.com", DefaultFrom, 587, false, false},
		{"smtps://apikey:pass@smtp.example.com?from=Tandem+%3Cno-reply%40example.com%3E",
			"smtps://apikey:xxxxx@smtp.example.com?from=Tandem+%3Cno-reply%40example.com%3E",
			"smtp.example.com", `"Tandem" <no-reply@example.com>`, 465, true, false},
		{"smtp+insecure://localhost:1025?from=dev@example.com", "smtp+insecure://localhost:1025?from=dev@example.com",
			"localhost", "<dev@example.com>", 1025, false, true},
		{"smtp://[::1]:2525/", "smtp://[::1]:2525/", "::1", DefaultFrom, 2525, false, false},
	} {
		s, err := NewSMTPSender(c.url)
		if err != nil {
			t.Errorf("NewSMTPSender(%q): %v", c.url, err)
			continue
		}
		got := s.(*smtpSender)
		if fmt.Sprint(s) != c.redacted || got.host != c.host || got.port != c.port || got.from != c.from ||
			got.implicit != c.implicit || got.insecure != c.insecure {
			t.Errorf("NewSMTPSender(%q) = %s host %q port %d from %q implicit %v insecure %v",
				c.url, s, got.host, got.port, got.from, got.implicit, got.insecure)
		}
	}
	if from := DefaultFrom; from != "Tandem <no-reply@localhost>" {
		t.Errorf("DefaultFrom = %q", from)
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailer test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestSMTPSenderUsesTLS(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	creds := url.UserPassword(smtpUser, smtpPassword).String()
	for _, c := range []struct {
		name   string
		opts   serverOpts
		scheme string
	}{
		{"STARTTLS", serverOpts{starttls: serverTLS}, "smtp"},
		{"implicit", serverOpts{implicit: serverTLS}, "smtps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, c.opts)
			s := smtpSenderFor(t, c.scheme+"://"+creds+"@"+ts.addr)

			// An untrusted certificate is refused, and the error says so
			// without the password.
			err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "hi", Text: "x"})
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("Send to a server with an unknown certificate: %v", err)
			}
			noSecret(t, "the error", err.Error())

			s.(*smtpSender).tlsConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
			if err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "hi", Text: "x"}); err != nil {
				t.Fatal(err)
			}
			msgs := ts.messages()
			if len(msgs) != 1 || !msgs[0].tls || msgs[0].from != "no-reply@localhost" {
				t.Fatalf("server got %+v", msgs)
			}
		})
	}
}

func TestSMTPSenderErrorsNeverHoldThePassword(t *testing.T) {
	ts := startServer(t, serverOpts{})
	wrong := "wrong-" + smtpPassword
	s := smtpSenderFor(t, "smtp+insecure://"+url.UserPassword(smtpUser, wrong).String()+"@"+ts.addr)
	err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), ts.addr) {
		t.Fatalf("Send with a wrong password: %v", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("error holds the password: %v", err)
	}

	// A server that does not answer: the error names the address, not the
	// URL's credentials.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s = smtpSenderFor(t, "smtp://"+url.UserPassword(smtpUser, smtpPassword).String()+"@"+addr)
	err = s.Send(context.Background(), Message{To: "ada@example.com", Subject: "hi", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Send to a closed port: %v", err)
	}
	noSecret(t, "the error", err.Error())
}

// --- small pieces ---------------------------------------------------------------

func TestBackoffDoublesFromAMinuteUpToAnHour(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000); got != time.Hour {
		t.Errorf("backoff(1000) = %v", got)
	}
}

func TestErrorTextFitsTheColumnAndHidesCredentials(t *testing.T) {
	long := errors.New("Bearer abcdef123456 " + strings.Repeat("é", 2000))
	s := errorText(long)
	if len(s) > maxErrorLen || !utf8.ValidString(s) || strings.Contains(s, "abcdef123456") {
		t.Fatalf("errorText: %d bytes, valid %v: %.60q", len(s), utf8.ValidString(s), s)
	}
	if got := errorText(errors.New("line one\r\n  line two")); got != "line one line two" {
		t.Errorf("errorText joins lines: %q", got)
	}
}
