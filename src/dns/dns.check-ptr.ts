// DNS checks: Reverse DNS of the service's own mail server (the validator: dns.checker.ts).
import { message } from "../i18n/messages";
import { addressesOf } from "./dns.lookup";
import { recordText } from "./dns.transport";
import { type Context, type DnsFinding, canonicalAddress, finding, list, reverseName } from "./dns.check-common";

export async function checkReverseDns(context: Context): Promise<DnsFinding[]> {
  const { service } = context;
  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  return Promise.all(
    addresses.map(async (address): Promise<DnsFinding> => {
      const expected = service.hostname ? message("dns.ptr.expected_named", { hostname: service.hostname, address }) : message("dns.ptr.expected", { address });
      const owner = message("dns.ptr.owner.fix");
      const ptr = await context.resolve(reverseName(address), "PTR");
      if (ptr.status === "error")
        return finding("ptr.mail_server", "ERROR", address, expected, message("dns.no_answer.found", { reason: ptr.message }), message("dns.check_again"));
      const names = ptr.status === "ok" ? [...new Set(ptr.records.map(recordText))].sort() : [];
      if (names.length === 0) {
        return finding("ptr.mail_server", "FAIL", address, expected, message("dns.ptr.none.found"), owner);
      }
      if (service.hostname && !names.includes(service.hostname)) {
        return finding("ptr.mail_server", "FAIL", address, expected, message("dns.ptr.other_name.found", { names: list(names), hostname: service.hostname }), owner);
      }
      const candidates = service.hostname ? [service.hostname] : names;
      const forward = await Promise.all(candidates.map((name) => context.lookup.addresses(name)));
      const confirmed = candidates.filter((_, index) => {
        const found = [...addressesOf(forward[index]!.v4), ...addressesOf(forward[index]!.v6)].map(canonicalAddress);
        return found.includes(canonicalAddress(address));
      });
      if (confirmed.length > 0)
        return finding("ptr.mail_server", "PASS", address, expected, message("dns.ptr.confirmed.found", { names: list(names), name: confirmed[0]!, address }), null);
      if (forward.some((result) => result.v4.status === "error" || result.v6.status === "error")) {
        return finding("ptr.mail_server", "ERROR", address, expected, message("dns.ptr.forward_error.found", { names: list(names) }), message("dns.check_again"));
      }
      return finding("ptr.mail_server", "FAIL", address, expected, message("dns.ptr.not_confirmed.found", { names: list(names), address }), owner);
    }),
  );
}
