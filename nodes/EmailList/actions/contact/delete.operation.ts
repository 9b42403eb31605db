import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';

import { listPlatforms } from '../../../../src/platforms/registry';
import { listLocator } from '../../../shared/platform';
import { contactFields, writeContacts } from './write';

const show = { resource: ['contact'], operation: ['delete'] };

export const description: INodeProperties[] = [
	{ ...listLocator, displayOptions: { show } },
	...contactFields('delete'),
	{
		displayName: 'Delete Permanently',
		name: 'permanent',
		type: 'boolean',
		default: false,
		displayOptions: { show: { ...show, platform: listPlatforms().filter((p) => p.capabilities.permanentDelete).map((p) => p.id) } },
		description:
			'Whether to erase the contact for good instead of archiving it. This cannot be undone, and some platforms (Mailchimp) refuse to re-import a permanently deleted address.',
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return writeContacts.call(this, 'delete', (platform, api, listId, contacts) => {
		if (platform.capabilities.deleteKind === 'none') {
			throw new NodeOperationError(this.getNode(), `${platform.name} cannot delete contacts`, {
				description: 'Use Unsubscribe instead.',
			});
		}
		const permanent = platform.capabilities.permanentDelete && (this.getNodeParameter('permanent', 0, false) as boolean);
		return platform.delete(api, listId, contacts, { permanent });
	});
}
