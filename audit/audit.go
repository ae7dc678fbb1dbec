// Package audit writes the audit log: one AuditLogEntry for every change a
// viewer makes to an organization's data, in the same transaction as the
// change, so the change and its entry commit or roll back together.
//
// Hook is registered once on the client (store.wrap). It records creates,
// updates and deletes of every organization-scoped entity (and of the
// Organization itself) made with a viewer in the context, including writes a
// viewer's request makes AsSystem. It records nothing for work without a
// viewer (the CLI, migrations, the demo seeder), which writes its own entries
// when it needs them, nor for the log itself, outbox messages and login
// tokens.
//
// The entry is written with the mutation's own client, which inside a
// transaction is the transaction's client, and an entry that cannot be
// written fails the mutation. A mutation made on the plain client has
// already committed when its entry is written, and a hook cannot open a
// transaction around it, so a failure there leaves the change without its
// entry: surfaces that write must run in a transaction. The GraphQL core does
// (graph.Configure installs entgql.Transactioner, so every GraphQL mutation
// runs in one and rolls back on any error).
package audit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/viewer"
)

// MaxBulkRows is the most rows one bulk update or delete by a viewer may
// change. Each changed row gets its own entry, and the change is pinned to
// the rows read beforehand by listing their IDs in the statement, which has
// to stay within the drivers' limits on bound parameters. Larger changes are
// refused and must be made in batches.
const MaxBulkRows = 10000

// ErrNoViewer is returned by RecordOperation when ctx carries no viewer: an
// entry must name who acted.
var ErrNoViewer = errors.New("audit: no viewer in context")

// requestIDMaxLen is the schema's limit on request_id. A longer ID (clients
// may choose their own X-Request-Id) is cut rather than failing every write.
const requestIDMaxLen = 64

// writeChunk bounds the entries inserted by one statement, well under every
// driver's limit on bound parameters.
const writeChunk = 100

// mutation is what the hook needs of a generated mutation beyond ent.Mutation.
type mutation interface {
	ent.Mutation
	Client() *ent.Client
	ID() (string, bool)
	IDs(context.Context) ([]string, error)
	WhereP(...func(*sql.Selector))
}

// entry is one audit row to write.
type entry struct {
	action     string
	entityType string
	entityID   string
	before     map[string]any
	after      map[string]any
}

// Hook returns the global hook that audits viewers' changes; see the package
// documentation for what it records.
//
// For each changed row the entry has the action "<entity>.<create|update|
// delete>", the entity's snake-case type and ID, and:
//   - create: after holds every field the create set, defaults included;
//   - update: after holds the new value of every field set, incremented or
//     cleared (nil), and before the old value of those same fields;
//   - delete: before holds the row's last state, after is empty.
//
// Changes to to-many edges, which rewrite other rows' foreign keys, are
// listed in after under "edges". The id, created_at and updated_at, Sensitive
// fields and fields named like secrets (…_hash, …_sealed) are never written.
//
// A bulk update or delete first reads the IDs it will change (under the same
// tenancy filter), pins the statement to those IDs and writes one entry per
// row; if the statement then changes a different number of rows it raced
// another writer and fails rather than leave the log wrong.
func Hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v := viewer.FromContext(ctx)
			if v == nil || !audited(m) {
				return next.Mutate(ctx, m)
			}
			return mutate(ctx, v, next, m)
		})
	}
}

// audited reports whether changes to m's entity go in the log.
func audited(m ent.Mutation) bool {
	switch m.Type() {
	case ent.TypeAuditLogEntry, ent.TypeOutboxMessage, ent.TypeLoginToken:
		return false
	case ent.TypeOrganization:
		return true
	}
	_, orgScoped := m.(interface{ OrgID() (string, bool) })
	return orgScoped
}

