// Package payouts works out what each affiliate is owed: approved, unpaid
// commissions past the organization's payout grace period, with
// sub-affiliate overrides.
package payouts
