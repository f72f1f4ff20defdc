import { isIPv4, isIPv6 } from "node:net";

/**
 * The key a client's limits are counted under, from its IP address: an IPv4 address as it is
 * (also when written IPv4-mapped, ::ffff:192.0.2.1), an IPv6 address by its /64 network. One
 * IPv6 subscriber usually holds a whole /64 and can pick any address in it, so counting per
 * address would give them 2^64 budgets.
 */
export function clientKey(ip: string): string {
  if (ip === "") return "unknown";
  if (isIPv4(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const ip = address.replace(/%.*$/, "");
  if (!isIPv6(ip)) return undefined;
  let text = ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = 8 - left.length - right.length;
  return [...left, ...Array.from({ length: tail === undefined ? 0 : zeros }, () => 0), ...right];
}
