// The Clean Email List node's form: mode, one rule per category, the safety rail.
import type { INodeProperties } from 'n8n-workflow';

import { CLEANUP_CATEGORIES, DEFAULT_RULES, type CleanupCategory } from '../../src/cleanup/rules';
import { listPlatforms } from '../../src/platforms/registry';
import { listLocator, platformProperties } from '../shared/platform';

const LABEL: Record<CleanupCategory, string> = {
	invalid: 'Invalid',
	disposable: 'Disposable',
	catch_all: 'Catch-All',
	unknown: 'Unknown',
	risky: 'Risky',
};

const HINT: Record<CleanupCategory, string> = {
	invalid: 'Addresses that cannot receive mail: bad syntax, no mail domain, mailbox not found',
	disposable: 'Throwaway addresses from disposable email providers',
	catch_all: 'Addresses at domains that accept any address, so they cannot be confirmed',
	unknown: 'Addresses that could not be checked (timeouts, greylisting, blocks); never proof of a bad address',
	risky: 'Full mailboxes, spam-trap look-alike domains and role addresses (info@, sales@)',
};

function scopeNotice(): INodeProperties[] {
	return listPlatforms().map((platform) => ({
		displayName: [
			`${platform.name}: Unsubscribe is ${platform.capabilities.unsubscribeScope === 'global' ? 'global (the contact gets no email from any list of the account)' : 'for this list only'}.`,
			platform.capabilities.deleteKind === 'archive'
				? 'Delete archives the contact (it can be restored).'
				: platform.capabilities.deleteKind === 'permanent'
					? 'Delete is permanent and cannot be undone.'
					: `${platform.name} cannot delete contacts.`,
		].join(' '),
		name: `${platform.id}ScopeNotice`,
		type: 'notice',
		default: '',
		displayOptions: { show: { platform: [platform.id] } },
	}));
}

function categoryRules(): INodeProperties[] {
	return CLEANUP_CATEGORIES.flatMap((category): INodeProperties[] => [
		{
			displayName: `Act on ${LABEL[category]}`,
			name: `${category}Enabled`,
			type: 'boolean',
			default: DEFAULT_RULES.categories[category].enabled,
			description: `Whether to act on ${LABEL[category]} contacts. ${HINT[category]}.`,
		},
		{
			displayName: `${LABEL[category]} Action`,
			name: `${category}Action`,
			type: 'options',
			typeOptions: { loadOptionsMethod: 'getActions', loadOptionsDependsOn: ['platform'] },
			default: DEFAULT_RULES.categories[category].action,
			displayOptions: { show: { [`${category}Enabled`]: [true] } },
			description: 'What to do with these contacts. Only the actions the chosen platform can do are offered.',
		},
	]);
}

export const properties: INodeProperties[] = [
	...platformProperties(),
	{ ...listLocator },
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Verify Only', value: 'verify_only', description: 'Write nothing: output the plan, what each contact would get' },
			{ name: 'Clean Automatically', value: 'clean', description: 'Carry out the plan on the platform' },
		],
		default: 'verify_only',
	},
	...scopeNotice(),
	...categoryRules(),
	{
		displayName: 'Max Share Changed per Run (%)',
		name: 'maxSharePercent',
		type: 'number',
		default: DEFAULT_RULES.maxShare * 100,
		typeOptions: { minValue: 0, maxValue: 100 },
		description:
			'Safety rail: if the plan would change more than this share of the input contacts, nothing is written and the node fails with the plan’s counts. A broken resolver or a blocked port 25 must never become a mass unsubscribe.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Delete Permanently',
				name: 'permanentDelete',
				type: 'boolean',
				default: false,
				description:
					'Whether Delete erases contacts for good where the platform can, instead of archiving them. This cannot be undone; Mailchimp refuses to re-import a permanently deleted address.',
			},
			{
				displayName: 'Role Account Action',
				name: 'roleAccountAction',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getActionsOrRisky', loadOptionsDependsOn: ['platform'] },
				default: 'asRisky',
				description: 'Give role addresses (info@, sales@) their own action instead of Risky’s',
			},
			{
				displayName: 'Spam Trap Action',
				name: 'spamtrapAction',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getActionsOrRisky', loadOptionsDependsOn: ['platform'] },
				default: 'asRisky',
				description: 'Give spam-trap look-alikes (typo domains of big providers) their own action instead of Risky’s',
			},
			{
				displayName: 'Tag Prefix',
				name: 'tagPrefix',
				type: 'string',
				default: DEFAULT_RULES.tagPrefix,
				description: 'Tags are written as the prefix followed by the category, e.g. list-hygiene:invalid',
			},
		],
	},
];
