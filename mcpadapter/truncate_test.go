package mcpadapter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/credential"
)

func TestTruncate(t *testing.T) {
	items := func(n int, size int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = object{{"name", strings.Repeat("é", size)}}
		}
		return out
	}
	page := func(list []any) object {
		return object{{"items", list}, {"total", len(list)}, {"has_more", false}}
	}
	t.Run("fits: unchanged", func(t *testing.T) {
		in := page(items(3, 10))
		if got := truncate(in, 1000); chars(got) != chars(in) || got.get(truncatedKey) != nil {
			t.Errorf("truncate = %v", got)
		}
	})
	t.Run("over: trailing items dropped until it fits", func(t *testing.T) {
		in := page(items(100, 100)) // ~11k characters of 2 bytes each: counted as characters
		got := truncate(in, 5000)
		kept := got.get("items").([]any)
		if n := chars(got); n > 5000 || got.get(truncatedKey) != true || len(kept) == 0 || len(kept) == 100 {
			t.Fatalf("%d chars, %d items, truncated=%v", n, len(kept), got.get(truncatedKey))
		}
		// As many as fit: one more would not.
		more := append(object{}, got...)
		more[0].value = in.get("items").([]any)[:len(kept)+1]
		if chars(more) <= 5000 {
			t.Errorf("kept %d items but %d fit", len(kept), len(kept)+1)
		}
		if got.get("total") != 100 || len(in.get("items").([]any)) != 100 {
			t.Error("the other members or the input changed")
		}
	})
	t.Run("longest list first", func(t *testing.T) {
		in := object{{"a", items(2, 10)}, {"b", items(50, 50)}}
		got := truncate(in, 1500)
		if len(got.get("a").([]any)) != 2 || len(got.get("b").([]any)) >= 50 || chars(got) > 1500 {
			t.Errorf("a=%d b=%d chars=%d", len(got.get("a").([]any)), len(got.get("b").([]any)), chars(got))
		}
	})
	t.Run("no list: flagged, unchanged otherwise", func(t *testing.T) {
		in := object{{"text", strings.Repeat("x", 200)}}
		if got := truncate(in, 100); got.get(truncatedKey) != true || got.get("text") != in.get("text") {
			t.Errorf("truncate = %v", got)
		}
	})
}

func TestStripIdentityHeaders(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"X-Rekomi-MCP-Identity", "X-Tandem-Org", "X-Tandem-Dev-Org", "X-Kordi-User-Id", "x-kordi-admin",
		"X-User-Id", "X-User-Email", "X-Forwarded-User", "X-Forwarded-Email", "X-Remote-User", "Remote-User", "X-Auth-Request-User"} {
		h.Set(k, "bob")
	}
	keep := []string{"Authorization", "Content-Type", "Accept", "Mcp-Protocol-Version", "X-Forwarded-For", "Origin"}
	for _, k := range keep {
		h.Set(k, "v")
	}
	stripIdentityHeaders(h)
	if len(h) != len(keep) {
		t.Errorf("after stripping: %v, want only %v", h, keep)
	}
}

