package audit

import (
	"testing"

	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/apikey"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/payoutbatch"
	"github.com/tandemhq/tandem/ent/payoutlineitem"
	"github.com/tandemhq/tandem/ent/user"
)

func TestEntityNamesMatchEntLabels(t *testing.T) {
	labels := map[string]string{
		"Affiliate": affiliate.Label, "APIKey": apikey.Label, "AuditLogEntry": auditlogentry.Label,
		"Campaign": campaign.Label, "MCPToken": mcptoken.Label, "Organization": organization.Label,
		"OutboxMessage": outboxmessage.Label, "PayoutBatch": payoutbatch.Label,
		"PayoutLineItem": payoutlineitem.Label, "User": user.Label,
	}
	for name, label := range labels {
		info, ok := entities[name]
		if !ok {
			t.Errorf("%s is not among the entities found in the client", name)
			continue
		}
		if info.label != label {
			t.Errorf("%s is recorded as %q, ent labels it %q", name, info.label, label)
		}
	}
}

func TestSensitiveFieldsAreNotRecordable(t *testing.T) {
	for _, c := range []struct {
		entity, field string
		recordable    bool
	}{
		{"MCPToken", mcptoken.FieldSecretHash, false},
		{"MCPToken", mcptoken.FieldHint, true},
		{"APIKey", apikey.FieldSecretHash, false},
		{"APIKey", apikey.FieldSigningSecretSealed, false},
		{"User", user.FieldPasswordHash, false},
		{"OutboxMessage", outboxmessage.FieldTextBody, false},
		{"Campaign", campaign.FieldName, true},
		{"Campaign", campaign.FieldUpdatedAt, false},
		{"Campaign", "no_such_field", false},
	} {
		if got := entities[c.entity].recordable(c.field); got != c.recordable {
			t.Errorf("%s.%s recordable = %v, want %v", c.entity, c.field, got, c.recordable)
		}
	}
}

func TestToManyEdges(t *testing.T) {
	a := entities["Affiliate"]
	if !a.toMany["recruits"] || a.toMany["recruited_by"] || a.toMany["organization"] {
		t.Errorf("affiliate edges = %v; want recruits to-many, recruited_by and organization unique", a.toMany)
	}
}

func TestClipKeepsWholeCharacters(t *testing.T) {
	if got := clip("ab€", 4); got != "ab" {
		t.Errorf("clip = %q, want %q", got, "ab")
	}
	if got := clip("abc", 64); got != "abc" {
		t.Errorf("clip = %q", got)
	}
}

func TestAddNumbers(t *testing.T) {
	var nilInt *int64
	seven := int64(7)
	for _, c := range []struct {
		old, delta, want any
		ok               bool
	}{
		{30, 5, 35, true},
		{&seven, int64(3), int64(10), true},
		{nilInt, int64(3), int64(3), true},
		{1.5, 1.0, 2.5, true},
		{"a", "b", nil, false},
		{int32(1), int64(1), nil, false},
	} {
		got, ok := addNumbers(c.old, c.delta)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("addNumbers(%v, %v) = %v, %v; want %v, %v", c.old, c.delta, got, ok, c.want, c.ok)
		}
	}
}
