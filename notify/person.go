package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
)

// Kordi's brand: the Subscriptions product writes to people about their
// own subscriptions, on no organization's behalf.
const (
	KordiName  = "Kordi"
	KordiColor = "#0f766e"
)

// personFooter ends every email to a person: why they got it.
const personFooter = "Sent by Kordi, the memory of your subscriptions."

// QueuePerson renders m in Kordi's brand and writes it to the outbox
// addressed to to, due at now, with client (the transaction's client when
// called in one). It returns the outbox message's ID. The row has no
// organization: it is the person's own mail. NoteHTML is not used by any
// person email and is refused, so nothing unsanitized can slip in.
func QueuePerson(ctx context.Context, client *ent.Client, to string, m Message, now time.Time) (string, error) {
	if err := m.check(to); err != nil {
		return "", err
	}
	if m.NoteHTML != "" {
		return "", fmt.Errorf("notify: %s: a person email has no brand note", m.Kind)
	}
	htmlBody, err := renderHTML(brand{Name: KordiName, Color: KordiColor, TextColor: TextOn(KordiColor)}, personFooter, m)
	if err != nil {
		return "", err
	}
	msg, err := client.OutboxMessage.Create().
		SetKind(m.Kind).
		SetToAddress(to).
		SetSubject(m.Subject).
		SetTextBody(renderText(personFooter, m)).
		SetHTMLBody(htmlBody).
		SetNextAttemptAt(now.UTC()).
		Save(rule.AsSystem(ctx)) // the outbox is the system's, as in Queue
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}
