// Package enrollment moves affiliates into a program: invitations,
// approvals and rejections with their emails, leads recorded for them, and
// the tokens that open an affiliate's own dashboard.
package enrollment
