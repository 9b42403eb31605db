// Which addresses the prober may connect to. By default only public unicast addresses: a hostile
// DNS record must not turn the verifier into a scanner of the user's own network.
import { BlockList, isIP } from 'node:net';

// IANA special-purpose registries (RFC 6890 and successors): not reachable mail hosts on the internet.
const NON_PUBLIC_V4: Array<[string, number]> = [
	['0.0.0.0', 8], // "this network"
	['10.0.0.0', 8], // private
	['100.64.0.0', 10], // carrier-grade NAT
	['127.0.0.0', 8], // loopback
	['169.254.0.0', 16], // link-local
	['172.16.0.0', 12], // private
	['192.0.0.0', 24], // IETF protocol assignments
	['192.0.2.0', 24], // TEST-NET-1
	['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
	['192.168.0.0', 16], // private
	['198.18.0.0', 15], // benchmarking
	['198.51.100.0', 24], // TEST-NET-2
	['203.0.113.0', 24], // TEST-NET-3
	['224.0.0.0', 4], // multicast
	['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];

const NON_PUBLIC_V6: Array<[string, number]> = [
	['::', 128], // unspecified
	['::1', 128], // loopback
	['100::', 64], // discard-only
	['2001::', 23], // IETF protocol assignments
	['2001:db8::', 32], // documentation
	['fc00::', 7], // unique local
	['fe80::', 10], // link-local
	['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [network, prefix] of NON_PUBLIC_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of NON_PUBLIC_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (IPv4-mapped ::ffff:a.b.c.d or NAT64 64:ff9b::/96). */
function embeddedIpv4(ip: string): string | undefined {
	const lower = ip.toLowerCase();
	const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
	if (dotted) return dotted[1];
	const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
	if (!hex) return undefined;
	const high = parseInt(hex[1], 16);
	const low = parseInt(hex[2], 16);
	return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True for a public unicast IPv4 or IPv6 address; false for anything else, including non-IPs. */
export function isPublicAddress(ip: string): boolean {
	const family = isIP(ip);
	if (family === 4) return !blocked.check(ip, 'ipv4');
	if (family !== 6) return false;
	const v4 = embeddedIpv4(ip);
	if (v4 !== undefined) return isIP(v4) === 4 && !blocked.check(v4, 'ipv4');
	return !blocked.check(ip, 'ipv6');
}
