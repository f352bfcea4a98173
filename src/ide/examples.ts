// The support desk's everyday operations, offered in the IDE's "Support
// tasks" panel: each opens in a new tab with its variables filled in for the
// person to adjust. A test validates every one against schema.graphql. The
// operations are the same in every language; their titles and descriptions
// come from the catalogues (ide.task.<key>.title / .description).
import type { Language } from "../i18n/language";
import { translate, type MessageId } from "../i18n/messages";

export interface SupportExample {
  /** Names the task in the catalogues; the same in every language. */
  key: string;
  title: string;
  description: string;
  query: string;
  variables: Record<string, unknown>;
}

type TaskKey = Extract<MessageId, `ide.task.${string}.title`> extends `ide.task.${infer Key}.title` ? Key : never;

interface SupportTask {
  key: TaskKey;
  query: string;
  variables: Record<string, unknown>;
}

const tasks: SupportTask[] = [
  {
    key: "find_domain",
    query: `query FindDomain($search: String) {
  domains(search: $search, first: 20) {
    totalCount
    nodes {
      id
      name
      unicodeName
      status
      quotaMb
      maxAccounts
      accountCount
      allocatedQuotaMb
      usedMb
      admin { id address }
    }
  }
}`,
    variables: { search: "example.tw" },
  },
  {
    key: "find_account",
    query: `query FindAccount($address: String!) {
  account(address: $address) {
    id
    address
    displayName
    role
    status
    quotaMb
    usedMb
    domain { id name status }
  }
}`,
    variables: { address: "mary@example.tw" },
  },
  {
    key: "reset_password",
    query: `query FindAccount($address: String!) {
  account(address: $address) { id address status }
}

mutation ResetPassword($id: ID!, $password: String!) {
  setAccountPassword(id: $id, password: $password) {
    account { id address }
  }
}`,
    variables: { address: "mary@example.tw", id: "PUT THE ACCOUNT ID HERE", password: "a new long password" },
  },
  {
    key: "reassign_admin",
    query: `query DomainAccounts($domain: String!) {
  domain(name: $domain) {
    id
    admin { id address }
    accounts(first: 100) { nodes { id address role } }
  }
}

mutation ReassignAdmin($domainId: ID!, $accountId: ID!) {
  reassignDomainAdmin(domainId: $domainId, accountId: $accountId) {
    admin { address role }
    previousAdmin { address role }
  }
}`,
    variables: { domain: "example.tw", domainId: "PUT THE DOMAIN ID HERE", accountId: "PUT THE NEW ADMINISTRATOR'S ACCOUNT ID HERE" },
  },
  {
    key: "todays_log",
    query: `query TodaysLog($address: String!) {
  mailLog(address: $address, range: TODAY, first: 100) {
    totalCount
    nodes {
      loggedAt
      direction
      sender
      recipient
      subject
      status
      retryCount
      reason
    }
  }
}`,
    variables: { address: "mary@example.tw" },
  },
  {
    key: "check_dns",
    query: `mutation CheckDns($domain: String!) {
  checkDomainDns(domain: $domain, refresh: true) {
    domainName
    setup
    detectedSetup
    status
    findings { check status subject expected found fix }
  }
}`,
    variables: { domain: "example.tw" },
  },
  {
    key: "diagnose_delivery",
    query: `query DiagnoseDelivery($address: String!) {
  diagnoseDelivery(address: $address) {
    verdict
    findings {
      severity
      code
      summary
      action
      evidence { kind text }
    }
  }
}`,
    variables: { address: "mary@example.tw" },
  },
  {
    key: "import_accounts",
    query: `mutation ImportAccounts($content: String!, $dryRun: Boolean!) {
  importAccounts(input: { format: CSV, content: $content, mode: ALL_OR_NOTHING, dryRun: $dryRun }) {
    phase
    rowsTotal
    createdCount
    failedCount
    errors { row field code message }
  }
}`,
    variables: { content: "address,password,quotaMb,displayName\nnew.user@example.tw,a good long password,1024,New User\n", dryRun: true },
  },
  {
    key: "recent_changes",
    query: `query RecentChanges {
  auditLog(first: 20) {
    nodes { at actorRole actorName action objectType domainName changes { field before after } }
  }
}`,
    variables: {},
  },
  {
    key: "create_alias",
    query: `mutation CreateAlias($domainId: ID!, $localPart: String!, $destinations: [String!]!) {
  createAlias(input: { domainId: $domainId, localPart: $localPart, destinations: $destinations }) {
    alias { id address destinations }
    warnings { code message }
  }
}`,
    variables: { domainId: "(the domain's id)", localPart: "sales", destinations: ["mary@example.tw", "john@example.tw"] },
  },
  {
    key: "forwarding",
    query: `query FindAccount($address: String!) {
  account(address: $address) { id address forwarding { destinations keepCopy } autoReply { subject startsAt endsAt } }
}

mutation SetForwarding($id: ID!, $destinations: [String!]!, $keepCopy: Boolean) {
  setForwarding(accountId: $id, destinations: $destinations, keepCopy: $keepCopy) {
    account { address forwarding { destinations keepCopy } }
    warnings { code message }
  }
}

mutation SetAutoReply($id: ID!, $reply: AutoReplyInput) {
  setAutoReply(accountId: $id, input: $reply) {
    account { address autoReply { subject startsAt endsAt daysBetweenReplies } }
  }
}`,
    variables: {
      address: "mary@example.tw",
      id: "(the account's id)",
      destinations: ["mary.home@example.net"],
      keepCopy: true,
      reply: { subject: "Away until Monday", body: "I am away and back on Monday.", endsAt: "2027-01-04T00:00:00+08:00" },
    },
  },
  {
    key: "send_test_message",
    query: `mutation SendTestMessage($input: SendTestMessageInput!) {
  sendTestMessage(input: $input) { id to remote state submissionReply }
}

query FollowTestMessage($id: ID!) {
  testMessage(id: $id) {
    id from to remote state final summary relay dsn reason
    deliveryRecords { loggedAt status dsn relay reason }
    probe { status verdict }
  }
}`,
    variables: { input: { from: "test1@support-test.example.tw", to: "mary@example.tw" }, id: "(the id SendTestMessage answered)" },
  },
  {
    key: "received_test_messages",
    query: `query ReceivedTestMessages($address: String!) {
  account(address: $address) {
    id
    address
    receivedTestMessages(first: 20) {
      totalCount
      nodes {
        receivedAt sender from subject sizeBytes
        client { helo name address tls tlsDetails }
        authentication {
          spf { result domain details }
          dkim { result domain details }
          dmarc { result domain details }
        }
      }
    }
  }
}

mutation EmptyTestMailbox($accountId: ID!) {
  emptyTestMailbox(accountId: $accountId) { deletedCount }
}`,
    variables: { address: "test1@support-test.example.tw", accountId: "(the account's id)" },
  },
];

/** The support tasks with their titles and descriptions written in the language. */
export function supportExamplesIn(language: Language): SupportExample[] {
  return tasks.map((task) => ({
    key: task.key,
    title: translate(language, `ide.task.${task.key}.title`),
    description: translate(language, `ide.task.${task.key}.description`),
    query: task.query,
    variables: task.variables,
  }));
}

/** The support tasks in English. */
export const supportExamples: SupportExample[] = supportExamplesIn("en");
