package server

import (
	"log/slog"
	"net/http"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/viewer"
)

// DevViewerHeader lets a developer act as an organization's owner from
// GraphiQL or curl before sign-in exists. It is honoured only with --dev,
// which also logs a warning at startup; production never reads it.
const DevViewerHeader = "X-Tandem-Dev-Org"

func devViewer(client *ent.Client, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			slug := r.Header.Get(DevViewerHeader)
			if slug == "" {
				next.ServeHTTP(w, r)
				return
			}
			ctx := rule.AsSystem(r.Context())
			org, err := client.Organization.Query().Where(organization.Slug(slug)).Only(ctx)
			if err != nil {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "no organization with slug " + slug})
				return
			}
			// The same snapshot a session would carry, so plan and email gates
			// behave in development as they will in production.
			v := &viewer.Viewer{OrgID: org.ID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser,
				Plan: string(org.PlanTier), SubscriptionStatus: string(org.SubscriptionStatus)}
			if m, err := client.Membership.Query().
				Where(membership.OrgID(org.ID), membership.RoleEQ(membership.RoleOwner)).
				WithUser().First(ctx); err == nil {
				v.UserID, v.ActorID = m.UserID, m.UserID
				v.EmailVerified = m.Edges.User != nil && m.Edges.User.EmailVerifiedAt != nil
			}
			log.DebugContext(r.Context(), "dev viewer", "org", slug)
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
		})
	}
}
