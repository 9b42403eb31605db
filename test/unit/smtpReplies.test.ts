// Reply classification, one fixture per phrase family, most of them replies real servers send.
import { classifyReply, type ReplyOutcome } from '../../src/verification/smtp/replies';

function reply(line: string) {
	const match = /^(\d{3})[ -](?:([245]\.\d{1,3}\.\d{1,3}) )?(.*)$/.exec(line);
	if (!match) throw new Error(`bad fixture ${line}`);
	return { code: Number(match[1]), enhanced: match[2], text: match[3] };
}

const fixtures: Array<[string, ReplyOutcome, string]> = [
	['250 2.1.5 Ok', 'accepted', 'Postfix'],
	['250 2.1.5 OK x1si123 - gsmtp', 'accepted', 'Gmail'],
	['251 2.1.5 User not local; will forward', 'accepted', 'RFC 5321 251'],
	['252 2.1.5 Cannot VRFY user, but will accept message', 'accepted', 'RFC 5321 252'],

	['550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in local recipient table', 'mailbox_not_found', 'Postfix local'],
	["550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking", 'mailbox_not_found', 'Gmail'],
	['550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'mailbox_not_found', 'Microsoft 365'],
	['550 5.4.1 Recipient address rejected: Access denied. AS(201806281)', 'mailbox_not_found', 'Microsoft 365 directory-based edge blocking'],
	['550 5.1.0 Address rejected.', 'mailbox_not_found', '5.1.x is an address problem'],
	['553 5.1.3 Bad recipient address syntax', 'mailbox_not_found', '5.1.3'],
	['550 Requested action not taken: mailbox unavailable', 'mailbox_not_found', 'RFC 5321 text, no enhanced code'],
	['550 No such user here', 'mailbox_not_found', 'Exim-style, no enhanced code'],
	['550 5.0.0 User unknown', 'mailbox_not_found', 'Sendmail: unspecific code, explicit text'],
	['551 User not local; please try <forward@example.com>', 'rejected', '551 without "unknown" text proves nothing'],
	['550 5.2.1 The email account that you tried to reach is disabled.', 'mailbox_disabled', 'Gmail disabled'],
	['550 Account has been disabled', 'mailbox_disabled', 'text only'],

	['452 4.2.2 The email account that you tried to reach is over quota.', 'mailbox_full', 'Gmail over quota'],
	['552 5.2.2 Mailbox full', 'mailbox_full', '5.2.2'],
	['552 Requested mail action aborted: exceeded storage allocation', 'mailbox_full', 'RFC 5321 552'],

	['452 4.5.3 Too many recipients', 'too_many_recipients', 'Postfix smtpd_recipient_limit'],
	['452 Too many recipients received this hour', 'too_many_recipients', 'text only'],
	['552 5.5.3 Too many recipients', 'too_many_recipients', 'some MTAs use 552'],

	['450 4.2.0 <ann@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html', 'greylisted', 'postgrey'],
	['451 4.7.1 Please try again later', 'greylisted', '4.7.x temporary'],
	['450 4.7.1 Greylisting in action, please come back later', 'greylisted', 'generic greylist'],
	['451 Temporary local problem - please try later', 'temporary', 'other 4xx'],
	['421 4.7.0 Try again later, closing connection.', 'closing', '421'],

	['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'blocked', 'Postfix RBL'],
	['550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus.', 'blocked', 'Microsoft 365 RBL'],
	['550 5.7.606 Access denied, banned sending IP [192.0.2.1].', 'blocked', 'Microsoft banned IP'],
	['554 Your access to this mail system has been rejected due to the sending MTA\'s poor reputation.', 'blocked', 'reputation, no enhanced code'],
	['550 5.7.1 Our system has detected that this message is likely unsolicited mail. Listed at bl.example', 'blocked', 'listed at'],
	['450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]', 'blocked', 'rDNS check'],
	['550 5.1.1 User unknown (blocked address list)', 'mailbox_not_found', '5.1.1 wins over block text that is not 5.7'],
	['550 No such user; rbl.example not consulted', 'blocked', 'no enhanced code and an RBL word: the safe side'],
	['550 5.7.1 Unable to relay', 'rejected', 'relay denied: the host does not take mail for the domain'],
	['550 5.7.1 Recipient address rejected: Access denied', 'rejected', 'policy, not a missing mailbox'],
	['554 5.7.1 Recipient address rejected: Administrative prohibition', 'rejected', 'policy'],
	['553 5.1.8 Domain of sender address does not exist', 'rejected', '5.1.8 is about our sender'],
	['550 Administrative prohibition', 'rejected', 'no proof either way'],
	['500 5.5.1 Command unrecognized', 'rejected', 'protocol'],
];

describe('classifyReply', () => {
	it.each(fixtures)('%s -> %s (%s)', (line, outcome) => {
		expect(classifyReply(reply(line))).toBe(outcome);
	});

	it('never calls a block, a greylist or a temporary failure a missing mailbox', () => {
		const safe = fixtures.filter(([, , why]) => /RBL|banned|reputation|greylist|rDNS|4xx|421/i.test(why));
		expect(safe.length).toBeGreaterThan(6);
		for (const [line] of safe) expect(classifyReply(reply(line))).not.toMatch(/not_found|disabled/);
	});
});
