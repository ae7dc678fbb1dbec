package mcpadapter

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/viewer"
)

// The API side of the relay. The MCP endpoint (the relay) turns each tool
// call into a signed request to these routes, exactly as the seed's relay
// co-signs calls to the backend; whether the relay runs in this process or
// in another, the request passes through the same identity middleware,
// which verifies X-Rekomi-MCP-Identity and resolves the rk_mcp_ token.
const (
	// OperationsPath is where the API serves tool calls (POST OperationsPath+name).
	OperationsPath = "/api/v1/mcp/tools/"
	// WhoAmIPath answers what the calling token may do (read-only or not).
	WhoAmIPath = "/api/v1/mcp/whoami"
)

// callRequest is the body of a relayed tool call.
type callRequest struct {
	Arguments map[string]any `json:"arguments"`
	// CallID makes every signed request unique: the API refuses a signature
	// it has already seen, and two identical calls within a second would
	// otherwise sign identically.
	CallID string `json:"callId"`
}

// callResponse is the API's answer: the operation's data, or its errors in
// the public form.
type callResponse struct {
	Data   json.RawMessage     `json:"data,omitempty"`
	Errors []graph.PublicError `json:"errors,omitempty"`
}

// API is where one toolset's API half listens and whom it serves: each MCP
// endpoint relays to its own routes, which act only for its own kind of
// viewer, so a Programs token cannot run a Subscriptions tool or the reverse.
type API struct {
	Operations string           // POST Operations+name runs a tool or reads a resource
	Actor      viewer.ActorType // the one kind of viewer these routes act for
	Endpoint   string           // the MCP endpoint that relays here, for refusals
	Token      string           // the token kind these routes take, for refusals: "an rk_mcp_ token"
	// WhoAmI (GET) answers what the calling token may do, for the relay to
	// hide the tools it may not call; "": every token may call every tool.
	WhoAmI string
}

// ProgramsAPI serves the Programs toolset (/api/mcp).
var ProgramsAPI = API{Operations: OperationsPath, WhoAmI: WhoAmIPath, Actor: viewer.ActorMCP, Endpoint: Path, Token: "an rk_mcp_ token"}

// KordiAPI serves the Subscriptions toolset (/mcp): a person's user token,
// which may call every tool (on the person's own data).
var KordiAPI = API{Operations: "/api/v1/kordi/tools/", Actor: viewer.ActorPerson,
	Endpoint: KordiPath, Token: "a kordi_ or clerk_reg_ user token"}

// WhoAmI is what the API tells the relay about a token.
type WhoAmI struct {
	OrgID       string `json:"orgId"`
	ReadOnly    bool   `json:"readOnly"`
	AffiliateID string `json:"affiliateId,omitempty"`
}

// Handler serves relayed tool calls and resource reads for a toolset. It
// must sit behind the identity middleware: it acts only for a relay-verified
// viewer of api.Actor.
func (api API) Handler(runner *graph.Runner, tools []*Tool, resources []*Resource) http.Handler {
	byName := make(map[string]*Tool, len(tools))
	for _, t := range tools {
		byName[t.Name] = t
	}
	for _, res := range resources {
		// A resource reads like a tool that takes no arguments.
		byName[res.Name] = &Tool{Name: res.Name, Read: true}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewer.FromContext(r.Context())
		if v == nil || v.ActorType != api.Actor {
			writeJSON(w, http.StatusUnauthorized, graph.PublicError{Status: http.StatusUnauthorized, Error: "unauthorized",
				Message: "these routes serve the MCP relay: send " + api.Token + " through " + api.Endpoint, Next: "Point your AI client at " + api.Endpoint + "."})
			return
		}
		if api.WhoAmI != "" && r.URL.Path == api.WhoAmI && r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, WhoAmI{OrgID: v.OrgID, ReadOnly: !canWrite(v), AffiliateID: v.AffiliateID})
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, api.Operations)
		tool := byName[name]
		if !ok || tool == nil || r.Method != http.MethodPost {
			writeJSON(w, http.StatusNotFound, graph.PublicError{Status: http.StatusNotFound, Error: "not_found",
				Message: "no tool named " + name, Next: "List the tools (tools/list) and call one of them."})
			return
		}
		var req callRequest
		dec := json.NewDecoder(r.Body)
		dec.UseNumber() // GraphQL Int wants integers, not float64
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, graph.PublicError{Status: http.StatusBadRequest, Error: "invalid_argument",
				Message: "the call body is not JSON", Next: "Send {\"arguments\": {…}}."})
			return
		}
		// A read-only brand token never writes. An affiliate token's writes
		// are decided by the core, which lets it reach only its own tools.
		if !tool.Read && !canWrite(v) && v.AffiliateID == "" {
			writeJSON(w, http.StatusOK, callResponse{Errors: []graph.PublicError{{Status: http.StatusForbidden, Error: "forbidden",
				Message: "this token is read-only: it can call the read tools only, and " + name + " changes data",
				Next:    "Ask the organization owner for a read-write token if this assistant should make changes."}}})
			return
		}
		resp := runner.Run(r.Context(), name, req.Arguments)
		if len(resp.Errors) > 0 || len(resp.Data) == 0 {
			writeJSON(w, http.StatusOK, callResponse{Errors: publicErrors(resp.Errors)})
			return
		}
		// The executor's data is compact JSON already: it goes out as it is
		// rather than through an encoder that would check and copy it again.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(append([]byte(`{"data":`), resp.Data...), '}', '\n'))
	})
}

// canWrite reports whether the viewer may call write tools: a person always
// may (on their own data, which is all they see); an organization's token
// when its role may.
func canWrite(v *viewer.Viewer) bool {
	return v.ActorType == viewer.ActorPerson || v.CanWrite()
}

func publicErrors(errs gqlerror.List) []graph.PublicError {
	out := make([]graph.PublicError, len(errs))
	for i, e := range errs {
		out[i] = graph.Public(e)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