func TestUserTokenRule(t *testing.T) {
	kordi, _ := credential.New(credential.KindUserToken)
	clerk, _ := credential.New(credential.KindPartnerUserToken)
	mcpTok, _ := credential.New(credential.KindMCP)
	for _, c := range []struct {
		name, target, authz, want string
		ok                        bool
	}{
		{"bearer", "/mcp", "Bearer " + kordi, kordi, true},
		{"partner token", "/mcp", "Bearer " + clerk, clerk, true},
		{"legacy query", "/mcp?token=" + kordi + "&x=1", "", kordi, true},
		{"percent-encoded key and value", "/mcp?%74oken=" + pctEncode(kordi) + "&x=1", "", kordi, true},
		{"percent-encoded key, partner token", "/mcp?x=1&%74%6F%6Ben=" + pctEncode(clerk), "", clerk, true},
		{"another case of the key is not accepted but dropped", "/mcp?TOKEN=" + kordi + "&x=1", "", "", false},
		{"unparsable query", "/mcp?token=" + kordi + "&%zz", "", "", false},
		{"header wins over query", "/mcp?token=" + clerk, "Bearer " + kordi, kordi, true},
		{"bad header, good query", "/mcp?token=" + kordi, "Basic abc", "", false},
		{"programs token", "/mcp", "Bearer " + mcpTok, "", false},
		{"look-alike", "/mcp", "Bearer " + kordi[:len(kordi)-1] + "x", "", false},
		{"none", "/mcp", "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, c.target, nil)
			if c.authz != "" {
				r.Header.Set("Authorization", c.authz)
			}
			got, err := UserToken(r)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("UserToken = %q, %v", got, err)
			}
			if err != nil && (strings.Contains(err.Error(), kordi) || strings.Contains(err.Error(), clerk)) {
				t.Errorf("the error quotes the token: %v", err)
			}
			dropQueryToken(r)
			for _, s := range []string{r.URL.String(), r.URL.RawQuery, r.RequestURI} {
				if u, _ := url.QueryUnescape(s); strings.Contains(strings.ToLower(u), "token") || strings.Contains(u, kordi) || strings.Contains(u, clerk) {
					t.Errorf("after dropQueryToken: %s %s", r.URL, r.RequestURI)
				}
			}
			if strings.Contains(c.target, "x=1") && r.URL.Query().Get("x") != "1" {
				t.Errorf("other parameters lost: %s", r.URL)
			}
		})
	}
}

// pctEncode writes every byte of s as %XX, as a client evading a plain
// string match might.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// A truncated page must not say nothing follows: it says has_more and the
// offset of the first item left out, in the style of its siblings.
func TestTruncatedPageSaysWhereTheRestStarts(t *testing.T) {
	items := make([]any, 40)
	for i := range items {
		items[i] = object{{"name", strings.Repeat("x", 100)}}
	}
	for _, c := range []struct{ hasMore, next string }{{"has_more", "next_offset"}, {"hasMore", "nextOffset"}} {
		t.Run(c.hasMore, func(t *testing.T) {
			in := object{{"items", items}, {"total", json.Number("40")}, {"offset", json.Number("10")},
				{"limit", json.Number("40")}, {c.hasMore, false}}
			got := truncate(in, 2000)
			kept := len(got.get("items").([]any))
			if kept == 0 || kept == 40 || chars(got) > 2000 {
				t.Fatalf("kept %d items in %d chars", kept, chars(got))
			}
			if got.get(c.hasMore) != true {
				t.Errorf("%s = %v, want true", c.hasMore, got.get(c.hasMore))
			}
			if n, ok := got.get(c.next).(int64); !ok || n != int64(10+kept) {
				t.Errorf("%s = %#v, want %d (offset + kept)", c.next, got.get(c.next), 10+kept)
			}
			if in.get(c.hasMore) != false || in.get(c.next) != nil {
				t.Errorf("the input changed: %v", in)
			}
			// Just as many fit as before: the added members count.
			more := append(object{}, got...)
			more[0].value = items[:kept+1]
			more = replace(more, c.next, int64(10+kept+1))
			if chars(more) <= 2000 {
				t.Errorf("kept %d items but %d fit", kept, kept+1)
			}
		})
	}
	t.Run("not a page: no next_offset", func(t *testing.T) {
		got := truncate(object{{"items", items}, {"has_more", false}}, 2000)
		if got.get("next_offset") != nil || got.get("has_more") != false {
			t.Errorf("truncate = %v", got)
		}
	})
	t.Run("output schema declares next_offset", func(t *testing.T) {
		s := object{{"type", "object"}, {"properties", object{{"items", object{{"type", "array"}}},
			{"offset", object{{"type", "integer"}}}, {"limit", object{{"type", "integer"}}}, {"has_more", object{{"type", "boolean"}}}}}}
		props := withTruncated(s, 2000).get("properties").(object)
		if p, _ := props.get("next_offset").(object); p.get("type") != "integer" {
			t.Errorf("properties %v lack next_offset", props)
		}
	})
}
