// Connects to a Tandem MCP endpoint with the official TypeScript SDK, given
// only what the seed's client config holds: the URL and an Authorization
// header. Prints {tools, profile} as JSON for the Go test to check.
// Usage: node client.mjs URL TOKEN
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
const config = { url, headers: { Authorization: `Bearer ${token}` } }; // the seed's shape

const transport = new StreamableHTTPClientTransport(new URL(config.url), {
  requestInit: { headers: config.headers },
});
const client = new Client({ name: "tandem-ts-check", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const profile = await client.callTool({ name: "get_org_profile", arguments: {} });
const bad = await client.callTool({ name: "list_campaigns", arguments: { take: 0 } });
console.log(JSON.stringify({
  tools: tools.map((t) => t.name),
  profile: profile.structuredContent,
  badIsError: bad.isError === true,
  badText: bad.content?.[0]?.text ?? "",
}));
await client.close();
