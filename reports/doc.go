// Package reports answers the brand's questions about its program: the
// dashboard's figures and series, the audit log, per-affiliate and
// per-campaign totals, and the billing state with its plan limits.
package reports
