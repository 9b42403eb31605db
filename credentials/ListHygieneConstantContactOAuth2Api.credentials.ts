import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

const AUTHORIZATION_SERVER = 'https://authz.constantcontact.com/oauth2/default/v1';

/**
 * Constant Contact API v3 through OAuth2: the Authorization Code flow with the app's client secret
 * (n8n runs on a server and keeps the secret; Constant Contact keeps PKCE for public clients), the
 * app authenticated to the token endpoint with HTTP Basic. offline_access brings a refresh token.
 */
export class ListHygieneConstantContactOAuth2Api implements ICredentialType {
	name = 'listHygieneConstantContactOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'List Hygiene Constant Contact OAuth2 API';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://developer.constantcontact.com/api_guide/server_flow.html';

	properties: INodeProperties[] = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'authorizationCode',
		},
		{
			displayName: 'Authorization Server Override',
			name: 'authServerUrl',
			type: 'string',
			default: '',
			placeholder: AUTHORIZATION_SERVER,
			description: 'Leave empty for Constant Contact’s own. For a test server: its /authorize and /token live below this URL (no trailing slash).',
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: `={{ ($self["authServerUrl"] || "${AUTHORIZATION_SERVER}") + "/authorize" }}`,
			required: true,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: `={{ ($self["authServerUrl"] || "${AUTHORIZATION_SERVER}") + "/token" }}`,
			required: true,
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			default: 'contact_data offline_access',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: '',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'hidden',
			default: 'header',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.cc.email/v3',
			description: 'Leave empty for Constant Contact’s API. Set it to reach the API through a proxy or a test server.',
		},
	];
}