func mutate(ctx context.Context, v *viewer.Viewer, next ent.Mutator, em ent.Mutation) (ent.Value, error) {
	info, ok := entities[em.Type()]
	m, isGen := em.(mutation)
	if !ok || !isGen {
		return nil, fmt.Errorf("audit: cannot audit %s mutations (%T)", em.Type(), em)
	}
	client := m.Client()
	op := m.Op()

	var ids []string
	switch {
	case op.Is(ent.OpUpdateOne | ent.OpDeleteOne):
		id, ok := m.ID()
		if !ok {
			return nil, fmt.Errorf("audit: %s %s without an id", info.label, op)
		}
		ids = []string{id}
	case op.Is(ent.OpUpdate | ent.OpDelete):
		var err error
		if ids, err = m.IDs(ctx); err != nil {
			return nil, fmt.Errorf("audit: listing the %s rows to change: %w", info.label, err)
		}
		if len(ids) > MaxBulkRows {
			return nil, fmt.Errorf("audit: a bulk %s of %d %s rows exceeds %d; change them in batches", op, len(ids), info.label, MaxBulkRows)
		}
		m.WhereP(sql.FieldIn(idColumn, ids...))
	}
	var old map[string]reflect.Value
	if len(ids) > 0 {
		var err error
		if old, err = info.load(rule.AsSystem(ctx), client, ids); err != nil {
			return nil, fmt.Errorf("audit: reading %s rows before the change: %w", info.label, err)
		}
	}

	value, err := next.Mutate(ctx, m)
	if err != nil {
		return value, err
	}

	var entries []entry
	switch {
	case op.Is(ent.OpCreate):
		id, _ := m.ID()
		entries = []entry{{action: info.label + ".create", entityType: info.label, entityID: id, after: changes(info, m, reflect.Value{})}}
	case op.Is(ent.OpUpdateOne | ent.OpUpdate):
		if n, counted := value.(int); counted && n != len(ids) {
			return nil, fmt.Errorf("audit: a bulk update changed %d %s rows but %d were listed; it raced another writer, retry", n, info.label, len(ids))
		}
		for _, id := range ids {
			row := old[id]
			entries = append(entries, entry{action: info.label + ".update", entityType: info.label, entityID: id,
				before: previous(info, m, row), after: changes(info, m, row)})
		}
	case op.Is(ent.OpDeleteOne | ent.OpDelete):
		n, _ := value.(int)
		if op.Is(ent.OpDeleteOne) && n == 0 {
			return value, nil // DeleteOne reports the missing row as not found
		}
		if n != len(ids) {
			return nil, fmt.Errorf("audit: a bulk delete removed %d %s rows but %d were listed; it raced another writer, retry", n, info.label, len(ids))
		}
		for _, id := range ids {
			var before map[string]any
			if row, ok := old[id]; ok {
				before = info.snapshot(row)
			}
			entries = append(entries, entry{action: info.label + ".delete", entityType: info.label, entityID: id, before: before})
		}
	}
	if err := write(ctx, client, v, entries); err != nil {
		return nil, err
	}
	return value, nil
}

