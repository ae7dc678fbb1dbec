// Package coupons issues and revokes discount codes for campaigns and for
// affiliates, including the codes affiliates mint for themselves.
package coupons
