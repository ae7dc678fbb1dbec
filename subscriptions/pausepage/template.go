package pausepage

import "html/template"

// pageTemplate is every state of the page: a subscription with its button,
// the confirmation, or a refusal (Message only). Kordi's colours; the
// stylesheet is admitted by nonce, so the CSP stays default-src 'none'.
var pageTemplate = template.Must(template.New("pause").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} · Kordi</title>
<style nonce="{{.Nonce}}">
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827; font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { background: #0f766e; color: #ffffff; padding: 16px 24px; font-size: 18px; font-weight: 600; }
main { max-width: 560px; margin: 0 auto; padding: 24px; }
.card { background: #fff; border-radius: 8px; padding: 24px; margin: 16px 0; }
h1 { font-size: 22px; margin: 0 0 8px; }
.muted { color: #6b7280; }
button { background: #0f766e; color: #fff; border: 0; border-radius: 6px; padding: 12px 24px; font: inherit; font-weight: 600; cursor: pointer; }
</style>
</head>
<body>
<header>Kordi</header>
<main>
<div class="card">
<h1>{{.Title}}</h1>
{{- if .Name}}
<p class="muted">{{.Name}} · {{.Price}}</p>
{{- end}}
{{- if .Message}}
<p>{{.Message}}</p>
{{- end}}
{{- if and .Name (not .Cancelled) (not .Done)}}
{{- if .PausedUntil}}
<p>Already paused {{.PausedUntil}}. Pausing again never shortens a pause: it lasts 30 days from today only if that is later.</p>
{{- else}}
<p>Pausing marks {{.Name}} as paused in your subscription memory for 30 days, so your assistant stops counting it and reminds you when the pause is over.</p>
{{- end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit">Pause for 30 days</button>
</form>
{{- end}}
</div>
<p class="muted">This page came from a pause link Kordi sent you. No sign-in needed; the link works for 7 days.</p>
</main>
</body>
</html>
`))
