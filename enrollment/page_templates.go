package enrollment

import (
	"html/template"
	"regexp"
)

var hexColorShape = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// pageHead is the start of every page: the brand's colours in a stylesheet
// that the CSP admits by nonce, and the header band.
const pageHead = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
:root { --brand: {{.Brand.Color}}; --on-brand: {{.Brand.TextColor}}; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827; font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { background: var(--brand); color: var(--on-brand); padding: 16px 24px; font-size: 18px; font-weight: 600; display: flex; align-items: center; gap: 12px; }
header img { height: 32px; }
main { max-width: 880px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 12px; }
.muted { color: #6b7280; }
.card { background: #fff; border-radius: 8px; padding: 20px; margin: 16px 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; background: var(--brand); color: var(--on-brand); font-size: 13px; font-weight: 600; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.stat { background: #fff; border-radius: 8px; padding: 16px; border-top: 4px solid var(--brand); }
.stat b { display: block; font-size: 24px; }
code { background: #f3f4f6; padding: 2px 6px; border-radius: 4px; font-size: 14px; word-break: break-all; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid #e5e7eb; }
th { color: #6b7280; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
</style>
</head>
<body>
<header>{{if .Brand.LogoURL}}<img src="{{.Brand.LogoURL}}" alt="">{{end}}<span>{{.Brand.Name}}</span></header>
<main>
{{end}}`

var problemPage = template.Must(template.New("problem").Parse(pageHead + `{{template "head" .}}
<div class="card">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</div>
</main>
</body>
</html>
`))

var dashboardPage = template.Must(template.New("dashboard").Parse(pageHead + `{{template "head" .}}
<h1>{{.Name}}</h1>
<p class="muted">{{.Campaign}} affiliate program · <span class="badge">{{.Status}}</span></p>
{{if .StatusNote}}<p>{{.StatusNote}}</p>{{end}}

<div class="card">
<h2>Your referral code</h2>
<p><code>{{.Slug}}</code></p>
<p>Add {{range $i, $p := .Params}}{{if $i}} or {{end}}<code>?{{$p}}={{$.Slug}}</code>{{end}} to any link to {{.Brand.Name}}'s site.
Visitors who arrive through such a link, and the customers they become, are credited to you.</p>
<p class="muted">{{.Commission}}</p>
</div>

<div class="stats">
<div class="stat"><span class="muted">Clicks</span><b>{{.Clicks}}</b></div>
<div class="stat"><span class="muted">Signups (leads)</span><b>{{.Leads}}</b></div>
<div class="stat"><span class="muted">Conversions</span><b>{{.Sales}}</b></div>
</div>

<div class="card">
<h2>Commissions</h2>
<table>
<thead><tr><th>Currency</th><th class="num">Pending</th><th class="num">Approved</th><th class="num">Paid</th></tr></thead>
<tbody>
{{range .Totals}}<tr><td>{{.Currency}}</td><td class="num">{{.Pending}}</td><td class="num">{{.Approved}}</td><td class="num">{{.Paid}}</td></tr>
{{end}}</tbody>
</table>
<p class="muted">Pending: not yet confirmed by {{.Brand.Name}}. Approved: confirmed, waiting for a payout. Paid: sent to you.</p>
</div>

<div class="card">
<h2>Recent conversions</h2>
{{if .Recent}}<table>
<thead><tr><th>Date</th><th>Type</th><th>Customer</th><th class="num">Amount</th><th class="num">Commission</th><th>Status</th></tr></thead>
<tbody>
{{range .Recent}}<tr><td>{{.Date}}</td><td>{{.Type}}</td><td>{{.Customer}}</td><td class="num">{{.Amount}}</td><td class="num">{{.Commission}}</td><td>{{.Status}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="muted">No conversions yet. They appear here as soon as a customer you referred buys.</p>{{end}}
</div>
{{if .ValidUntil}}<p class="muted">This link works until {{.ValidUntil}}. Keep it to yourself: anyone with it can see this page.</p>{{end}}
</main>
</body>
</html>
`))
