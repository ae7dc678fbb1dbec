package subscriptions

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/cancellationintent"
	"github.com/tandemhq/tandem/ent/provider"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/subscriptions/catalog"
)

// SyncCatalog writes the built-in catalog (catalog.All) into the Provider
// table, by key: new providers are added, changed ones updated, unchanged
// ones left alone, so running it at every start writes nothing the second
// time. Providers no longer in the catalog stay (subscriptions may name
// them). It acts as the system: the catalog is nobody's data.
func SyncCatalog(ctx context.Context, client *ent.Client) error {
	ctx = rule.AsSystem(ctx)
	stored, err := client.Provider.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("subscriptions: reading the provider catalog: %w", err)
	}
	byKey := make(map[string]*ent.Provider, len(stored))
	for _, p := range stored {
		byKey[p.Key] = p
	}
	var creates []*ent.ProviderCreate
	for _, p := range catalog.All() {
		aliases := p.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		old, ok := byKey[p.Key]
		if !ok {
			creates = append(creates, client.Provider.Create().SetKey(p.Key).SetName(p.Name).SetAliases(aliases).
				SetCategory(string(p.Category)).SetCancelURL(p.CancelURL).SetAccountURL(p.AccountURL).SetCadence(string(p.Cadence)))
			continue
		}
		if old.Name == p.Name && slices.Equal(old.Aliases, aliases) && old.Category == string(p.Category) &&
			old.CancelURL == p.CancelURL && old.AccountURL == p.AccountURL && old.Cadence == string(p.Cadence) {
			continue
		}
		if err := old.Update().SetName(p.Name).SetAliases(aliases).SetCategory(string(p.Category)).
			SetCancelURL(p.CancelURL).SetAccountURL(p.AccountURL).SetCadence(string(p.Cadence)).Exec(ctx); err != nil {
			return fmt.Errorf("subscriptions: updating provider %s: %w", p.Key, err)
		}
	}
	for chunk := range slices.Chunk(creates, 100) {
		if err := client.Provider.CreateBulk(chunk...).Exec(ctx); err != nil {
			return fmt.Errorf("subscriptions: adding providers: %w", err)
		}
	}
	return nil
}

// CancellationRoute says where the viewer cancels one of their
// subscriptions and records that they mean to: the provider's cancel page
// when the catalog knows one, else its account page, else a web search for
// how to cancel it. Another person's subscription is "not found".
func (s Service) CancellationRoute(ctx context.Context, client *ent.Client, serviceID, source string) (*CancellationRoute, error) {
	sub, err := get(ctx, client, "serviceId", serviceID)
	if err != nil {
		return nil, err
	}
	key := sub.ProviderKey
	if key == "" {
		if p, ok := catalog.Lookup(sub.Name); ok {
			key = p.Key
		}
	}
	var prov *ent.Provider
	if key != "" {
		prov, err = client.Provider.Query().Where(provider.Key(key)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
	}
	r := &CancellationRoute{ServiceID: sub.ID, Name: sub.Name}
	switch {
	case prov != nil && prov.CancelURL != "" && prov.CancelURL != prov.AccountURL:
		r.URL, r.Kind = prov.CancelURL, RouteCancel
		r.Instructions = fmt.Sprintf("Open the link, sign in to %s and follow its cancellation steps. ", prov.Name)
	case prov != nil && (prov.AccountURL != "" || prov.CancelURL != ""):
		r.URL, r.Kind = prov.AccountURL, RouteAccount
		if r.URL == "" {
			r.URL = prov.CancelURL
		}
		r.Instructions = fmt.Sprintf("Open the link, sign in to %s, and look for the subscription or membership settings to cancel. ", prov.Name)
	default:
		r.URL, r.Kind = "https://duckduckgo.com/?q="+url.QueryEscape("how to cancel "+sub.Name), RouteSearch
		r.Instructions = fmt.Sprintf("Kordi has no cancel page for %s: the link searches for how to cancel it. Cancel where it is billed (the service's site, an app store, or the card issuer). ", sub.Name)
	}
	r.Instructions += "Once it is cancelled, mark it cancelled in Kordi (cancelSubscription) so it leaves the totals."
	if prov != nil {
		k := prov.Key
		r.Provider = &k
	}
	intent := client.CancellationIntent.Create().SetSubscriptionID(sub.ID).SetURL(r.URL).
		SetKind(cancellationintent.Kind(r.Kind)).SetSource(source)
	if prov != nil {
		intent.SetProviderKey(prov.Key)
	}
	if err := intent.Exec(ctx); err != nil {
		return nil, err
	}
	return r, nil
}
