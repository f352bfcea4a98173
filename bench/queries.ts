// The GraphQL operations the HTTP benchmarks send (bench/http.ts, bench/peers.ts).

/** A page of 50 domains with their administrators, totals and usage: the portal's front page, as support sees it. */
export const DOMAINS_PAGE = `query DomainsPage {
  domains(first: 50) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name status quotaMb maxAccounts accountCount allocatedQuotaMb usedMb admin { id address displayName } }
  }
}`;
/** Who is calling. */
export const ME = `query Me { me { __typename role loginName displayName } }`;
/** The ceiling: HTTP and GraphQL, no database. */
export const TYPENAME = `{ __typename }`;
/** One account's delivery log today, first 50. */
export const mailLogToday = (address: string) => `query TodaysLog {
  mailLog(address: "${address}", range: TODAY, first: 50) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id loggedAt direction sender recipient subject sizeBytes status retryCount reason }
  }
}`;
