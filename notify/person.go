package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/ent"
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
	if m.NoteHTML != "" {
		return "", fmt.Errorf("notify: %s: a person email has no brand note", m.Kind)
	}
	b := brand{Name: KordiName, Color: KordiColor, TextColor: TextOn(KordiColor)}
	return queue(ctx, client, "", b, personFooter, to, m, now)
}
