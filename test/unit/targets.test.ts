import { isPublicAddress } from '../../src/verification/smtp/targets';

describe('isPublicAddress', () => {
	it.each(['8.8.8.8', '1.1.1.1', '142.250.27.26', '2a00:1450:4001:c02::1a', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
		'allows the public address %s',
		(ip) => expect(isPublicAddress(ip)).toBe(true),
	);

	it.each([
		'127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
		'100.64.0.1', '0.0.0.0', '192.0.2.10', '198.51.100.1', '203.0.113.5', '198.18.0.1', '224.0.0.1',
		'255.255.255.255', '240.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::5', 'ff02::1', '2001:db8::1',
		'::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1',
	])('refuses the non-public address %s', (ip) => expect(isPublicAddress(ip)).toBe(false));

	it.each(['', 'localhost', 'mx.example.com', '999.1.1.1', '1.2.3'])('refuses %j, which is not an IP address', (ip) =>
		expect(isPublicAddress(ip)).toBe(false),
	);

	it('keeps 172.15 and 172.32 (outside 172.16/12) public', () => {
		expect(isPublicAddress('172.15.255.255')).toBe(true);
		expect(isPublicAddress('172.32.0.1')).toBe(true);
	});
});
