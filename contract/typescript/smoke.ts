// The generated TypeScript client (openapi-typescript types + openapi-fetch) against a live hub:
// as the operator create a customer, post a report with its key, read the 24 h history, post
// events and page through them with the cursor. Type-checked by tsc, so a call the document does
// not allow fails the build. Run by `cargo xtask test` with FELHOM_URL and FELHOM_PASSWORD set.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = process.env.FELHOM_URL!;
const customer = "ts-client";

function fail(what: string, error: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(error)}`);
}

// The operator signs in; the session cookie and the CSRF token go with every later call.
const hub = createClient<paths>({ baseUrl });
const login = await hub.POST("/api/v1/auth/login", { body: { password: process.env.FELHOM_PASSWORD! } });
if (!login.data) fail("login", login.error);
const cookie = login.response.headers.getSetCookie()[0].split(";")[0];
const operator = createClient<paths>({
  baseUrl,
  headers: { Cookie: cookie, "X-CSRF-Token": login.data.csrf_token ?? "" },
});

const created = await operator.POST("/api/v1/configs", { body: { customer_id: customer, display_name: "TS" } });
if (!created.data) fail("create the customer", created.error);

// The customer's controller posts a report with its own key, then reads its history.
const controller = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${created.data.api_key}` } });
const report = await controller.POST("/api/v1/report", { body: { customer_id: customer, health: "ok" } });
if (!report.data?.ok) fail("report", report.error);
const history = await controller.GET("/api/v1/customers/{id}/history", {
  params: { path: { id: customer }, query: { period: "24h" } },
});
if (!history.data) fail("history", history.error);
const reports = history.data.points.reduce((n, p) => n + p.reports, 0);
if (history.data.period !== "24h" || reports !== 1) fail("history content", history.data);

for (let n = 0; n < 5; n++) {
  const body = { customer_id: customer, event_type: "backup_completed", severity: "info", message: `run ${n}` };
  const posted = await controller.POST("/api/v1/event", { body });
  if (!posted.data) fail("event", posted.error);
}

// The operator pages through the events, newest first, two at a time.
const seen: string[] = [];
let before: number | undefined;
for (;;) {
  const page = await operator.GET("/api/v1/customers/{id}/events", {
    params: { path: { id: customer }, query: { limit: 2, before } },
  });
  if (!page.data) fail("events", page.error);
  seen.push(...page.data.events.map((e) => e.message));
  if (page.data.next_before == null) break;
  before = page.data.next_before;
}
const expected = [4, 3, 2, 1, 0].map((n) => `run ${n}`);
if (JSON.stringify(seen) !== JSON.stringify(expected)) fail("paged events", seen);

// The preview is YAML text, read as text.
const preview = await operator.GET("/api/v1/configs/{customer_id}/preview", {
  params: { path: { customer_id: customer } },
  parseAs: "text",
});
if (!preview.data?.includes(customer)) fail("preview", preview.error);
console.log(`typescript client: created ${customer}, posted a report, read the history, paged 5 events`);
