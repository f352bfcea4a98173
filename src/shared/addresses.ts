// Which IP addresses are not on the public internet. The probe and the DNS
// checker act on addresses a customer's DNS names: sending traffic to private,
// loopback or link-local ones would let any customer scan the service's own
// network. One rule for both.
import ipaddr from "ipaddr.js";

/** IPv6 ranges that carry an IPv4 address inside: classified by that address. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const bytes = address.toByteArray();
  const v4 = (offset: number) => new ipaddr.IPv4(bytes.slice(offset, offset + 4));
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const range = address.range();
  // ::a.b.c.d, IPv4-compatible (deprecated), and 64:ff9b::/96 (NAT64, RFC 6052): the last four bytes.
  if (bytes.slice(0, 12).every((byte) => byte === 0) && !(bytes.slice(12).every((byte) => byte === 0) || (bytes.slice(12, 15).every((byte) => byte === 0) && bytes[15] === 1)))
    return v4(12);
  if (range === "rfc6052" || range === "rfc6145") return v4(12);
  // 2002:a.b.c.d::/48, 6to4 (RFC 3056): bytes 2 to 5.
  if (range === "6to4") return v4(2);
  return null;
}

/** True for loopback, private, link-local, multicast, reserved and unparsable addresses, and IPv6 forms of those. */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6") {
    const inner = embeddedIpv4(parsed as ipaddr.IPv6);
    if (inner) return inner.range() !== "unicast";
  }
  return parsed.range() !== "unicast";
}
