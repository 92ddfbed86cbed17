/**
 * Addresses that identify no person: loopback (127.0.0.0/8, ::1) and the documentation ranges
 * of RFC 5737 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and RFC 3849 (2001:db8::/32).
 * They are kept, so `server.address: 127.0.0.1` and test URLs keep their meaning.
 */

const DOCUMENTATION_IPV4_PREFIXES: readonly string[] = ['192.0.2.', '198.51.100.', '203.0.113.'];

export function isDocumentationOrLoopbackIpv4(address: string): boolean {
  return (
    address.startsWith('127.') ||
    DOCUMENTATION_IPV4_PREFIXES.some((prefix) => address.startsWith(prefix))
  );
}

/** `::1` in any spelling (`0:0:0:0:0:0:0:1`), and 2001:db8::/32. */
export function isDocumentationOrLoopbackIpv6(address: string): boolean {
  const lower = address.toLowerCase();
  if (/^2001:0{0,4}db8(?::|$)/.test(lower)) return true;
  const halves = lower.split('::');
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  const last = groups.pop();
  return (
    last !== undefined && Number.parseInt(last, 16) === 1 && groups.every((g) => /^0+$/.test(g))
  );
}
