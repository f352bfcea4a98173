// What GraphQL reports to the metrics (src/observability/metrics.ts):
// operations by name and type, errors by code, and the timings that the
// results of DNS checks and probes carry.
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import { Kind, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Metrics } from "../observability/metrics";
import type { DnsCheckView } from "../dns/dns.service";
import type { MailServerProbe } from "../probe/probe";
import type { DeliveryDiagnosis } from "../diagnosis/diagnosis.service";
import type { GraphQLContext } from "./context";

/** Root fields whose results carry DNS check and probe timings. */
const TIMED_ROOT_FIELDS = new Set(["checkDomainDns", "checkDomainsDns", "probeMailServer", "diagnoseDelivery"]);

/** Whether an operation may reach a root field whose resolution the metrics time (its per-field hook needs graphql-js's execution). */
export function mayReachTimedField(operation: OperationDefinitionNode): boolean {
  const visit = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return TIMED_ROOT_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      return true; // a fragment spread at the root: look at its fields as they resolve
    });
  return visit(operation.selectionSet);
}

function observeTimedField(metrics: Metrics, fieldName: string, result: unknown): void {
  const observeCheck = (check: DnsCheckView | null | undefined) => {
    if (check && !check.cached) metrics.dnsCheckDuration.observe({ status: check.status }, check.durationMs / 1000);
  };
  const observeProbe = (probe: MailServerProbe) => metrics.probeDuration.observe({ status: probe.status }, probe.durationMs / 1000);
  if (fieldName === "checkDomainDns") observeCheck(result as DnsCheckView);
  else if (fieldName === "checkDomainsDns") (result as DnsCheckView[]).forEach(observeCheck);
  else if (fieldName === "probeMailServer") observeProbe(result as MailServerProbe);
  else if (fieldName === "diagnoseDelivery") {
    const diagnosis = result as DeliveryDiagnosis;
    diagnosis.probes.forEach(observeProbe);
    observeCheck(diagnosis.dnsCheck);
  }
}

/** An error's code as a metric label: extensions.code (a string for every error of this API), UNKNOWN without one. */
function errorCodeLabel(code: unknown): string {
  if (code === undefined || code === null) return "UNKNOWN";
  return typeof code === "string" ? code : JSON.stringify(code);
}

/** Counts GraphQL operations and their errors, and times DNS checks and probes. */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async executionDidStart({ operation }) {
          // Per-field hooks cost time on every field of every operation: only
          // operations that ask for a timed root field get one.
          if (!mayReachTimedField(operation)) return;
          return {
            willResolveField({ info }) {
              if (info.path.prev !== undefined || !TIMED_ROOT_FIELDS.has(info.fieldName)) return;
              return (error, result) => {
                if (!error && result) observeTimedField(metrics, info.fieldName, result);
              };
            },
          };
        },
        async willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<GraphQLContext>) {
          const labels = {
            operation_name: metrics.operationLabel(requestContext.operationName, requestContext.operation !== undefined),
            operation_type: requestContext.operation?.operation ?? "unknown",
          };
          metrics.graphqlOperations.inc(labels);
          metrics.graphqlDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
          const body = requestContext.response.body;
          const errors = body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
          for (const error of errors ?? []) metrics.graphqlErrors.inc({ code: errorCodeLabel(error.extensions?.code) });
        },
      };
    },
  };
}
