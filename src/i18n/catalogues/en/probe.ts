// English messages of probe (see ./index.ts for how the catalogues fit together).
// The probe's verdicts and why an exchanger has no address (src/probe/probe.ts),
// and its rate limits (src/probe/probe.service.ts). Host names, addresses,
// SMTP replies and DNS errors are values, put in as they are.
export const probe = {
  // A list of texts (TextList) kept in JSON: written once, in English.
  "probe.list": "{text}",
  "probe.dns.nodata": "no such records for {name}",
  "probe.dns.nxdomain": "{name} does not exist in DNS (NXDOMAIN)",
  "probe.dns.error": "DNS did not answer for {name}: {error}",
  "probe.dns.no_address": "{host} has no A or AAAA record",
  "probe.no_records": "no MX and no A/AAAA record",
  "probe.attempt.greeted": "{who} greeted in {ms} ms",
  "probe.attempt.greeting_rejected": '{who} answered {code} "{text}"',
  "probe.attempt.refused": "{who} refused the connection",
  "probe.attempt.timeout_connect": "{who} did not answer the connection (timed out)",
  "probe.attempt.timeout_step":
    "{who} accepted the connection but timed out at {step, select, GREETING {greeting} EHLO {ehlo} STARTTLS {starttls} TLS_HANDSHAKE {tls handshake} EHLO_AFTER_TLS {ehlo after tls} QUIT {quit} other {{step}}}",
  "probe.attempt.unreachable": "{who} is unreachable ({error})",
  "probe.attempt.protocol_error": "{who} broke off the conversation ({error})",
  "probe.attempt.not_allowed": "{who} is a private address and was not probed",
  "probe.attempt.skipped": "{who} was not tried (time budget spent)",
  "probe.verdict.dns_failure": "The mail servers of {domain} could not be found: {error}. Mail to {domain} waits until its DNS answers.",
  "probe.verdict.null_mx": "{domain} publishes a null MX (RFC 7505): it accepts no mail at all. Mail to it will bounce; the sender should use another address.",
  "probe.verdict.no_address": "{domain} has no mail server with an address ({reasons}): mail to it cannot be delivered until the recipient fixes its DNS.",
  "probe.verdict.reachable": "{listing}: the remote side is up and accepts connections.",
  "probe.verdict.partial": "{listing}: the remote side is up, a retry will succeed.",
  "probe.verdict.rejecting_temporary": "{listing}: the remote side is up but turning connections away for now (4xx): the queue retries and should get through later.",
  "probe.verdict.rejecting_permanent": "{listing}: the remote side is up but refuses to accept mail from us (5xx): ask the recipient's administrator.",
  "probe.verdict.private_only": "{listing}: private addresses are not probed (PROBE_ALLOW_PRIVATE); no public server publishes mail for {domain}.",
  "probe.verdict.unreachable": "{listing}: the remote side is down or unreachable from here; mail waits in the queue and the recipient's administrator must bring the server back.",
  "probe.rate_limited.user": "You have probed {limit} times recently; try again in {wait} s.",
  "probe.rate_limited.target": "{target} has been probed {limit} times recently; try again in {wait} s.",
} as const;
