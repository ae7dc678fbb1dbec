package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/notify"
	"github.com/tandemhq/tandem/store/storetest"
)

func TestQueuePerson(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	at := time.Date(2026, 7, 12, 0, 0, 0, 0, time.UTC)
	id, err := notify.QueuePerson(ctx, db.Client, "ada@example.com", notify.Message{
		Kind: "subscription_trial_3d", Subject: "Your Netflix trial ends in 3 days", Heading: "Your <Netflix> trial",
		Paragraphs: []string{"It ends soon."}, ActionLabel: "Pause for 30 days", ActionURL: "https://kordi.test/pause/kpl_x.y",
	}, at)
	if err != nil {
		t.Fatal(err)
	}
	m := db.Client.OutboxMessage.GetX(rule.AsSystem(ctx), id)
	if m.OrgID != "" || m.ToAddress != "ada@example.com" || !m.NextAttemptAt.Equal(at) {
		t.Errorf("row: org %q, to %q, due %v", m.OrgID, m.ToAddress, m.NextAttemptAt)
	}
	for _, body := range []string{m.HTMLBody, m.TextBody} {
		if !strings.Contains(body, "Sent by Kordi") || strings.Contains(body, "affiliate program") {
			t.Errorf("not Kordi's footer:\n%s", body)
		}
	}
	if !strings.Contains(m.HTMLBody, notify.KordiColor) || !strings.Contains(m.HTMLBody, "Your &lt;Netflix&gt; trial") {
		t.Errorf("HTML not in Kordi's colour or not escaped:\n%s", m.HTMLBody)
	}
	if _, err := notify.QueuePerson(ctx, db.Client, "ada@example.com", notify.Message{Kind: "x", Subject: "s", NoteHTML: "<p>hi</p>"}, at); err == nil {
		t.Errorf("a person email took a brand note")
	}
}
