// The support desk's everyday operations, offered in the IDE's "Support
// tasks" panel: each opens in a new tab with its variables filled in for the
// person to adjust. A test validates every one against schema.graphql.

export interface SupportExample {
  title: string;
  description: string;
  query: string;
  variables: Record<string, unknown>;
}

export const supportExamples: SupportExample[] = [
  {
    title: "Find a domain",
    description: "Domains whose name contains the text, with their limits, usage and administrator.",
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
    title: "Find an account",
    description: "One mailbox by address: its id, status, quota and domain.",
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
    title: "Reset a password",
    description: "Run FindAccount for the id, put it in the variables, then run ResetPassword. The account's older sessions end.",
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
    title: "Reassign the administrator",
    description: "Run DomainAccounts for the ids, then ReassignAdmin: the new administrator gets DOMAIN_ADMIN, the previous one becomes USER.",
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
    title: "Today's log of a user",
    description: "What happened to this user's mail today (the service's time zone), newest first.",
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
    title: "Check a domain's DNS",
    description: "Look the customer's DNS up now against its set-up; every failed rule says what to change.",
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
    title: "Diagnose delivery",
    description: "Why did this user's mail not arrive or not go out: account, delivery records, a probe of the remote side and the DNS check in one answer.",
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
    title: "Import accounts (dry run)",
    description: "Check a small CSV of new accounts without creating any; set dryRun to false to import. Larger files: npm run import.",
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
    title: "Recent changes (audit)",
    description: "The latest audited changes, newest first: who did what to which object.",
    query: `query RecentChanges {
  auditLog(first: 20) {
    nodes { at actorRole actorName action objectType domainName changes { field before after } }
  }
}`,
    variables: {},
  },
  {
    title: "Make an address go to people (alias)",
    description: "Creates an alias: mail to sales@ reaches every destination (mailboxes here, or outside addresses where the domain allows). Put the domain's id in the variables.",
    query: `mutation CreateAlias($domainId: ID!, $localPart: String!, $destinations: [String!]!) {
  createAlias(input: { domainId: $domainId, localPart: $localPart, destinations: $destinations }) {
    alias { id address destinations }
    warnings { code message }
  }
}`,
    variables: { domainId: "(the domain's id)", localPart: "sales", destinations: ["mary@example.tw", "john@example.tw"] },
  },
  {
    title: "Forward a mailbox, or set an out-of-office reply",
    description: "Run FindAccount for the id. SetForwarding with an empty list turns forwarding off; SetAutoReply with input null turns the reply off.",
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
    title: "Send a test message",
    description:
      "From a mailbox of the support test domain to a customer's address (here or remote). Run SendTestMessage, put its id in the variables, then run FollowTestMessage until final is true: accepted, delivered here, relayed with the remote's reply, deferred or bounced with the reason.",
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
    title: "What did the customer's server send us?",
    description:
      "Ask the customer to write to a mailbox of the support test domain, then list what arrived: sender, time, size, the SMTP client that delivered it, and its SPF, DKIM and DMARC results. EmptyTestMailbox clears the mailbox for the next test.",
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
