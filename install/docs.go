package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// DocsRoute is where the install docs live: the index at DocsRoute, one
// page per platform at DocsRoute/{platformKey}. Every recipe's docsURL
// points here.
const DocsRoute = "/docs/install"

// DocsHandler serves the install docs for the embedded recipes, with links
// and snippets pointing at publicURL (Tandem's base URL):
//
//	GET /docs/install        every platform grouped by category, and the
//	                         generic three-path guide for any other platform
//	GET /docs/install/{key}  one platform's recipe: steps, gotchas, how a
//	                         sale is credited, the vendor's docs
//
// A key matched by alias or spelling ("woo", "Next.js") redirects to the
// platform's page; an unknown key answers a 404 page linking the index.
// Pages are rendered once, here, and served with an ETag. Mount it at
// DocsRoute (it reads the full request path), e.g. with chi:
// r.Mount(install.DocsRoute, install.DocsHandler(publicURL)).
func DocsHandler(publicURL string) http.Handler {
	return Recipes().DocsHandler(publicURL)
}

// DocsHandler serves the install docs of reg; see the package function.
func (reg *RecipeRegistry) DocsHandler(publicURL string) http.Handler {
	publicURL = strings.TrimRight(publicURL, "/")
	d := &docs{reg: reg, publicURL: publicURL, pages: map[string]*docsPage{}}
	d.index = d.mustRender("index", d.indexData())
	for _, p := range reg.platforms {
		r := reg.recipes[p.PlatformKey].recipe(publicURL, false)
		d.pages[p.PlatformKey] = d.mustRender("recipe", d.recipeData(r))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DocsRoute, d.serveIndex)
	mux.HandleFunc("GET "+DocsRoute+"/{key...}", d.servePlatform)
	return mux // which answers other methods 405 with Allow: GET, HEAD
}

type docs struct {
	reg       *RecipeRegistry
	publicURL string
	index     *docsPage
	pages     map[string]*docsPage // by platformKey
}

// docsPage is a rendered page.
type docsPage struct {
	body []byte
	etag string
}

func (d *docs) serveIndex(w http.ResponseWriter, r *http.Request) {
	d.serve(w, r, d.index)
}

func (d *docs) servePlatform(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("key")
	if p, ok := d.pages[raw]; ok {
		d.serve(w, r, p)
		return
	}
	// A trailing slash, another spelling or an alias: redirect to the page.
	key := strings.TrimSuffix(raw, "/")
	if key == "" {
		http.Redirect(w, r, DocsRoute, http.StatusMovedPermanently)
		return
	}
	if !strings.Contains(key, "/") && validateRecipeKey(key) == nil {
		if canonical, ok := d.reg.lookup[normalizeRecipeKey(key)]; ok {
			http.Redirect(w, r, DocsRoute+"/"+canonical, http.StatusMovedPermanently)
			return
		}
	}
	d.notFound(w, r, key)
}

func (d *docs) serve(w http.ResponseWriter, r *http.Request, p *docsPage) {
	docsHeaders(w)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("ETag", p.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.body))
}

