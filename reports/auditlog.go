package reports

import (
	"context"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/fault"
)

// Audit log page bounds. MaxAuditPage keeps the offset far from overflow.
const (
	MaxAuditPage         = 1_000_000
	DefaultAuditPageSize = 50
	MaxAuditPageSize     = 100
)

// AuditLogQuery filters and pages the audit log. Nil fields do not filter;
// Page and PageSize default to 1 and DefaultAuditPageSize.
type AuditLogQuery struct {
	Page       *int
	PageSize   *int
	Action     *string // exact, e.g. "affiliate.update" or "query.list_conversions"
	EntityType *string // exact, snake case, e.g. "affiliate"
	ActorType  *auditlogentry.ActorType
	Since      *time.Time // inclusive
	Until      *time.Time // exclusive
}

// AuditLogPage is one offset page of the audit log, newest first.
type AuditLogPage struct {
	Page     int
	PageSize int
	Total    int // entries matching the filters, on every page
	Items    []*ent.AuditLogEntry
}

// AuditLog returns one page of the viewer's organization's audit log, newest
// first, and the number of entries that match the filters. The
// (org_id, created_at) index serves the order.
func AuditLog(ctx context.Context, client *ent.Client, q AuditLogQuery) (*AuditLogPage, error) {
	page, size := 1, DefaultAuditPageSize
	if q.Page != nil {
		page = *q.Page
	}
	if q.PageSize != nil {
		size = *q.PageSize
	}
	if page < 1 {
		return nil, fault.Invalid("page", "must be 1 or more (pages count from 1), not %d", page)
	}
	if page > MaxAuditPage {
		return nil, fault.Invalid("page", "must be at most %d; narrow the filters (since, until, action) to reach older entries", MaxAuditPage)
	}
	if size < 1 || size > MaxAuditPageSize {
		return nil, fault.Invalid("pageSize", "must be between 1 and %d, not %d", MaxAuditPageSize, size)
	}
	if q.Since != nil && q.Until != nil && !q.Since.Before(*q.Until) {
		return nil, fault.Invalid("until", "must be later than since")
	}
	if len(trimmed(q.Action)) > 100 {
		return nil, fault.Invalid("action", "must be at most 100 characters, e.g. affiliate.update")
	}
	if len(trimmed(q.EntityType)) > 64 {
		return nil, fault.Invalid("entityType", "must be at most 64 characters, e.g. affiliate")
	}
	query := client.AuditLogEntry.Query()
	if s := trimmed(q.Action); s != "" {
		query.Where(auditlogentry.Action(s))
	}
	if s := trimmed(q.EntityType); s != "" {
		query.Where(auditlogentry.EntityType(s))
	}
	if q.ActorType != nil {
		if err := auditlogentry.ActorTypeValidator(*q.ActorType); err != nil {
			return nil, fault.Invalid("actorType", "must be one of user, api_key, mcp, system, admin")
		}
		query.Where(auditlogentry.ActorTypeEQ(*q.ActorType))
	}
	if q.Since != nil {
		query.Where(auditlogentry.CreatedAtGTE(q.Since.UTC()))
	}
	if q.Until != nil {
		query.Where(auditlogentry.CreatedAtLT(q.Until.UTC()))
	}
	total, err := query.Clone().Aggregate(countAs("n")).Int(ctx)
	if err != nil {
		return nil, err
	}
	out := &AuditLogPage{Page: page, PageSize: size, Total: total, Items: []*ent.AuditLogEntry{}}
	offset := (page - 1) * size
	if offset >= total {
		return out, nil
	}
	items, err := query.
		Order(ent.Desc(auditlogentry.FieldCreatedAt), ent.Desc(auditlogentry.FieldID)).
		Offset(offset).Limit(size).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out.Items = items
	return out, nil
}

func trimmed(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}
