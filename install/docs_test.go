package install_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem/install"
)

type docsReply struct {
	status int
	header http.Header
	body   string
}

func docsGet(t *testing.T, h http.Handler, method, path string, header ...string) docsReply {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return docsReply{status: rec.Code, header: rec.Result().Header, body: string(body)}
}

var (
	docsH3      = regexp.MustCompile(`(?s)<h3>(.*?)</h3>`)
	docsTags    = regexp.MustCompile(`(?s)<[^>]*>`)
	docsStyleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

// docsText is the page's text as a reader sees it: tags dropped, entities decoded.
func docsText(body string) string { return html.UnescapeString(docsTags.ReplaceAllString(body, "")) }

// docsMissingLine returns the first line of detail that text lacks, or "".
func docsMissingLine(text, detail string) string {
	for _, line := range strings.Split(detail, "\n") {
		if strings.TrimSpace(line) != "" && !strings.Contains(text, line) {
			return line
		}
	}
	return ""
}

// Every recipe's docsURL is a page that serves that recipe: its name, every
// step, every gotcha, how a sale is credited and the vendor's docs.
func TestDocsServeEveryRecipe(t *testing.T) {
	h := install.DocsHandler(recipeTestURL + "/")
	reg := install.Recipes()
	index := docsGet(t, h, http.MethodGet, install.DocsRoute)
	if index.status != http.StatusOK {
		t.Fatalf("index: %d", index.status)
	}
	for _, p := range reg.Platforms() {
		t.Run(p.PlatformKey, func(t *testing.T) {
			r, err := reg.Recipe(p.PlatformKey, recipeTestURL)
			if err != nil {
				t.Fatal(err)
			}
			path, ok := strings.CutPrefix(r.DocsURL, recipeTestURL)
			if !ok {
				t.Fatalf("docsURL %q is not under %s", r.DocsURL, recipeTestURL)
			}
			page := docsGet(t, h, http.MethodGet, path)
			if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s: %d %s", path, page.status, page.header.Get("Content-Type"))
			}
			text := docsText(page.body)
			var titles []string
			for _, m := range docsH3.FindAllStringSubmatch(page.body, -1) {
				titles = append(titles, html.UnescapeString(m[1]))
			}
			for _, s := range r.Steps {
				if !slices.Contains(titles, s.Title) {
					t.Errorf("step %q is not a heading of the page (headings %q)", s.Title, titles)
				}
				if line := docsMissingLine(text, s.Detail); line != "" {
					t.Errorf("step %q: its line %.80q is not on the page", s.Title, line)
				}
			}
			for _, want := range append([]string{"Install Tandem on " + r.DisplayName, r.ConversionFirePath}, r.Gotchas...) {
				if !strings.Contains(text, want) {
					t.Errorf("the page lacks %.80q", want)
				}
			}
			if r.VendorDocsURL != nil && !strings.Contains(page.body, `href="`+*r.VendorDocsURL+`"`) {
				t.Errorf("no link to the vendor docs %s", *r.VendorDocsURL)
			}
			if !strings.Contains(page.body, `<link rel="canonical" href="`+r.DocsURL+`">`) {
				t.Errorf("no canonical link to %s", r.DocsURL)
			}
			// The index links the page, under the platform's name.
			if !strings.Contains(index.body, `<a href="`+path+`">`+html.EscapeString(r.DisplayName)+`</a>`) {
				t.Errorf("the index does not link %s as %q", path, r.DisplayName)
			}
		})
	}
	// The fallback's docsURL is the index, which carries the generic guide.
	fb, _ := reg.Recipe("bigcommerce", recipeTestURL)
	if fb.DocsURL != recipeTestURL+install.DocsRoute {
		t.Fatalf("fallback docsURL %s", fb.DocsURL)
	}
	text := docsText(index.body)
	for _, want := range append([]string{"Any other platform", fb.ConversionFirePath}, fb.Gotchas...) {
		if !strings.Contains(text, want) {
			t.Errorf("the index lacks %.80q", want)
		}
	}
	for _, s := range fb.Steps {
		if !strings.Contains(text, s.Title) || docsMissingLine(text, s.Detail) != "" {
			t.Errorf("the index lacks the generic step %q", s.Title)
		}
	}
	for _, label := range []string{"E-commerce", "Website builders", "Payments and billing", "Course platforms", "Membership", "Frameworks", "CMS"} {
		if !strings.Contains(index.body, "<h3>"+label+"</h3>") {
			t.Errorf("the index has no %s group", label)
		}
	}
}

