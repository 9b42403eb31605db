import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** A Mailchimp API key (Account › Extras › API keys); its "-usN" ending names the account's data centre. */
export class ListHygieneMailchimpApi implements ICredentialType {
	name = 'listHygieneMailchimpApi';

	displayName = 'List Hygiene Mailchimp API';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: '0123456789abcdef0123456789abcdef-us6',
			description:
				'The whole key, including its data-centre ending such as "-us6". Unsubscribing and deleting need a key of a Manager or Admin user.',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://us6.api.mailchimp.com/3.0',
			description: 'Leave empty for Mailchimp’s API in the key’s data centre. Set it to reach Mailchimp through a proxy, or a test server.',
		},
	];

	// Mailchimp takes the key as the password of HTTP basic auth, with any user name.
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			auth: {
				username: 'anystring',
				password: '={{$credentials.apiKey}}',
			},
		},
	};

	// GET /ping: the cheapest authenticated call, in the data centre the key names.
	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{($credentials.baseUrl || ("https://" + String($credentials.apiKey).split("-").pop() + ".api.mailchimp.com/3.0")).replace(/\\/+$/, "")}}',
			url: '/ping',
		},
	};
}
