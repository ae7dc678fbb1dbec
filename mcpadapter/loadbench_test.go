package mcpadapter_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/store/storetest"
)

// TestLoopbackBenchmark (make bench) drives three servers over loopback
// with the same concurrency, one after another, and prints calls/s and
// latency percentiles for each, with the ratios the Programs MCP issue sets
// as goals:
//
//   - get_org_profile over MCP through the whole stack: token check, relay
//     HMAC sign and verify, GraphQL, SQLite, the audit row;
//   - the same operation over /graphql with the same credential (an rk_mcp_
//     token with a relay signature), so the same checks and audit row run;
//   - a bare mcp-go server whose one tool returns a constant.
//
// It is a benchmark, not a test: it runs only with TANDEM_BENCH=1.
func TestLoopbackBenchmark(t *testing.T) {
	if os.Getenv("TANDEM_BENCH") != "1" {
		t.Skip("set TANDEM_BENCH=1 (make bench) to run the loopback benchmark")
	}
	duration := 5 * time.Second
	if s := os.Getenv("TANDEM_BENCH_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		duration = time.Duration(n) * time.Second
	}
	const workers = 32
	st := newStack(t, storetest.Backends(t)[0], "growth")
	signer := relay.Signer{Secret: st.keys.RelaySecrets[0]}

	mcpCall := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_org_profile","arguments":{}}}`)
	mcpHeaders := http.Header{
		"Authorization": {"Bearer " + st.token}, "Content-Type": {"application/json"},
		"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-06-18"},
	}
	fullStack := target{name: "MCP get_org_profile (full stack)", url: st.url + "/api/mcp",
		request: func(int64) ([]byte, http.Header) { return mcpCall, mcpHeaders }, want: `\"slug\":\"acme\"`}

	gqlQuery := `query get_org_profile { viewerOrganization { id name slug brandColor logoURL description planTier subscriptionStatus trialEndsAt payoutGraceDays homeCurrency createdAt } }`
	graphQL := target{name: "/graphql get_org_profile", url: st.url + "/graphql", want: `"slug":"acme"`,
		request: func(n int64) ([]byte, http.Header) {
			// A nonce per request: the API refuses a relay signature it has seen.
			body := []byte(fmt.Sprintf(`{"query":%q,"operationName":"get_org_profile","extensions":{"nonce":%d}}`, gqlQuery, n))
			h := http.Header{"Authorization": {"Bearer " + st.token}, "Content-Type": {"application/json"}}
			h.Set(relay.Header, signer.Sign(http.MethodPost, "/graphql", body))
			return body, h
		}}

	bare := mcpserver.NewMCPServer("bare", "1", mcpserver.WithToolCapabilities(false))
	bare.AddTool(mcp.NewTool("constant", mcp.WithDescription("returns a constant")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(`{"ok":true}`), nil
		})
	bareSrv := httptest.NewServer(mcpserver.NewStreamableHTTPServer(bare, mcpserver.WithStateLess(true), mcpserver.WithEndpointPath("/mcp")))
	defer bareSrv.Close()
	bareCall := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"constant","arguments":{}}}`)
	bareTarget := target{name: "bare mcp-go constant tool", url: bareSrv.URL + "/mcp", want: `ok`,
		request: func(int64) ([]byte, http.Header) { return bareCall, mcpHeaders }}

	var results []result
	targets := []target{bareTarget, fullStack, graphQL}
	if os.Getenv("TANDEM_BENCH_ONLY") == "mcp" { // for profiling the MCP path alone
		targets = []target{fullStack, fullStack, fullStack}
	}
	if os.Getenv("TANDEM_BENCH_ONLY") == "bare" {
		targets = []target{bareTarget, bareTarget, bareTarget}
	}
	if os.Getenv("TANDEM_BENCH_ONLY") == "graphql" {
		targets = []target{graphQL, graphQL, graphQL}
	}
	for _, tg := range targets {
		r, err := tg.run(workers, duration)
		if err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
		results = append(results, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nloopback, %d concurrent clients, %s each, GOMAXPROCS=%s\n", workers, duration, os.Getenv("GOMAXPROCS"))
	fmt.Fprintf(&b, "%-36s %10s %10s %10s %10s\n", "target", "calls/s", "p50", "p99", "CPU/call")
	for _, r := range results {
		fmt.Fprintf(&b, "%-36s %10.0f %10s %10s %10s\n", r.name, r.rate, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.cpu.Round(time.Microsecond))
	}
	fmt.Fprintf(&b, "full stack / bare mcp-go: %.2f× (goal ≥ 0.6)\n", results[1].rate/results[0].rate)
	fmt.Fprintf(&b, "MCP / /graphql:           %.2f× (goal ≥ 1.0)\n", results[1].rate/results[2].rate)
	fmt.Print(b.String())

}

type target struct {
	name    string
	url     string
	request func(n int64) ([]byte, http.Header)
	want    string
}

type result struct {
	name     string
	rate     float64
	p50, p99 time.Duration
	cpu      time.Duration // process CPU time per call, server and clients together
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (tg target) run(workers int, d time.Duration) (result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	// Warm up: connections, caches, the query cache.
	for i := 0; i < 50; i++ {
		if err := tg.once(client, int64(-i-1), nil); err != nil {
			return result{}, err
		}
	}
	var seq atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, workers)
	errs := make(chan error, workers)
	deadline := time.Now().Add(d)
	start := time.Now()
	cpu0 := cpuTime()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := tg.once(client, seq.Add(1), &lat[w]); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return result{name: tg.name, rate: float64(len(all)) / elapsed.Seconds(),
		p50: all[len(all)/2], p99: all[len(all)*99/100], cpu: cpu / time.Duration(len(all))}, nil
}

func (tg target) once(client *http.Client, n int64, lat *[]time.Duration) error {
	body, h := tg.request(n)
	req, err := http.NewRequest(http.MethodPost, tg.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h.Clone()
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if lat != nil {
		*lat = append(*lat, time.Since(began))
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(tg.want)) {
		return fmt.Errorf("answered %d %s", resp.StatusCode, out)
	}
	return nil
}
