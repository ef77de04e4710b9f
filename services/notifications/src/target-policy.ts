import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Where webhooks may be sent; see {@link createTargetPolicy}. */
export interface TargetPolicy {
  /** Why `url` cannot be an endpoint, or undefined when it can. Looks its host up (2 s at most). */
  checkUrl(url: string): Promise<string | undefined>;
  /** Whether a delivery may connect to `address` (an IP address as resolved or connected to). */
  allowsAddress(address: string): boolean;
}

/** The longest endpoint URL taken. */
export const MAX_URL_LENGTH = 2048;
const LOOKUP_TIMEOUT_MS = 2_000;

// Loopback, private, link-local, carrier-grade NAT, unspecified, multicast and the like: nothing a public
// receiver lives on, and where a request could reach the platform's own network (a cloud's metadata service
// at 169.254.169.254 among them).
const internal = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  internal.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b:1::", 48],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  internal.addSubnet(net, prefix, "ipv6");
}

/** True for an address no webhook is sent to unless the platform allows private targets. */
export function isInternalAddress(address: string): boolean {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped !== undefined) return internal.check(mapped, "ipv4");
  switch (isIP(bare)) {
    case 4:
      return internal.check(bare, "ipv4");
    case 6:
      return internal.check(bare, "ipv6");
    default:
      return true; // not an address at all: never connect to it
  }
}

/**
 * The rules an endpoint URL follows: absolute, https (or http when `allowHttp`), no user name or password in
 * it, at most {@link MAX_URL_LENGTH} characters, and, unless `allowPrivate`, a host that is not and does not
 * resolve to a loopback, private or link-local address. A name that does not resolve now is taken: every
 * delivery checks the addresses it connects to again (DNS can change, on purpose or not).
 */
export function createTargetPolicy(opts: { allowHttp: boolean; allowPrivate: boolean }): TargetPolicy {
  const allowsAddress = (address: string) => opts.allowPrivate || !isInternalAddress(address);
  return {
    allowsAddress,
    async checkUrl(text) {
      if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
      const url = URL.canParse(text) ? new URL(text) : undefined;
      if (url === undefined) return "must be an absolute URL";
      if (url.protocol !== "https:" && !(opts.allowHttp && url.protocol === "http:")) {
        return opts.allowHttp ? "must be an https or http URL" : "must be an https URL";
      }
      if (url.username !== "" || url.password !== "") return "must not carry a user name or password";
      if (url.hash !== "") return "must not have a fragment";
      if (opts.allowPrivate) return undefined;
      const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
      const refused = "must not point at a loopback, private or link-local address";
      if (isIP(host) !== 0) return isInternalAddress(host) ? refused : undefined;
      if (host === "localhost" || host.endsWith(".localhost")) return refused;
      const addresses = await resolveAll(host);
      return addresses.some(isInternalAddress) ? refused : undefined;
    },
  };
}

async function resolveAll(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = lookup(host, { all: true }).then(
      (all) => all.map((a) => a.address),
      () => [],
    );
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
