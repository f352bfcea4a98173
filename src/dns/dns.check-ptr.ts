// DNS checks: Reverse DNS of the service's own mail server (the validator: dns.checker.ts).
import { addressesOf } from "./dns.lookup";
import { recordText } from "./dns.transport";
import { type Context, type DnsFinding, canonicalAddress, finding, list, reverseName } from "./dns.check-common";

export async function checkReverseDns(context: Context): Promise<DnsFinding[]> {
  const { service } = context;
  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  return Promise.all(
    addresses.map(async (address): Promise<DnsFinding> => {
      const expected = `a PTR record${service.hostname ? ` naming ${service.hostname}` : ""}, whose name resolves back to ${address} (forward-confirmed)`;
      const owner = "This is the service's own record, not the customer's: support escalates it to the operators of the mail server's network.";
      const ptr = await context.resolve(reverseName(address), "PTR");
      if (ptr.status === "error") return finding("ptr.mail_server", "ERROR", address, expected, `DNS did not answer: ${ptr.message}`, "Check again later.");
      const names = ptr.status === "ok" ? [...new Set(ptr.records.map(recordText))].sort() : [];
      if (names.length === 0) {
        return finding("ptr.mail_server", "FAIL", address, expected, "no PTR record: many receivers refuse mail from addresses without reverse DNS", owner);
      }
      if (service.hostname && !names.includes(service.hostname)) {
        return finding("ptr.mail_server", "FAIL", address, expected, `PTR ${list(names)}, not the mail server's name ${service.hostname}`, owner);
      }
      const candidates = service.hostname ? [service.hostname] : names;
      const forward = await Promise.all(candidates.map((name) => context.lookup.addresses(name)));
      const confirmed = candidates.filter((_, index) => {
        const found = [...addressesOf(forward[index]!.v4), ...addressesOf(forward[index]!.v6)].map(canonicalAddress);
        return found.includes(canonicalAddress(address));
      });
      if (confirmed.length > 0) return finding("ptr.mail_server", "PASS", address, expected, `PTR ${list(names)}; ${confirmed[0]} resolves back to ${address}`, null);
      if (forward.some((result) => result.v4.status === "error" || result.v6.status === "error")) {
        return finding("ptr.mail_server", "ERROR", address, expected, `PTR ${list(names)}; the forward lookup did not answer`, "Check again later.");
      }
      return finding("ptr.mail_server", "FAIL", address, expected, `PTR ${list(names)}, but that name does not resolve back to ${address} (not forward-confirmed)`, owner);
    }),
  );
}
