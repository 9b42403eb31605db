import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { platformCredentials, platformProperties, searchLists } from '../shared/platform';
import * as revokeAccess from './actions/account/revokeAccess.operation';
import * as deleteContacts from './actions/contact/delete.operation';
import * as unsubscribeContacts from './actions/contact/unsubscribe.operation';
import * as getLists from './actions/list/getMany.operation';
import * as getMembers from './actions/member/getMany.operation';
import { router } from './actions/router';

export class EmailList implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Email List',
		name: 'emailList',
		icon: { light: 'file:../../icons/emailList.svg', dark: 'file:../../icons/emailList.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Read the lists and members of an email platform, and unsubscribe or delete contacts',
		defaults: { name: 'Email List' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: platformCredentials(),
		properties: [
			...platformProperties(),
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Contact', value: 'contact' },
					{ name: 'List', value: 'list' },
					{ name: 'Member', value: 'member' },
				],
				default: 'member',
				displayOptions: { hide: { platform: ['constantcontact'] } },
			},
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				// Constant Contact's OAuth2 grant can be revoked from the node.
				options: [
					{ name: 'Account', value: 'account' },
					{ name: 'Contact', value: 'contact' },
					{ name: 'List', value: 'list' },
					{ name: 'Member', value: 'member' },
				],
				default: 'member',
				displayOptions: { show: { platform: ['constantcontact'] } },
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['account'] } },
				options: [
					{
						name: 'Revoke Access',
						value: 'revokeAccess',
						action: 'Revoke access to the account',
						description: 'Revoke the credential’s OAuth2 grant at Constant Contact',
					},
				],
				default: 'revokeAccess',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['list'] } },
				options: [{ name: 'Get Many', value: 'getMany', action: 'Get many lists', description: 'Get the lists with their member counts' }],
				default: 'getMany',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['member'] } },
				options: [{ name: 'Get Many', value: 'getMany', action: 'Get many members', description: 'Get the members of a list' }],
				default: 'getMany',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['contact'] } },
				options: [
					{ name: 'Delete', value: 'delete', action: 'Delete contacts', description: 'Remove contacts (archived where the platform can)' },
					{ name: 'Unsubscribe', value: 'unsubscribe', action: 'Unsubscribe contacts', description: 'Withdraw the contacts’ consent to receive email' },
				],
				default: 'unsubscribe',
			},
			...revokeAccess.description,
			...getLists.description,
			...getMembers.description,
			...unsubscribeContacts.description,
			...deleteContacts.description,
		],
	};

	methods = { listSearch: { searchLists } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