// Code in a recipe is shown as a listing, and prose after it as prose; bits
// of code inside a sentence are marked as code.
func TestDocsRenderCode(t *testing.T) {
	h := install.DocsHandler(recipeTestURL)
	rails := docsGet(t, h, http.MethodGet, install.DocsRoute+"/rails").body
	for _, want := range []string{
		"<pre><code>body = { slug: order.tandem_ref,",
		"path = &#34;/api/v1/conversions&#34;",
		"<code>" + recipeTestURL + "/api/v1/conversions</code>",
		"<code>X-Tandem-Signature</code>",
		"<code>orderId</code>",
	} {
		if !strings.Contains(rails, want) {
			t.Errorf("rails page lacks %s", want)
		}
	}
	bubble := docsGet(t, h, http.MethodGet, install.DocsRoute+"/bubble").body
	if !strings.Contains(bubble, "&lt;/script&gt;</code></pre><p>A plugin that runs JavaScript") {
		t.Error("bubble: the sentence after the listing is not a paragraph of its own")
	}
}

// Recipe text is escaped everywhere it lands: a recipe is content, and the
// pages allow no script at all.
func TestDocsEscaping(t *testing.T) {
	evil := `<script>alert(1)</script>`
	recipe := `{"platformKey": "acme", "displayName": "Acme ` + evil + `", "aliases": [],
	"category": "ecommerce", "conversionFire": "pixel", "requiresStripeConnect": false, "requiresApiKey": false,
	"vendorDocsURL": "https://acme.test/docs?a=1&b=\"><img src=x onerror=alert(1)>",
	"steps": [{"title": "Step ` + evil + `", "detail": "Paste ` + evil + ` into {PUBLIC_URL}/t.js\nx = \"</code></pre>` + evil + `\""},
		{"title": "b", "detail": "b"}, {"title": "c", "detail": "c"}],
	"gotchas": ["g ` + evil + `"], "conversionFirePath": "p ` + evil + `"}`
	reg, err := install.LoadRecipeRegistry(fstest.MapFS{
		"acme.json": {Data: []byte(recipe)}, "_fallback.json": {Data: []byte(validFallback)},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := reg.DocsHandler(`https://tandem.test/"><script>`)
	for _, path := range []string{install.DocsRoute, install.DocsRoute + "/acme", install.DocsRoute + "/" + evil} {
		page := docsGet(t, h, http.MethodGet, path)
		if strings.Contains(strings.ToLower(page.body), "<script") || strings.Contains(page.body, "<img") {
			t.Errorf("%s: unescaped markup in the page:\n%s", path, page.body)
		}
	}
	page := docsGet(t, h, http.MethodGet, install.DocsRoute+"/acme").body
	for _, want := range []string{"Acme &lt;script&gt;alert(1)&lt;/script&gt;", "<h3>Step &lt;script&gt;", `href="https://acme.test/docs?a=1&amp;b=%22%3e%3cimg`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestDocsRoutes(t *testing.T) {
	h := install.DocsHandler(recipeTestURL)
	for name, tc := range map[string]struct {
		method, path string
		status       int
		location     string
	}{
		"alias":          {http.MethodGet, install.DocsRoute + "/woo", http.StatusMovedPermanently, install.DocsRoute + "/woocommerce"},
		"other spelling": {http.MethodGet, install.DocsRoute + "/Next.js", http.StatusMovedPermanently, install.DocsRoute + "/nextjs"},
		"trailing slash": {http.MethodGet, install.DocsRoute + "/rails/", http.StatusMovedPermanently, install.DocsRoute + "/rails"},
		"index slash":    {http.MethodGet, install.DocsRoute + "/", http.StatusMovedPermanently, install.DocsRoute},
		"unknown":        {http.MethodGet, install.DocsRoute + "/bigcommerce", http.StatusNotFound, ""},
		"nested":         {http.MethodGet, install.DocsRoute + "/rails/extra", http.StatusNotFound, ""},
		"post":           {http.MethodPost, install.DocsRoute + "/rails", http.StatusMethodNotAllowed, ""},
		"head":           {http.MethodHead, install.DocsRoute + "/rails", http.StatusOK, ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := docsGet(t, h, tc.method, tc.path)
			if r.status != tc.status || r.header.Get("Location") != tc.location {
				t.Fatalf("got %d Location %q, want %d %q", r.status, r.header.Get("Location"), tc.status, tc.location)
			}
		})
	}
	nf := docsGet(t, h, http.MethodGet, install.DocsRoute+"/bigcommerce")
	if !strings.Contains(nf.body, `<a href="/docs/install">`) || !strings.Contains(nf.body, "bigcommerce") ||
		!strings.Contains(nf.body, `<meta name="robots" content="noindex">`) {
		t.Fatalf("404 page does not name the key and link the index:\n%s", nf.body)
	}

	// Pages revalidate by ETag, and their one stylesheet is what the
	// Content-Security-Policy allows.
	page := docsGet(t, h, http.MethodGet, install.DocsRoute+"/stripe")
	etag := page.header.Get("ETag")
	if etag == "" || docsGet(t, h, http.MethodGet, install.DocsRoute+"/stripe", "If-None-Match", etag).status != http.StatusNotModified {
		t.Fatalf("ETag %q does not revalidate", etag)
	}
	m := docsStyleRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no stylesheet")
	}
	sum := sha256.Sum256([]byte(m[1]))
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q does not allow exactly the inline stylesheet", csp)
	}
	if page.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no nosniff")
	}
}
