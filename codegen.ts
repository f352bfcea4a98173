// GraphQL Code Generator: resolver types from schema.graphql, so that a
// resolver whose arguments, parent or result drift from the schema fails to
// compile. Output is generated (npm run generate, part of install and build),
// never edited or committed.
import type { CodegenConfig } from "@graphql-codegen/cli";

const prisma = "../generated/prisma/client";

const config: CodegenConfig = {
  schema: "schema.graphql",
  overwrite: true,
  silent: true,
  generates: {
    "src/generated/graphql.ts": {
      plugins: [{ add: { content: "/* eslint-disable */\n// Generated from schema.graphql by `npm run generate`. Do not edit." } }, "typescript", "typescript-resolvers"],
      config: {
        contextType: "../graphql/context#GraphQLContext",
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "Date", JSON: "unknown" },
        // The objects resolvers receive as parents are the database rows, not
        // the GraphQL shapes: fields such as Domain.admin are resolved from them.
        mappers: {
          Domain: `${prisma}#Domain as DomainRow`,
          Account: `${prisma}#Account as AccountRow`,
          // What authentication reads of a support admin (not its password hash): `me` answers from it.
          SupportAdmin: "../auth/auth.sql#CallingSupportAdmin as SupportAdminRow",
          AuditEntry: `${prisma}#AuditEntry as AuditEntryRow`,
          MailLogRecord: `${prisma}#MailLogRecord as MailLogRecordRow`,
          StoredRejectedLogLine: `${prisma}#RejectedLogLine as RejectedLogLineRow`,
          DnsCheck: "../dns/dns.service#DnsCheckView",
          // Texts for people in these are Messages, written in the request's language by their resolvers.
          DnsFinding: "../dns/dns.check-common#DnsFinding as DnsFindingModel",
          DnsRecord: "../dns/dns.records#ExpectedRecord",
          ApiToken: `${prisma}#ApiToken as ApiTokenRow`,
          Alias: `${prisma}#Alias as AliasRow`,
          AliasDomain: `${prisma}#AliasDomain as AliasDomainRow`,
          DkimKey: `${prisma}#DkimKey as DkimKeyRow`,
          TestMessage: "../testmail/testmail.service#TestMessageView",
          MailServerProbe: "../probe/probe#MailServerProbe as MailServerProbeView",
          ProbeExchanger: "../probe/probe#ProbeExchanger as ProbeExchangerView",
          DeliveryDiagnosis: "../diagnosis/diagnosis.service#DeliveryDiagnosis as DeliveryDiagnosisView",
          DiagnosisFinding: "../diagnosis/diagnosis.service#DiagnosisFinding as DiagnosisFindingView",
          DiagnosisAction: "../diagnosis/diagnosis.service#FindingAction as DiagnosisActionView",
          DiagnosisEvidence: "../diagnosis/diagnosis.service#Evidence as DiagnosisEvidenceView",
          AppPassword: `${prisma}#AppPassword as AppPasswordRow`,
          LoginSession: "../auth/sessions.service#SessionView",
          Warning: "../service-deps#Warning as ServiceWarning",
        },
      },
    },
  },
};

export default config;