func (d *docs) notFound(w http.ResponseWriter, r *http.Request, key string) {
	if utf8.RuneCountInString(key) > RecipePlatformKeyMaxLen {
		key = string([]rune(key)[:RecipePlatformKeyMaxLen]) + "…"
	}
	var buf bytes.Buffer
	if err := docsTemplates.ExecuteTemplate(&buf, "notfound", docsNotFound{
		docsLayout: docsLayout{Title: "No install guide for this platform", NoIndex: true},
		Key:        strings.ToValidUTF8(key, "�"),
	}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	docsHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func docsHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	// The pages load nothing: no script, no image, no font, only the one
	// inline stylesheet, allowed by its hash.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src '"+docsStyleHash+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
}

func (d *docs) mustRender(name string, data any) *docsPage {
	var buf bytes.Buffer
	if err := docsTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		// The templates are fixed and the recipes validated: a failure here
		// is a bug, found by the tests before any request.
		panic("install: rendering the " + name + " docs page: " + err.Error())
	}
	sum := sha256.Sum256(buf.Bytes())
	return &docsPage{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// What the templates render.
type (
	docsLayout struct {
		Title     string
		Canonical string // the page's address under the public URL
		NoIndex   bool
	}
	docsIndex struct {
		docsLayout
		Count    int
		Groups   []docsGroup
		Fallback docsRecipe
	}
	docsGroup struct {
		Label     string
		Platforms []docsPlatformLink
	}
	docsPlatformLink struct {
		Key, Name, Path string
		Fire            string
		Badges          []string
	}
	docsRecipe struct {
		docsLayout
		Key, Name     string
		Category      string
		CategoryLabel string
		Fire          string
		FireNote      string
		Badges        []string
		Steps         []docsStep
		Gotchas       [][]docsBlock
		FirePath      []docsBlock
		VendorDocsURL string
	}
	docsStep struct {
		Title  string
		Detail []docsBlock
	}
	// docsBlock is a paragraph (Code false), made of runs of text and
	// inline code, or a code listing (Code true, Text the lines).
	docsBlock struct {
		Code bool
		Text string
		Runs []docsRun
	}
	docsRun struct {
		Code bool
		Text string
	}
	docsNotFound struct {
		docsLayout
		Key string
	}
)

var docsCategoryLabels = map[string]string{
	RecipeCategoryEcommerce:      "E-commerce",
	RecipeCategoryWebsiteBuilder: "Website builders",
	RecipeCategoryPayments:       "Payments and billing",
	RecipeCategoryCoursePlatform: "Course platforms",
	RecipeCategoryMembership:     "Membership",
	RecipeCategoryFramework:      "Frameworks",
	RecipeCategoryCMS:            "CMS",
}

var docsFireLabels = map[string]string{
	RecipeFireStripeWebhook: "Stripe webhooks",
	RecipeFirePaddleWebhook: "Paddle webhooks",
	RecipeFirePixel:         "Browser pixel",
	RecipeFireS2SAPI:        "Server-to-server API",
	RecipeFireCoupon:        "Coupon codes",
}

var docsFireNotes = map[string]string{
	RecipeFireStripeWebhook: "Your connected Stripe account reports each sale to Tandem.",
	RecipeFirePaddleWebhook: "Paddle's notifications carry each sale to Tandem.",
	RecipeFirePixel:         "The browser reports each sale from the page shown after payment, with your pixel public key.",
	RecipeFireS2SAPI:        "Your server posts each sale to Tandem's API, signed with an API key's secret.",
	RecipeFireCoupon:        "The affiliate's discount code names who referred each order.",
}

func docsBadges(p InstallPlatform) []string {
	var b []string
	if p.RequiresStripeConnect {
		b = append(b, "Needs Stripe Connect")
	}
	if p.RequiresAPIKey {
		b = append(b, "Needs an API key")
	}
	return b
}

func (d *docs) layout(title, path string) docsLayout {
	return docsLayout{Title: title, Canonical: d.publicURL + path}
}

func (d *docs) indexData() docsIndex {
	idx := docsIndex{docsLayout: d.layout("Install Tandem on your site", DocsRoute), Count: len(d.reg.platforms)}
	for _, cat := range RecipeCategories {
		g := docsGroup{Label: docsCategoryLabels[cat]}
		for _, p := range d.reg.platforms { // sorted by display name
			if p.Category == cat {
				g.Platforms = append(g.Platforms, docsPlatformLink{
					Key: p.PlatformKey, Name: p.DisplayName, Path: DocsRoute + "/" + p.PlatformKey,
					Fire: docsFireLabels[p.ConversionFire], Badges: docsBadges(p),
				})
			}
		}
		if len(g.Platforms) > 0 {
			idx.Groups = append(idx.Groups, g)
		}
	}
	idx.Fallback = d.recipeData(d.reg.fallback.recipe(d.publicURL, true))
	return idx
}

func (d *docs) recipeData(r *InstallRecipe) docsRecipe {
	out := docsRecipe{
		docsLayout: d.layout("Install Tandem on "+r.DisplayName, DocsRoute+"/"+r.PlatformKey),
		Key:        r.PlatformKey, Name: r.DisplayName, Category: r.Category,
		CategoryLabel: docsCategoryLabels[r.Category],
		Fire:          docsFireLabels[r.ConversionFire], FireNote: docsFireNotes[r.ConversionFire],
		Badges:   docsBadges(r.Platform()),
		FirePath: docsBlocks(r.ConversionFirePath),
	}
	if r.VendorDocsURL != nil {
		out.VendorDocsURL = *r.VendorDocsURL
	}
	for _, s := range r.Steps {
		out.Steps = append(out.Steps, docsStep{Title: s.Title, Detail: docsBlocks(s.Detail)})
	}
	for _, g := range r.Gotchas {
		out.Gotchas = append(out.Gotchas, docsBlocks(g))
	}
	return out
}

// docsBlocks splits a recipe text into paragraphs and code listings. A
// recipe text is prose whose later lines may be code: the first line is
// prose, and a later line is prose when it reads as a sentence (a letter
// first, a full stop last, at least six words, no code punctuation);
// consecutive other lines form one listing.
func docsBlocks(text string) []docsBlock {
	lines := strings.Split(text, "\n")
	var blocks []docsBlock
	var code []string
	flush := func() {
		for len(code) > 0 && strings.TrimSpace(code[len(code)-1]) == "" {
			code = code[:len(code)-1]
		}
		if len(code) > 0 {
			blocks = append(blocks, docsBlock{Code: true, Text: strings.Join(code, "\n")})
		}
		code = nil
	}
	for i, line := range lines {
		if i == 0 || docsSentence(line) {
			flush()
			if strings.TrimSpace(line) != "" {
				blocks = append(blocks, docsBlock{Runs: docsRuns(line)})
			}
			continue
		}
		if len(code) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		code = append(code, line)
	}
	flush()
	return blocks
}

var docsCodePunctuation = regexp.MustCompile(`[={}<>"]`)

func docsSentence(line string) bool {
	line = strings.TrimSpace(line)
	r, _ := utf8.DecodeRuneInString(line)
	return len(strings.Fields(line)) >= 6 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') &&
		strings.HasSuffix(line, ".") && !docsCodePunctuation.MatchString(line)
}

// docsInlineCode finds what reads best as code inside a paragraph: an
// inline <script> tag, URLs and API paths, calls and dotted names
// (window.tandem.referral()), snake_case and camelCase identifiers
// (client_reference_id, amountCents, rk_live_…) and header names.
var docsInlineCode = regexp.MustCompile(strings.Join([]string{
	`<script\b[^\n]*?</script>`,
	`https?://[^\s"<>()]*[^\s"<>().,;:]`,
	`/api/v1/[a-z0-9/_-]*[a-z0-9]`,
	`\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+\(\)`,
	`\bwindow(?:\.[A-Za-z_$][\w$]*)+`,
	`\b[a-z][a-z0-9]*(?:_[a-z0-9]*)+…?`,
	`\b[a-z]+[A-Z][A-Za-z0-9]*\b`,
	`\bX-Tandem-[A-Za-z-]*[A-Za-z]`,
}, "|"))

func docsRuns(text string) []docsRun {
	var runs []docsRun
	last := 0
	for _, m := range docsInlineCode.FindAllStringIndex(text, -1) {
		if m[0] > last {
			runs = append(runs, docsRun{Text: text[last:m[0]]})
		}
		runs = append(runs, docsRun{Code: true, Text: text[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(text) {
		runs = append(runs, docsRun{Text: text[last:]})
	}
	return runs
}

// docsStyle is the pages' only stylesheet, inline and allowed by its hash.
const docsStyle = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1d21;--muted:#5b6270;--line:#e3e6ea;--accent:#3b4fd8;--code-bg:#f4f5f7;--pre-bg:#16181d;--pre-fg:#e8eaee;--badge:#eef0fd}
@media (prefers-color-scheme:dark){:root{--bg:#121418;--fg:#e6e8ec;--muted:#a0a7b4;--line:#2a2e36;--accent:#93a2ff;--code-bg:#1f232a;--pre-bg:#0b0c0f;--badge:#232845}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.site{border-bottom:1px solid var(--line)}
header.site div,main,footer{max-width:48rem;margin:0 auto;padding:0 1.25rem}
header.site div{display:flex;gap:1rem;align-items:center;height:3.25rem}
header.site a{color:var(--fg);font-weight:600;text-decoration:none}
header.site span{color:var(--muted)}
main{padding-top:1.5rem;padding-bottom:3rem}
h1{font-size:2rem;line-height:1.25;margin:.25rem 0 .75rem}
h2{font-size:1.35rem;margin:2.25rem 0 .75rem;padding-top:.5rem;border-top:1px solid var(--line)}
h3{font-size:1.05rem;margin:0 0 .35rem}
a{color:var(--accent)}
p{margin:.5rem 0}
.lede{font-size:1.1rem;color:var(--muted)}
.crumbs{font-size:.9rem;color:var(--muted)}
.crumbs a{color:var(--muted)}
.facts{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0;padding:0;list-style:none}
.badge{display:inline-block;background:var(--badge);border-radius:999px;padding:.1rem .65rem;font-size:.85rem}
ol.steps{counter-reset:step;list-style:none;padding:0;margin:0}
ol.steps>li{counter-increment:step;position:relative;padding:0 0 1.25rem 2.75rem}
ol.steps>li::before{content:counter(step);position:absolute;left:0;top:0;width:1.9rem;height:1.9rem;border-radius:50%;background:var(--accent);color:var(--bg);font-weight:700;display:flex;align-items:center;justify-content:center;font-size:.95rem}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code-bg);border-radius:4px;padding:.1em .3em;overflow-wrap:anywhere}
pre{background:var(--pre-bg);color:var(--pre-fg);border-radius:8px;padding:.9rem 1rem;overflow-x:auto;margin:.6rem 0}
pre code{background:none;padding:0;color:inherit;font-size:.85rem;overflow-wrap:normal}
ul.gotchas{padding-left:1.25rem}
ul.gotchas li{margin:.4rem 0}
.callout{border-left:4px solid var(--accent);background:var(--code-bg);padding:.6rem 1rem;border-radius:0 6px 6px 0}
.groups{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem 1.5rem}
.groups h3{margin-top:.5rem;color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.05em}
.groups ul{list-style:none;padding:0;margin:0}
.groups li{padding:.3rem 0;border-bottom:1px solid var(--line)}
.groups li a{font-weight:600;text-decoration:none}
.groups li small{display:block;color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;padding-bottom:2rem}
`

// docsStyleHash allows docsStyle in the Content-Security-Policy.
var docsStyleHash = func() string {
	sum := sha256.Sum256([]byte(docsStyle))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

const docsTemplateText = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Tandem docs</title>
{{if .NoIndex}}<meta name="robots" content="noindex">{{end}}
{{- if .Canonical}}<link rel="canonical" href="{{.Canonical}}">{{end}}
<style>{{style}}</style>
</head>
<body>
<header class="site"><div><a href="/docs/install">Tandem</a><span>Install docs</span></div></header>
<main>
{{end}}

{{define "foot"}}</main>
<footer><p>These guides are also what Tandem's AI assistant tools return (list_install_platforms, get_install_recipe). Conversions from every path start Pending, for you to review.</p></footer>
</body>
</html>
{{end}}

{{define "blocks"}}{{range .}}{{if .Code}}<pre><code>{{.Text}}</code></pre>{{else}}<p>{{range .Runs}}{{if .Code}}<code>{{.Text}}</code>{{else}}{{.Text}}{{end}}{{end}}</p>{{end}}{{end}}{{end}}

{{define "steps"}}<ol class="steps">
{{range .}}<li><h3>{{.Title}}</h3>{{template "blocks" .Detail}}</li>
{{end}}</ol>{{end}}

{{define "index"}}{{template "head" .}}
<h1>Install Tandem on your site</h1>
<p class="lede">Tandem credits each sale to the affiliate who referred it. Pick the platform your site runs on for a step-by-step guide: {{.Count}} platforms have one. Every guide starts with the same snippet; they differ in how the sale reaches Tandem.</p>
<h2>Guides by platform</h2>
<div class="groups">
{{range .Groups}}<section><h3>{{.Label}}</h3><ul>
{{range .Platforms}}<li><a href="{{.Path}}">{{.Name}}</a><small>{{.Fire}}{{range .Badges}} · {{.}}{{end}}</small></li>
{{end}}</ul></section>
{{end}}</div>

<h2 id="any-platform">Any other platform</h2>
<p>No guide for your platform? Every site can still use one of three paths: Stripe webhooks, the browser pixel, or the server-to-server API.</p>
{{with .Fallback}}{{template "steps" .Steps}}
<h3>How a sale is credited</h3>
<div class="callout">{{template "blocks" .FirePath}}</div>
<h3>Gotchas</h3>
<ul class="gotchas">{{range .Gotchas}}<li>{{template "blocks" .}}</li>{{end}}</ul>{{end}}
{{template "foot" .}}{{end}}

{{define "recipe"}}{{template "head" .}}
<p class="crumbs"><a href="/docs/install">Install docs</a> › {{.CategoryLabel}}</p>
<h1>Install Tandem on {{.Name}}</h1>
<ul class="facts"><li class="badge">{{.CategoryLabel}}</li><li class="badge">Sales via {{.Fire}}</li>{{range .Badges}}<li class="badge">{{.}}</li>{{end}}</ul>
<p class="lede">{{.FireNote}}</p>

<h2>Steps</h2>
{{template "steps" .Steps}}

<h2>How a sale is credited</h2>
<div class="callout">{{template "blocks" .FirePath}}</div>

<h2>Gotchas</h2>
<ul class="gotchas">{{range .Gotchas}}<li>{{template "blocks" .}}</li>{{end}}</ul>

{{if .VendorDocsURL}}<h2>{{.Name}} documentation</h2>
<p><a href="{{.VendorDocsURL}}" rel="noopener noreferrer">{{.VendorDocsURL}}</a></p>{{end}}

<p><a href="/docs/install">← All platforms</a> · <a href="/docs/install#any-platform">Any other platform</a></p>
{{template "foot" .}}{{end}}

{{define "notfound"}}{{template "head" .}}
<h1>No install guide for “{{.Key}}”</h1>
<p class="lede">Tandem has no guide under that name. Find your platform in the <a href="/docs/install">list of install guides</a>; if it is not there, the <a href="/docs/install#any-platform">guide for any other platform</a> covers every site.</p>
{{template "foot" .}}{{end}}
`

var docsTemplates = template.Must(template.New("docs").Funcs(template.FuncMap{
	// The stylesheet is a constant of this file, so it is trusted CSS.
	"style": func() template.CSS { return template.CSS(docsStyle) },
}).Parse(docsTemplateText))
