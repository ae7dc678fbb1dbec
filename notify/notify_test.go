package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/notify"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

func TestSanitizeNote(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the output
		gone     []string // substrings that must not survive
	}{
		{
			name: "formatting kept",
			in:   `<p>Hello <strong>Ada</strong>, <em>welcome</em>!</p><ul><li>one</li></ul><blockquote>q</blockquote><br>`,
			want: []string{"<p>Hello <strong>Ada</strong>, <em>welcome</em>!</p>", "<ul><li>one</li></ul>", "<blockquote>q</blockquote>", "<br>"},
		},
		{
			name: "script and its content removed",
			in:   `<p>Hi</p><script>alert(1)</script>`,
			want: []string{"<p>Hi</p>"},
			gone: []string{"script", "alert"},
		},
		{
			name: "style element and attribute removed",
			in:   `<style>p{display:none}</style><p style="color:red" onclick="steal()">Hi</p>`,
			want: []string{"<p>Hi</p>"},
			gone: []string{"style", "display", "color", "onclick", "steal"},
		},
		{
			name: "https link gets rel and target",
			in:   `<a href="https://example.com/deal">deal</a>`,
			want: []string{`href="https://example.com/deal"`, `rel="nofollow noopener"`, `target="_blank"`, ">deal</a>"},
		},
		{
			name: "mailto link kept with nofollow",
			in:   `<a href="mailto:team@example.com">mail us</a>`,
			want: []string{`href="mailto:team@example.com"`, `rel="nofollow"`},
		},
		{
			name: "javascript and http links lose the link, keep the text",
			in:   `<a href="javascript:alert(1)">x</a> <a href="http://example.com">y</a>`,
			gone: []string{"href", "javascript", "<a"},
			want: []string{"x", "y"},
		},
		{
			name: "images, iframes and forms removed",
			in:   `<p>a<img src="https://t.example/p.gif"><iframe src="https://x"></iframe><form><input></form></p>`,
			want: []string{"<p>a</p>"},
			gone: []string{"img", "iframe", "form", "input"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := notify.SanitizeNote(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
			for _, g := range tc.gone {
				if strings.Contains(got, g) {
					t.Errorf("got %q, want no %q", got, g)
				}
			}
		})
	}
}

func TestSanitizeNoteLimits(t *testing.T) {
	if got, err := notify.SanitizeNote("<p> </p><script>x</script>"); err != nil || got != "" {
		t.Errorf("invisible note: got %q, %v; want empty", got, err)
	}
	if _, err := notify.SanitizeNote(strings.Repeat("é", notify.MaxNoteLen)); err != nil {
		t.Errorf("note of exactly %d characters: %v", notify.MaxNoteLen, err)
	}
	_, err := notify.SanitizeNote(strings.Repeat("a", notify.MaxNoteLen+1))
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind != fault.KindInvalid || f.Field != "personalNoteHtml" {
		t.Fatalf("too long: got %v, want an invalid personalNoteHtml", err)
	}
}

