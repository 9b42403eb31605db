import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** A SendGrid API key for the Email List nodes (Marketing Campaigns contacts and global unsubscribes). */
export class ListHygieneSendGridApi implements ICredentialType {
	name = 'listHygieneSendGridApi';

	displayName = 'List Hygiene SendGrid API';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A key with Marketing: Read Access to read lists and members, Marketing: Full Access to delete contacts, and Suppressions: Full Access to unsubscribe them',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.eu.sendgrid.com',
			description: 'Leave empty for https://api.sendgrid.com. Set it for an EU regional subuser (https://api.eu.sendgrid.com), a proxy or a test server; without /v3.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	// GET /v3/scopes lists what the key may do; it succeeds for any valid key.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl || "https://api.sendgrid.com"}}',
			url: '/v3/scopes',
		},
	};
}
