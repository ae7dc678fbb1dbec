package audit

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
)

// entityInfo is what the hook knows of one generated entity type. It is read
// by reflection from the generated client and entity structs, so an entity
// added to the schema is covered as soon as it is generated, with no list
// here to keep in step.
type entityInfo struct {
	name  string // the ent type name, "PayoutBatch"
	label string // its snake case, "payout_batch"

	// fields maps each column the generated struct exposes to its struct
	// field index. ent generates Sensitive fields with the tag json:"-", so
	// they are absent here and a column not found here is never recorded.
	fields map[string]int
	// toMany names the edges that hold many rows (O2M, M2M). Their changes
	// rewrite other rows' foreign keys, which no field of this row shows.
	toMany map[string]bool
}

// idColumn is the primary key column of every Tandem table (BaseMixin).
const idColumn = "id"

// bookkeeping columns are never recorded: the id is the entry's entity_id,
// and the timestamps change on every write while the entry's own created_at
// already says when.
var bookkeeping = map[string]bool{idColumn: true, "created_at": true, "updated_at": true}

// secretName reports whether a column's name says it holds a secret. It backs
// up the Sensitive check (a struct tag could be customised), by name alone.
func secretName(column string) bool {
	return strings.HasSuffix(column, "_hash") || strings.HasSuffix(column, "_sealed") || column == "password_hash"
}

// recordable reports whether a column's value may be written to the log.
func (e *entityInfo) recordable(column string) bool {
	_, exposed := e.fields[column]
	return exposed && !bookkeeping[column] && !secretName(column)
}

// entities holds every generated entity type, by ent type name.
var entities = loadEntities()

// loadEntities finds the entity types through the generated Client: each
// field such as Campaign *CampaignClient has a Get method returning *Campaign.
func loadEntities() map[string]*entityInfo {
	out := make(map[string]*entityInfo)
	ct := reflect.TypeOf(ent.Client{})
	for i := range ct.NumField() {
		f := ct.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Pointer {
			continue
		}
		get, ok := f.Type.MethodByName("Get")
		if !ok || get.Type.NumOut() != 2 {
			continue
		}
		et := get.Type.Out(0)
		if et.Kind() != reflect.Pointer || et.Elem().Kind() != reflect.Struct {
			continue
		}
		out[f.Name] = newEntityInfo(f.Name, et.Elem())
	}
	return out
}

func newEntityInfo(name string, st reflect.Type) *entityInfo {
	e := &entityInfo{name: name, label: snake(name), fields: map[string]int{}, toMany: map[string]bool{}}
	for i := range st.NumField() {
		f := st.Field(i)
		tag := jsonName(f)
		switch {
		case !f.IsExported() || f.Anonymous || tag == "" || tag == "-":
		case tag == "edges" && f.Type.Kind() == reflect.Struct:
			for j := range f.Type.NumField() {
				ef := f.Type.Field(j)
				if en := jsonName(ef); ef.IsExported() && en != "" && en != "-" {
					e.toMany[en] = ef.Type.Kind() == reflect.Slice
				}
			}
		default:
			e.fields[tag] = i
		}
	}
	return e
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// snake turns an ent type name into the snake case ent uses for its labels:
// "PayoutBatch" is "payout_batch", "MCPToken" is "mcp_token".
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// loadChunk bounds the IDs in one snapshot query, well under every driver's
// limit on bound parameters.
const loadChunk = 500

// load reads the rows with the given IDs, keyed by ID, through the client's
// typed query for the entity (client.Campaign.Query().Where(id IN …).All).
// An ID with no row is simply absent.
func (e *entityInfo) load(ctx context.Context, client *ent.Client, ids []string) (map[string]reflect.Value, error) {
	out := make(map[string]reflect.Value, len(ids))
	typed := reflect.ValueOf(client).Elem().FieldByName(e.name)
	if !typed.IsValid() || typed.IsNil() {
		return nil, fmt.Errorf("audit: the client has no %s client", e.name)
	}
	idIndex, ok := e.fields[idColumn]
	if !ok {
		return nil, fmt.Errorf("audit: %s has no exposed id field", e.name)
	}
	for start := 0; start < len(ids); start += loadChunk {
		chunk := ids[start:min(start+loadChunk, len(ids))]
		q := typed.MethodByName("Query").Call(nil)[0]
		where := q.MethodByName("Where")
		pred := reflect.ValueOf(sql.FieldIn(idColumn, chunk...)).Convert(where.Type().In(0).Elem())
		q = where.Call([]reflect.Value{pred})[0]
		res := q.MethodByName("All").Call([]reflect.Value{reflect.ValueOf(ctx)})
		if err, _ := res[1].Interface().(error); err != nil {
			return nil, err
		}
		for i := range res[0].Len() {
			row := res[0].Index(i)
			out[row.Elem().Field(idIndex).String()] = row
		}
	}
	return out, nil
}

// value returns a column's value in a loaded row.
func (e *entityInfo) value(row reflect.Value, column string) any {
	return row.Elem().Field(e.fields[column]).Interface()
}

// snapshot returns every recordable column of a loaded row: a deleted row's
// last state.
func (e *entityInfo) snapshot(row reflect.Value) map[string]any {
	out := make(map[string]any, len(e.fields))
	for column := range e.fields {
		if e.recordable(column) {
			out[column] = e.value(row, column)
		}
	}
	return out
}

// addNumbers returns old+delta for a numeric field incremented with AddX, or
// false when the two are not numbers of one kind. A nil old value counts as
// zero, as the database's COALESCE does.
func addNumbers(old, delta any) (any, bool) {
	d := reflect.ValueOf(delta)
	o := reflect.ValueOf(old)
	for o.IsValid() && o.Kind() == reflect.Pointer {
		if o.IsNil() {
			o = reflect.Zero(d.Type())
			break
		}
		o = o.Elem()
	}
	if !o.IsValid() {
		o = reflect.Zero(d.Type())
	}
	if o.Type() != d.Type() {
		return nil, false
	}
	sum := reflect.New(d.Type()).Elem()
	switch {
	case d.CanInt():
		sum.SetInt(o.Int() + d.Int())
	case d.CanUint():
		sum.SetUint(o.Uint() + d.Uint())
	case d.CanFloat():
		sum.SetFloat(o.Float() + d.Float())
	default:
		return nil, false
	}
	return sum.Interface(), true
}
