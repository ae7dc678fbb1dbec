package identity

import (
	"context"

	"entgo.io/ent"

	gen "github.com/tandemhq/tandem/ent"
)

// InvalidateOnChange is an ent hook that makes the cache forget whatever a
// change could make stale: a revoked token or key, an organization's plan or
// suspension, a user's sessions or memberships. It runs after the change, so
// a concurrent request may cache the old state again, for at most one TTL.
func InvalidateOnChange(c *Cache) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			var targets []string
			switch m.Type() {
			case gen.TypeMCPToken, gen.TypeAPIKey:
				hm, ok := m.(interface {
					OldSecretHash(context.Context) (string, error)
				})
				if ok && m.Op().Is(ent.OpUpdateOne|ent.OpDeleteOne) {
					if old, err := hm.OldSecretHash(ctx); err == nil {
						targets = append(targets, "key:"+old)
					}
				}
			case gen.TypeOrganization:
				if id, ok := idOf(m); ok {
					targets = append(targets, "org:"+id)
				}
			case gen.TypeUser:
				if id, ok := idOf(m); ok {
					targets = append(targets, "user:"+id)
				}
			case gen.TypeMembership:
				if mm, ok := m.(*gen.MembershipMutation); ok && m.Op().Is(ent.OpUpdateOne|ent.OpDeleteOne) {
					if uid, err := mm.OldUserID(ctx); err == nil {
						targets = append(targets, "user:"+uid)
					}
				}
			}
			v, err := next.Mutate(ctx, m)
			if err == nil {
				for _, t := range targets {
					c.Invalidate(ctx, t)
				}
			}
			return v, err
		})
	}
}

func idOf(m ent.Mutation) (string, bool) {
	if !m.Op().Is(ent.OpUpdateOne | ent.OpDeleteOne) {
		return "", false
	}
	idm, ok := m.(interface{ ID() (string, bool) })
	if !ok {
		return "", false
	}
	return idm.ID()
}
