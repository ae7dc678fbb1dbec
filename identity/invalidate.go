package identity

import (
	"context"

	"entgo.io/ent"

	gen "github.com/tandemhq/tandem/ent"
)

// InvalidateOnChange is an ent hook that makes the cache forget whatever a
// change could make stale: a revoked token or key, an organization's row
// (its plan, suspension and snapshot), a user's sessions or memberships. It
// runs after the change and, for a change in a transaction, again after the
// commit: until then other requests still read the old rows and may cache
// them again.
func InvalidateOnChange(c *Cache) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			var targets []string
			switch m.Type() {
			case gen.TypeMCPToken, gen.TypeAPIKey, gen.TypeUserToken:
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
				} else if m.Op().Is(ent.OpUpdate | ent.OpDelete) {
					targets = append(targets, "org:*") // which rows a bulk change hit is not known here
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
			if err != nil || len(targets) == 0 {
				return v, err
			}
			for _, t := range targets {
				c.Invalidate(ctx, t)
			}
			if txm, ok := m.(interface{ Tx() (*gen.Tx, error) }); ok {
				if tx, terr := txm.Tx(); terr == nil {
					tx.OnCommit(func(next gen.Committer) gen.Committer {
						return gen.CommitFunc(func(ctx context.Context, tx *gen.Tx) error {
							err := next.Commit(ctx, tx)
							if err == nil {
								for _, t := range targets {
									c.Invalidate(context.WithoutCancel(ctx), t)
								}
							}
							return err
						})
					})
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
