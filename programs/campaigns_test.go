package programs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/programs"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

func ref[T any](v T) *T { return &v }

func TestCreateCampaign(t *testing.T) {
	db := storetest.SQLite(t)
	res, err := provision.CreateOrg(rule.AsSystem(context.Background()), db.Client, provision.OrgInput{
		Name: "Acme", Slug: "acme", OwnerEmail: "owner@acme.test", Plan: "starter",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: res.OrgID, UserID: res.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: res.OwnerUserID,
	})
	if _, err := db.Client.Organization.UpdateOneID(res.OrgID).SetHomeCurrency("EUR").Save(rule.AsSystem(ctx)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		in        programs.NewCampaign
		wantType  campaign.CommissionType
		wantModel campaign.CommissionModel
		wantValue int64
	}{
		{"defaults", programs.NewCampaign{}, "Percentage", "Cps", 2000},
		{"percent to bps", programs.NewCampaign{DefaultCommissionValue: ref(7.25)}, "Percentage", "Cps", 725},
		{"fixed minor units", programs.NewCampaign{DefaultCommissionType: ref("fixed"), DefaultCommissionValue: ref(1500.0)}, "Fixed", "Cps", 1500},
		{"cpl", programs.NewCampaign{DefaultCommissionType: ref("Fixed"), DefaultCommissionValue: ref(300.0), DefaultCommissionModel: ref("cpl")}, "Fixed", "Cpl", 300},
		{"legacy revshare", programs.NewCampaign{DefaultCommissionModel: ref("RevShare"), DefaultCommissionValue: ref(100.0)}, "Percentage", "Cps", 10000},
		{"legacy cpa", programs.NewCampaign{DefaultCommissionModel: ref("CPA"), DefaultCommissionType: ref("Fixed"), DefaultCommissionValue: ref(0.0)}, "Fixed", "Cps", 0},
		{"legacy hybrid", programs.NewCampaign{DefaultCommissionModel: ref("Hybrid")}, "Percentage", "Cps", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Name, in.Slug = "Campaign "+tc.name, "c-"+campaignSlug(tc.name)
			got, err := programs.CreateCampaign(ctx, db.Client, res.OrgID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.CommissionType != tc.wantType || got.CommissionModel != tc.wantModel || got.CommissionValue != tc.wantValue || got.Currency != "EUR" {
				t.Fatalf("got %s %s %d %s, want %s %s %d EUR", got.CommissionType, got.CommissionModel, got.CommissionValue, got.Currency, tc.wantType, tc.wantModel, tc.wantValue)
			}
		})
	}

	for _, tc := range []struct {
		name      string
		in        programs.NewCampaign
		wantField string
		wantKind  fault.Kind
	}{
		{"cpc percentage", programs.NewCampaign{DefaultCommissionType: ref("Percentage"), DefaultCommissionModel: ref("Cpc")}, "defaultCommissionType", fault.KindInvalid},
		{"cpc without type", programs.NewCampaign{DefaultCommissionModel: ref("Cpc"), DefaultCommissionValue: ref(5.0)}, "defaultCommissionType", fault.KindInvalid},
		{"revshare fixed", programs.NewCampaign{DefaultCommissionType: ref("Fixed"), DefaultCommissionModel: ref("RevShare"), DefaultCommissionValue: ref(5.0)}, "defaultCommissionType", fault.KindInvalid},
		{"percent over 100", programs.NewCampaign{DefaultCommissionValue: ref(100.01)}, "defaultCommissionValue", fault.KindInvalid},
		{"fixed fraction", programs.NewCampaign{DefaultCommissionType: ref("Fixed"), DefaultCommissionValue: ref(0.5)}, "defaultCommissionValue", fault.KindInvalid},
		{"empty name", programs.NewCampaign{Name: " "}, "name", fault.KindInvalid},
		{"slug taken", programs.NewCampaign{Slug: "c-defaults"}, "slug", fault.KindConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Name == "" {
				in.Name = "Refused"
			}
			if in.Slug == "" {
				in.Slug = "refused"
			}
			_, err := programs.CreateCampaign(ctx, db.Client, res.OrgID, in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Field != tc.wantField || fe.Kind != tc.wantKind {
				t.Fatalf("got %v, want a kind %d fault on %s", err, tc.wantKind, tc.wantField)
			}
			if fe.Kind == fault.KindConflict && fe.Reason != "slug_already_taken" {
				t.Fatalf("got reason %q", fe.Reason)
			}
		})
	}
}

func campaignSlug(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}
