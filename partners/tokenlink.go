package partners

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/store"
)

// TokenPath is the page where a person gets a token for their AI client.
const TokenPath = "/token"

// MessageTokenLink is the outbox kind of the /token sign-in email.
const MessageTokenLink = "kordi_token_link"

// TokenPageCreator is the provisioned_by_source_id of an account the /token
// page created for an address nobody has proven yet: a shadow account that
// whoever opens the emailed link claims.
const TokenPageCreator = "page:token"

// RequestTokenLink emails a one-time link to /token that mints a token. For
// an address without an account it creates a shadow account (tier free,
// address unverified, provisioned by TokenPageCreator) that opening the link
// claims: asking proves nothing, so what it creates stays claimable and
// holds no token until the address is proven. The answer is the same either
// way, so the page reveals nothing about who has an account.
func RequestTokenLink(ctx context.Context, client *ent.Client, address string, opts Options) error {
	address, err := checkEmail("email", address)
	if err != nil {
		return err
	}
	return store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		sys := rule.AsSystem(ctx)
		u, err := c.User.Query().Where(user.Email(address)).Only(sys)
		if ent.IsNotFound(err) {
			u, err = c.User.Create().SetEmail(address).SetSubscriptionsTier(user.SubscriptionsTierFree).
				SetProvisionedBySourceID(TokenPageCreator).Save(sys)
		}
		if err != nil {
			return err
		}
		token, err := opts.Accounts.IssueLink(ctx, u.ID, logintoken.PurposeSignIn, account.SignInLinkTTL)
		if err != nil {
			return err
		}
		link := opts.publicURL() + TokenPath + "?t=" + url.QueryEscape(token)
		text := fmt.Sprintf("Hello,\n\nOpen this link to create a Kordi token for your AI client (Claude, Cursor, Raycast or any MCP client):\n\n%s\n\n"+
			"The link works once, within %d minutes. If you did not ask for it, ignore this email: nobody can get a token without opening it.\n",
			link, int(account.SignInLinkTTL.Minutes()))
		return c.OutboxMessage.Create().SetKind(MessageTokenLink).SetToAddress(u.Email).
			SetSubject("Your Kordi token link").SetTextBody(text).SetNextAttemptAt(opts.now()).Exec(sys)
	})
}

// RedeemTokenLink spends a /token link and mints a 90-day kordi_ token for
// its person. Opening the link proves the address, so spending it claims a
// shadow account (the page's own, or a partner's, whose tokens are revoked)
// exactly as a claim link would (account.Service.SpendLink).
func RedeemTokenLink(ctx context.Context, client *ent.Client, accounts *account.Service, linkToken string, now time.Time) (*CreatedUserToken, error) {
	var out *CreatedUserToken
	err := store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		u, err := accounts.SpendLink(ctx, linkToken, logintoken.PurposeSignIn)
		if err != nil {
			return err
		}
		out, err = mintUserToken(ctx, c, u.ID, "Created at /token on "+now.UTC().Format(time.DateOnly), nil, now)
		return err
	})
	return out, err
}
