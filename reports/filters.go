package reports

import (
	"github.com/tandemhq/tandem/ent/payoutbatch"
	"github.com/tandemhq/tandem/ent/payoutlineitem"
	"github.com/tandemhq/tandem/ent/predicate"
)

// BatchesPaying selects the payout batches with a line item for affiliateID.
// The batches are scoped to the viewer's organization and a line item always
// belongs to its batch's organization, so another organization's affiliate
// matches nothing.
func BatchesPaying(affiliateID string) predicate.PayoutBatch {
	return payoutbatch.HasLineItemsWith(payoutlineitem.AffiliateID(affiliateID))
}