func TestNoteText(t *testing.T) {
	got := notify.NoteText(`<p>Hi <b>Ada</b>,</p><p>see <a href="https://example.com">our page</a></p><ul><li>one</li><li>two</li></ul>`)
	want := "Hi Ada,\n\nsee our page (https://example.com)\n\n- one\n- two"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTextOn(t *testing.T) {
	for bg, want := range map[string]string{"#4f46e5": "#ffffff", "#000000": "#ffffff", "#ffffff": "#111827", "#facc15": "#111827", "junk": "#ffffff"} {
		if got := notify.TextOn(bg); got != want {
			t.Errorf("TextOn(%s) = %s, want %s", bg, got, want)
		}
	}
}

func TestQueue(t *testing.T) {
	client := storetest.SQLite(t).Client
	sys := rule.AsSystem(context.Background())
	res, err := provision.CreateOrg(sys, client, provision.OrgInput{Name: "Acme <Shop>", Slug: "acme", OwnerEmail: "o@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	org := client.Organization.UpdateOneID(res.OrgID).SetBrandColor("#FF6600").SetLogoURL("https://cdn.acme.test/logo.png").SaveX(sys)
	note, err := notify.SanitizeNote(`<p>Welcome <strong>aboard</strong><script>x()</script></p>`)
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer.Viewer{OrgID: org.ID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser}
	ctx := viewer.NewContext(context.Background(), v)
	err = notify.Queue(ctx, client, org, "ada@example.com", notify.Message{
		Kind: "affiliate_invite", Subject: "Join us", Heading: "Hello <Ada>",
		Paragraphs: []string{"Tom & Jerry's <b>deal</b>"}, NoteHTML: note,
		ActionLabel: "Open", ActionURL: "https://tandem.test/a/welcome?token=abc&x=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := client.OutboxMessage.Query().OnlyX(sys)
	if msg.OrgID != org.ID || msg.ToAddress != "ada@example.com" || msg.Kind != "affiliate_invite" || msg.Subject != "Join us" || msg.Status != "pending" {
		t.Fatalf("outbox row %+v", msg)
	}
	for _, want := range []string{
		"Acme &lt;Shop&gt;", // org name, escaped
		"#ff6600",           // brand colour
		`src="https://cdn.acme.test/logo.png"`,
		"Hello &lt;Ada&gt;", // heading escaped
		"Tom &amp; Jerry&#39;s &lt;b&gt;deal&lt;/b&gt;", // paragraphs escaped
		"<strong>aboard</strong>",                       // the sanitized note as it is
		`href="https://tandem.test/a/welcome?token=abc&amp;x=1"`,
	} {
		if !strings.Contains(msg.HTMLBody, want) {
			t.Errorf("HTML body lacks %q:\n%s", want, msg.HTMLBody)
		}
	}
	if strings.Contains(msg.HTMLBody, "<script") || strings.Contains(msg.HTMLBody, "x()") {
		t.Errorf("HTML body has the script")
	}
	for _, want := range []string{"Hello <Ada>", "Tom & Jerry's <b>deal</b>", "> Welcome aboard", "Open:\nhttps://tandem.test/a/welcome?token=abc&x=1", "Acme <Shop>"} {
		if !strings.Contains(msg.TextBody, want) {
			t.Errorf("text body lacks %q:\n%s", want, msg.TextBody)
		}
	}

	// A non-https logo is left out rather than loaded over http.
	org = client.Organization.UpdateOneID(org.ID).SetLogoURL("http://cdn.acme.test/logo.png").SaveX(sys)
	if err := notify.Queue(ctx, client, org, "bob@example.com", notify.Message{Kind: "k", Subject: "s", Heading: "h"}); err != nil {
		t.Fatal(err)
	}
	if m := client.OutboxMessage.Query().Where().AllX(sys); len(m) != 2 || strings.Contains(m[1].HTMLBody, "<img") {
		t.Errorf("http logo: got %d rows, second has an img: %v", len(m), len(m) == 2 && strings.Contains(m[1].HTMLBody, "<img"))
	}
}

func TestQueueRefusesBadMessages(t *testing.T) {
	client := storetest.SQLite(t).Client
	org := &ent.Organization{ID: "org_x", Name: "X", BrandColor: "#000000"}
	ctx := context.Background()
	for name, m := range map[string]notify.Message{
		"no kind":           {Subject: "s"},
		"no subject":        {Kind: "k"},
		"two-line subject":  {Kind: "k", Subject: "a\nb"},
		"label without url": {Kind: "k", Subject: "s", ActionLabel: "Go"},
		"javascript url":    {Kind: "k", Subject: "s", ActionLabel: "Go", ActionURL: "javascript:alert(1)"},
		"relative url":      {Kind: "k", Subject: "s", ActionLabel: "Go", ActionURL: "/a/welcome"},
	} {
		if err := notify.Queue(ctx, client, org, "a@example.com", m); err == nil {
			t.Errorf("%s: queued, want an error", name)
		}
	}
	if err := notify.Queue(ctx, client, org, "", notify.Message{Kind: "k", Subject: "s"}); err == nil {
		t.Error("no recipient: queued, want an error")
	}
}

func TestSubject(t *testing.T) {
	if got := notify.Subject("a\r\n b"); got != "a b" {
		t.Errorf("got %q", got)
	}
	long := notify.Subject(strings.Repeat("é", 400))
	if len(long) > 300 || !strings.HasSuffix(long, "…") {
		t.Errorf("long subject: %d bytes %q", len(long), long[len(long)-6:])
	}
}
