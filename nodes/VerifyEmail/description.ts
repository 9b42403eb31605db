// The Verify Email node's form: what the user sees in the editor.
import type { INodeOutputConfiguration, INodeProperties } from 'n8n-workflow';

import { CATEGORY_ORDER, CATEGORY_LABEL } from './categories';

/** One output per clean-up category, in the order of CATEGORY_ORDER. */
const CATEGORY_OUTPUTS: INodeOutputConfiguration[] = CATEGORY_ORDER.map((category) => ({
	type: 'main',
	displayName: CATEGORY_LABEL[category],
}));

/** n8n evaluates this to the node's outputs: one per category when routing is on. */
export const OUTPUTS_EXPRESSION =
	`={{ $parameter["routeByCategory"] ? ${JSON.stringify(CATEGORY_OUTPUTS)} : ["main"] }}` as `={{${string}}}`;

export const properties: INodeProperties[] = [
	{
		displayName: 'Email Field',
		name: 'emailField',
		type: 'string',
		default: 'email',
		required: true,
		placeholder: 'email',
		description: 'Name of the input field that holds the address. Use dots for a nested field, e.g. contact.email.',
	},
	{
		displayName: 'Route by Category',
		name: 'routeByCategory',
		type: 'boolean',
		default: false,
		description:
			'Whether to send each item to one output per category (Valid, Invalid, Disposable, Catch-All, Unknown, Risky) instead of one output for all',
	},
	{
		displayName: 'Use SOCKS5 Proxy',
		name: 'useProxy',
		type: 'boolean',
		default: false,
		description:
			'Whether to reach mail servers through a SOCKS5 proxy, for hosts where outbound port 25 is closed (most cloud servers)',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Allow Private Networks',
				name: 'allowPrivateNetworks',
				type: 'boolean',
				default: false,
				description:
					'Whether to connect to mail hosts on private, loopback, link-local or reserved addresses. Off, such hosts are refused so that a hostile DNS record cannot aim the verifier at your own network.',
			},
			{
				displayName: 'Check Mailbox (SMTP)',
				name: 'smtpCheck',
				type: 'boolean',
				default: true,
				description:
					'Whether to ask each domain’s mail server if the mailbox exists (no message is sent). Off, addresses that pass the other checks are Unknown with reason smtp_not_checked.',
			},
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				default: 16,
				typeOptions: { minValue: 1 },
				description: 'SMTP sessions open at once, over all mail hosts',
			},
			{
				displayName: 'Connect Timeout (Ms)',
				name: 'connectTimeoutMs',
				type: 'number',
				default: 10000,
				typeOptions: { minValue: 100 },
				description: 'Time allowed to open a connection to a mail host',
			},
			{
				displayName: 'DNS Servers',
				name: 'dnsServers',
				type: 'string',
				default: '',
				placeholder: '1.1.1.1, 127.0.0.1:5353',
				description:
					'Resolvers to ask, as IP or IP:port, separated by commas. Leave empty to use the resolvers of the machine n8n runs on.',
			},
			{
				displayName: 'DNS Timeout (Ms)',
				name: 'dnsTimeoutMs',
				type: 'number',
				default: 5000,
				typeOptions: { minValue: 100 },
				description:
					'Time allowed for one DNS lookup, retries included. A lookup that times out makes the address Unknown, never Invalid.',
			},
			{
				displayName: 'Extra Disposable Domains',
				name: 'extraDisposableDomains',
				type: 'string',
				default: '',
				placeholder: 'throwaway.example, temp.example',
				description:
					'Domains to treat as disposable on top of the built-in list, separated by commas. Subdomains match too.',
			},
			{
				displayName: 'Greylist Retry Delay (Seconds)',
				name: 'greylistRetrySeconds',
				type: 'number',
				default: 0,
				typeOptions: { minValue: 0 },
				description:
					'Probe greylisted addresses once more after this many seconds, within the same run. 0 does not retry: they stay Unknown (greylisted).',
			},
			{
				displayName: 'HELO Name',
				name: 'heloName',
				type: 'string',
				default: '',
				placeholder: 'verifier.example.com',
				description:
					'Name this machine gives in EHLO. Use a name whose DNS points at this machine’s public IP. Empty uses the machine’s host name.',
			},
			{
				displayName: 'MAIL FROM Address',
				name: 'mailFrom',
				type: 'string',
				default: '',
				placeholder: 'verify@example.com',
				description: 'Envelope sender of the probe. Empty uses verify@ followed by the HELO name.',
			},
			{
				displayName: 'Never Disposable Domains',
				name: 'neverDisposableDomains',
				type: 'string',
				default: '',
				placeholder: 'partner.example',
				description: 'Domains never to treat as disposable, even if the built-in list names them, separated by commas',
			},
			{
				displayName: 'Output Field',
				name: 'outputField',
				type: 'string',
				default: 'verification',
				description: 'Name of the field the result is written to',
			},
			{
				displayName: 'Sessions per Mail Host',
				name: 'perHostConcurrency',
				type: 'number',
				default: 1,
				typeOptions: { minValue: 1 },
				description: 'SMTP sessions open at once to one mail host. Keep it low: busy probing gets an IP blocked.',
			},
			{
				displayName: 'SMTP Port',
				name: 'smtpPort',
				type: 'number',
				default: 25,
				typeOptions: { minValue: 1, maxValue: 65535 },
				description: 'Port of the mail servers; 25 on the internet',
			},
			{
				displayName: 'SMTP Reply Timeout (Ms)',
				name: 'commandTimeoutMs',
				type: 'number',
				default: 30000,
				typeOptions: { minValue: 100 },
				description: 'Time allowed for each reply of a mail server. A server that does not answer in time makes its addresses Unknown.',
			},
		],
	},
];
