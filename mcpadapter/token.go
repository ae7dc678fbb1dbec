package mcpadapter

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tandemhq/tandem/credential"
)

// TokenRule finds a request's token and checks its shape without asking the
// API, so a malformed or look-alike token costs one string check. Its error
// tells the client how to send a token.
type TokenRule func(r *http.Request) (string, error)

// MCPBearer is the Programs rule: an rk_mcp_ token in the Authorization
// header, nowhere else.
func MCPBearer(r *http.Request) (string, error) {
	token, ok := credential.Bearer(r.Header.Get("Authorization"))
	if !ok {
		return "", errors.New("send the connection token as Authorization: Bearer rk_mcp_… (mint one under Settings → AI assistant, or with `tandem token create`)")
	}
	if kind, err := credential.Parse(token); err != nil || kind != credential.KindMCP {
		return "", errors.New("the token is not a valid rk_mcp_ connection token: copy it again, or mint a fresh one under Settings → AI assistant")
	}
	return token, nil
}

// UserToken is the Subscriptions rule: a person's kordi_ token (or a
// partner-provisioned clerk_reg_ one) as Authorization: Bearer <token>, or,
// for clients that cannot set headers, the legacy ?token=<token>. A present
// Authorization header wins and is never second-guessed by the query.
func UserToken(r *http.Request) (string, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := credential.Bearer(h)
		if !ok {
			return "", errors.New("send your user token as Authorization: Bearer <token>")
		}
		token = t
	} else if q, ok := queryToken(r.URL.RawQuery); ok {
		token = q
	} else {
		return "", errors.New("no user token: send it as Authorization: Bearer <token> (or, for a client that cannot set headers, ?token=<token>)")
	}
	if kind, err := credential.Parse(token); err != nil || (kind != credential.KindUserToken && kind != credential.KindPartnerUserToken) {
		return "", errors.New("the token is not a valid user token (kordi_… or clerk_reg_…): copy it again, or mint a fresh one")
	}
	return token, nil
}

// queryToken returns the token query parameter.
func queryToken(rawQuery string) (string, bool) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil || !q.Has("token") {
		return "", false
	}
	return q.Get("token"), true
}

// dropQueryToken removes the token query parameter from r, so that nothing
// after the edge (the MCP library's logging, an error that quotes the URL)
// can see it. The request log never writes the query in the first place.
// It decodes the query as queryToken does, so a percent-encoded key
// (?%74oken=) is found too, and drops any case of the key (TOKEN=) though
// only "token" is accepted: such a value is still someone's secret.
func dropQueryToken(r *http.Request) {
	if r.URL.RawQuery == "" {
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// An unparsable query may still hold the token: drop all of it.
		r.URL.RawQuery = ""
		r.RequestURI = r.URL.RequestURI()
		return
	}
	found := false
	for k := range q {
		if strings.EqualFold(k, "token") {
			q.Del(k)
			found = true
		}
	}
	if !found {
		return
	}
	r.URL.RawQuery = q.Encode()
	r.RequestURI = r.URL.RequestURI()
}

// identityHeaderPrefixes name the headers that claim who is calling. A
// client must never choose its identity: the edge drops them all and the
// API trusts only the relay's signature over the request it builds.
var identityHeaderPrefixes = []string{
	"X-Rekomi-", // the relay's own signature, X-Rekomi-MCP-Identity
	"X-Tandem-", // X-Tandem-Org, X-Tandem-Dev-Org, X-Tandem-Signature
	"X-Kordi-",
	"X-User",
	"X-Org-",
	"X-Auth",
	"X-Account-",
	"X-Actor",
	"X-Viewer",
	"X-Admin",
	"X-Partner-",
	"X-Forwarded-User",
	"X-Forwarded-Email",
	"X-Forwarded-Preferred-Username",
	"X-Forwarded-Groups",
	"X-Remote-",
	"Remote-User",
	"X-Email",
}

// stripIdentityHeaders deletes every client-supplied identity header from h.
func stripIdentityHeaders(h http.Header) {
	for name := range h {
		for _, p := range identityHeaderPrefixes {
			if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
				delete(h, name)
				break
			}
		}
	}
}
