// POST /api/v1/domains/{name}/dns-check: look the domain's DNS up now, as
// checkDomainDns does. A POST: it asks DNS and stores the result on the domain.
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps";
import { checkDomainDns } from "../dns/dns.service";
import type { DnsSetup } from "../dns/dns.records";
import { callerOfRequest, languageOfRequest } from "./auth";
import { dnsCheckView } from "./views";
import { DNS_SETUPS, jsonResponse, problemResponses, ref } from "./schemas";

export async function dnsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Params: { name: string }; Querystring: { setup?: DnsSetup; refresh?: boolean } }>(
    "/domains/:name/dns-check",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "checkDomainDns",
        tags: ["dns"],
        summary: "Check the domain's DNS against its set-up (support staff: any domain; a domain administrator: its own)",
        description:
          "One finding per rule (PASS, WARN, ERROR when DNS did not answer, FAIL), with what was expected, what was found and the fix. " +
          "Without setup the check is of the domain's own set-up and its result is stored; with another set-up it is a what-if. A result " +
          "less than DNS_CHECK_CACHE_SECONDS old is reused unless refresh=true. DNS failures are findings, not errors. No request body.",
        params: { type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1, maxLength: 253 } } },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { setup: { type: "string", enum: DNS_SETUPS }, refresh: { type: "boolean", default: false } },
        },
        response: { 200: jsonResponse("The check's result.", ref("DnsCheck")), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const check = await checkDomainDns(deps, callerOfRequest(request), request.params.name, request.query.setup, request.query.refresh ?? false);
      return dnsCheckView(check, await languageOfRequest(request));
    },
  );
}
