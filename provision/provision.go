// Package provision creates organizations and their owners: the system work
// behind sign-up and `tandem org create`, done in one transaction so a
// failure leaves nothing half-made.
package provision

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
)

// OrgInput describes a new organization.
type OrgInput struct {
	Name       string
	Slug       string
	OwnerEmail string
	Plan       string // free, trial, starter, growth or pro, any case; default trial
}

// OrgResult names what was created.
type OrgResult struct {
	OrgID       string `json:"orgId"`
	OwnerUserID string `json:"ownerUserId"`
}

// ErrSlugTaken is returned when another organization has the slug.
var ErrSlugTaken = errors.New("slug_already_taken")

// ParsePlan maps a plan name in any case to its tier.
func ParsePlan(s string) (organization.PlanTier, error) {
	if s == "" {
		return organization.PlanTierTrial, nil
	}
	for _, t := range []organization.PlanTier{organization.PlanTierFree, organization.PlanTierTrial,
		organization.PlanTierStarter, organization.PlanTierGrowth, organization.PlanTierPro} {
		if strings.EqualFold(string(t), s) {
			return t, nil
		}
	}
	return "", fmt.Errorf("plan %q is not a plan: use free, trial, starter, growth or pro", s)
}

// CreateOrg creates an organization, its owner (reusing the user with that
// email if one exists) and the owner's membership.
func CreateOrg(ctx context.Context, client *ent.Client, in OrgInput) (OrgResult, error) {
	plan, err := ParsePlan(in.Plan)
	if err != nil {
		return OrgResult{}, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return OrgResult{}, errors.New("name is required: give the brand's display name, e.g. --name \"Acme\"")
	}
	if err := organization.SlugValidator(in.Slug); err != nil {
		return OrgResult{}, fmt.Errorf("slug %q is invalid: use lowercase letters, digits and single hyphens, e.g. acme-shop", in.Slug)
	}
	addr, err := mail.ParseAddress(in.OwnerEmail)
	if err != nil || addr.Address != in.OwnerEmail {
		return OrgResult{}, fmt.Errorf("owner email %q is not an email address", in.OwnerEmail)
	}
	email := strings.ToLower(addr.Address)

	ctx = rule.AsSystem(ctx)
	tx, err := client.Tx(ctx)
	if err != nil {
		return OrgResult{}, err
	}
	defer func() { _ = tx.Rollback() }()

	if taken, err := tx.Organization.Query().Where(organization.Slug(in.Slug)).Exist(ctx); err != nil {
		return OrgResult{}, err
	} else if taken {
		return OrgResult{}, fmt.Errorf("%w: an organization with slug %q exists; choose another", ErrSlugTaken, in.Slug)
	}
	org, err := tx.Organization.Create().SetName(strings.TrimSpace(in.Name)).SetSlug(in.Slug).SetPlanTier(plan).
		SetSubscriptionStatus(statusFor(plan)).Save(ctx)
	if err != nil {
		return OrgResult{}, err
	}
	owner, err := tx.User.Query().Where(user.Email(email)).Only(ctx)
	if ent.IsNotFound(err) {
		owner, err = tx.User.Create().SetEmail(email).Save(ctx)
	}
	if err != nil {
		return OrgResult{}, err
	}
	if _, err := tx.Membership.Create().SetOrgID(org.ID).SetUserID(owner.ID).SetRole("owner").Save(ctx); err != nil {
		return OrgResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return OrgResult{}, err
	}
	return OrgResult{OrgID: org.ID, OwnerUserID: owner.ID}, nil
}

func statusFor(plan organization.PlanTier) organization.SubscriptionStatus {
	switch plan {
	case organization.PlanTierFree:
		return organization.SubscriptionStatusNone
	case organization.PlanTierTrial:
		return organization.SubscriptionStatusTrialing
	}
	return organization.SubscriptionStatusActive
}

// OrgBySlug finds an organization by slug.
func OrgBySlug(ctx context.Context, client *ent.Client, slug string) (*ent.Organization, error) {
	org, err := client.Organization.Query().Where(organization.Slug(slug)).Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no organization with slug %q: create it with `tandem org create`", slug)
	}
	return org, err
}
