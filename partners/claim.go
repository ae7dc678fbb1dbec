package partners

import "fmt"

// ClaimPath is the page a shadow account's email links to (?t=<link token>).
const ClaimPath = "/claim"

// ClaimLinkTTL is how long a claim link works: as long as the partner's
// token, so the person can take the account over for as long as the
// partner holds it.
const ClaimLinkTTL = PartnerTokenTTL

// MessageClaim is the outbox kind of the claim email.
const MessageClaim = "kordi_claim"

type email struct{ subject, text string }

// claimEmail is the source-labelled onboarding email of a shadow account.
// Without a partner key the body's source is unverified, so the email names
// no sender at all rather than repeat what anyone could have typed.
func claimEmail(sourceLabel, address, link string, n int) email {
	subs := "your subscriptions"
	if n == 1 {
		subs = "a subscription"
	} else if n > 1 {
		subs = fmt.Sprintf("%d subscriptions", n)
	}
	days := int(ClaimLinkTTL.Hours() / 24)
	tail := fmt.Sprintf("Claim your account to see them, get reminders before trials convert, and decide who else may use it:\n\n%s\n\n"+
		"The link works once, for %d days. Claiming verifies %s and ends the access that was granted when the account was created for you. "+
		"If you do not recognise this, ignore the email: nothing is charged and nothing more will be sent.\n", link, days, address)
	if sourceLabel != "" {
		return email{
			subject: sourceLabel + " added your subscriptions to Kordi",
			text:    fmt.Sprintf("Hello,\n\n%s added %s to a Kordi account for %s.\n\n%s", sourceLabel, subs, address, tail),
		}
	}
	return email{
		subject: "Your subscriptions were added to Kordi",
		text:    fmt.Sprintf("Hello,\n\nAn app you use added %s to a Kordi account for %s.\n\n%s", subs, address, tail),
	}
}