// touched returns the recordable fields the mutation sets, increments or clears.
func touched(info *entityInfo, m ent.Mutation) []string {
	var out []string
	for _, list := range [][]string{m.Fields(), m.AddedFields(), m.ClearedFields()} {
		for _, f := range list {
			if info.recordable(f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// previous returns the old values of the fields the mutation touches, from
// the row read before it ran (invalid for a create, or a row that vanished).
func previous(info *entityInfo, m ent.Mutation, row reflect.Value) map[string]any {
	if !row.IsValid() {
		return nil
	}
	out := map[string]any{}
	for _, f := range touched(info, m) {
		out[f] = info.value(row, f)
	}
	return nilIfEmpty(out)
}

// changes returns the new values of the fields the mutation touches, with
// increments resolved against the row read before it ran, and its to-many
// edge changes under "edges".
func changes(info *entityInfo, m ent.Mutation, row reflect.Value) map[string]any {
	out := map[string]any{}
	for _, f := range m.Fields() {
		if info.recordable(f) {
			out[f], _ = m.Field(f)
		}
	}
	for _, f := range m.AddedFields() {
		if !info.recordable(f) {
			continue
		}
		delta, _ := m.AddedField(f)
		if row.IsValid() {
			if sum, ok := addNumbers(info.value(row, f), delta); ok {
				out[f] = sum
				continue
			}
		}
		out[f] = map[string]any{"add": delta}
	}
	for _, f := range m.ClearedFields() {
		if info.recordable(f) {
			out[f] = nil
		}
	}
	edges := map[string]any{}
	note := func(edge, key string, val any) {
		if !info.toMany[edge] {
			return
		}
		e, _ := edges[edge].(map[string]any)
		if e == nil {
			e = map[string]any{}
			edges[edge] = e
		}
		e[key] = val
	}
	for _, edge := range m.ClearedEdges() {
		note(edge, "cleared", true)
	}
	for _, edge := range m.AddedEdges() {
		note(edge, "added", m.AddedIDs(edge))
	}
	for _, edge := range m.RemovedEdges() {
		note(edge, "removed", m.RemovedIDs(edge))
	}
	if len(edges) > 0 {
		out["edges"] = edges
	}
	return nilIfEmpty(out)
}

func nilIfEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// RecordOperation writes one entry for an operation the hook does not see,
// such as a read by a non-human principal (an MCP tool that only reads must
// still appear in the log), attributed to the viewer in ctx. It writes with
// client, so inside a transaction it commits or rolls back with it. Keys of
// after that are named like secrets (…_hash, …_sealed) are dropped.
func RecordOperation(ctx context.Context, client *ent.Client, action string, entityType, entityID string, after map[string]any) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return ErrNoViewer
	}
	return write(ctx, client, v, []entry{{action: action, entityType: entityType, entityID: entityID, after: withoutSecrets(after)}})
}

// withoutSecrets drops keys named like secrets (…_hash, …_sealed).
func withoutSecrets(after map[string]any) map[string]any {
	var kept map[string]any
	for k, val := range after {
		if secretName(k) {
			continue
		}
		if kept == nil {
			kept = make(map[string]any, len(after))
		}
		kept[k] = val
	}
	return kept
}

// write inserts the entries as the system, so tenancy and role rules never
// stop a permitted change from being logged.
func write(ctx context.Context, client *ent.Client, v *viewer.Viewer, entries []entry) error {
	ctx = systemCtx(ctx)
	for start := 0; start < len(entries); start += writeChunk {
		chunk := entries[start:min(start+writeChunk, len(entries))]
		builders := make([]*ent.AuditLogEntryCreate, len(chunk))
		for i, e := range chunk {
			builders[i] = create(client, v, e)
		}
		if err := client.AuditLogEntry.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("audit: writing %s: %w", chunk[0].action, err)
		}
	}
	return nil
}

func systemCtx(ctx context.Context) context.Context { return rule.AsSystem(ctx) }

// create builds one entry's row, attributed to v.
func create(client *ent.Client, v *viewer.Viewer, e entry) *ent.AuditLogEntryCreate {
	c := client.AuditLogEntry.Create().
		SetOrgID(v.OrgID).
		SetActorType(auditlogentry.ActorType(v.ActorType)).
		SetAction(e.action)
	setIf(c.SetActorID, v.ActorID)
	setIf(c.SetTokenID, v.TokenID)
	setIf(c.SetRequestID, clip(v.RequestID, requestIDMaxLen))
	setIf(c.SetEntityType, e.entityType)
	setIf(c.SetEntityID, e.entityID)
	if e.before != nil {
		c.SetBefore(e.before)
	}
	if e.after != nil {
		c.SetAfter(e.after)
	}
	return c
}

// setIf leaves an optional column NULL rather than storing an empty string.
func setIf(set func(string) *ent.AuditLogEntryCreate, s string) {
	if s != "" {
		set(s)
	}
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
