package install_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/install"
)

func TestAttributionDefaults(t *testing.T) {
	d := install.AttributionDefaults
	if len(d) != 16 {
		t.Fatalf("got %d defaults, want 16: %v", len(d), d)
	}
	// The platforms' parameters, in this priority order, come first.
	peers := []string{"via", "ref", "fpr", "fp_ref", "deal", "aff", "rfsn", "gspk",
		"ps_partner_key", "ps_xid", "dub_id", "tap_a", "_from", "_by", "_go"}
	if !slices.Equal(peers, d[:len(peers)]) {
		t.Errorf("defaults: got %q, want %q", d[:len(peers)], peers)
	}
	for i, p := range d {
		if slices.Index(d, p) != i {
			t.Errorf("%q is listed twice", p)
		}
		// Every default is itself a valid custom entry.
		if got, err := install.AttributionParse(p); err != nil || !slices.Equal(got, []string{p}) {
			t.Errorf("AttributionParse(%q) = %v, %v", p, got, err)
		}
	}
}

func TestAttributionEffectiveOrder(t *testing.T) {
	if !slices.Equal(install.AttributionDefaults, install.AttributionEffectiveOrder(nil)) {
		t.Errorf("no custom params: got %q, want %q", install.AttributionEffectiveOrder(nil), install.AttributionDefaults)
	}
	got := install.AttributionEffectiveOrder([]string{"partner", "ref"})
	want := append([]string{"partner", "ref", "via"}, install.AttributionDefaults[2:]...)
	if !slices.Equal(want, got) {
		t.Errorf("custom first, the default it names moves up, no repeats: got %q, want %q", got, want)
	}
}

func TestAttributionParse(t *testing.T) {
	ok := []struct {
		name, in string
		want     []string
	}{
		{"empty clears", "", []string{}},
		{"blank clears", "  ,  , ", []string{}},
		{"one", "partner", []string{"partner"}},
		{"trimmed, trailing comma skipped", " partner , invite_code ,", []string{"partner", "invite_code"}},
		{"repeats dropped, first kept", "b2,a1,b2,a1", []string{"b2", "a1"}},
		{"every allowed character", "a-b_c9", []string{"a-b_c9"}},
		{"bounds of an entry", "ab," + strings.Repeat("x", 32), []string{"ab", strings.Repeat("x", 32)}},
		{"ten entries", "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9", []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}},
		{"eleven with a repeat is ten", "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p0", []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}},
		{"256 characters", "via" + strings.Repeat(" ", 253), []string{"via"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := install.AttributionParse(tc.in)
			if err != nil {
				t.Fatalf("AttributionParse(%q): %v", tc.in, err)
			}
			if !slices.Equal(tc.want, got) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	bad := []struct {
		name, in string
		wantMsg  []string // each must appear in the message
	}{
		{"capitals", "partner,Ref", []string{`"Ref"`, "lowercase", `"ref"`}},
		{"one character", "a", []string{`"a"`, "2 to 32"}},
		{"33 characters", strings.Repeat("y", 33), []string{"2 to 32"}},
		{"dot", "ref.code", []string{`"ref.code"`, "lowercase letters a-z"}},
		{"inner space", "ref code", []string{`"ref code"`}},
		{"accented letter", "réf", []string{`"réf"`}},
		{"equals sign", "ref=jane", []string{`"ref=jane"`}},
		{"eleven entries", "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10", []string{"11 entries", "at most 10"}},
		{"257 characters", "via" + strings.Repeat(" ", 254), []string{"257 characters", "at most 256"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := install.AttributionParse(tc.in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.KindInvalid || fe.Field != "custom" {
				t.Fatalf("AttributionParse(%q) = %v, %v; want an invalid-input fault on custom", tc.in, got, err)
			}
			for _, s := range tc.wantMsg {
				if !strings.Contains(fe.Message, s) {
					t.Errorf("message %q does not contain %q", fe.Message, s)
				}
			}
		})
	}
}

func TestAttributionUpdate(t *testing.T) {
	f := newInstallFixture(t)
	ctx := f.ownerCtx()
	custom := "partner, ref"
	got, err := install.AttributionUpdate(ctx, f.client, f.org.ID, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal([]string{"partner", "ref"}, got.Custom) {
		t.Errorf("custom got %q, want [partner ref]", got.Custom)
	}
	if got.EffectiveOrder[0] != "partner" || got.EffectiveOrder[1] != "ref" || got.EffectiveOrder[2] != "via" {
		t.Errorf("effective order starts %v", got.EffectiveOrder[:3])
	}
	stored, _ := install.AttributionGet(ctx, f.client, f.org.ID)
	if !slices.Equal(stored.Custom, []string{"partner", "ref"}) {
		t.Errorf("stored custom = %v", stored.Custom)
	}
	audits := func() int {
		return f.client.AuditLogEntry.Query().Where(auditlogentry.Action("organization.update")).CountX(installSys())
	}
	if n := audits(); n != 1 {
		t.Errorf("%d organization.update audit rows after a change, want 1", n)
	}

	// The same list again changes nothing and logs nothing.
	same := "partner,ref,partner"
	if _, err := install.AttributionUpdate(ctx, f.client, f.org.ID, &same); err != nil {
		t.Fatal(err)
	}
	if n := audits(); n != 1 {
		t.Errorf("%d audit rows after a no-op, want 1", n)
	}

	// nil clears.
	cleared, err := install.AttributionUpdate(ctx, f.client, f.org.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cleared.Custom) != 0 || cleared.Custom == nil {
		t.Errorf("custom after clearing = %#v, want an empty list", cleared.Custom)
	}
	if !slices.Equal(install.AttributionDefaults, cleared.EffectiveOrder) {
		t.Errorf("effective order after clearing: got %q, want %q", cleared.EffectiveOrder, install.AttributionDefaults)
	}

	// A refused list leaves the stored one alone.
	bad := "Partner"
	if _, err := install.AttributionUpdate(ctx, f.client, f.org.ID, &bad); err == nil {
		t.Fatal("an entry with capitals was accepted")
	}
	if n := audits(); n != 2 {
		t.Errorf("%d audit rows, want 2 (set, clear)", n)
	}
}
