// Reading values out of n8n items, shared by the nodes.
import type { IDataObject } from 'n8n-workflow';

/**
 * The value at `path` in an item's JSON: the key itself first (so "Email Address" or a key that
 * contains dots works), then a dotted walk (`contact.email`).
 */
export function readField(json: IDataObject, path: string): unknown {
	if (Object.prototype.hasOwnProperty.call(json, path)) return json[path];
	let value: unknown = json;
	for (const key of path.split('.')) {
		if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) {
			return undefined;
		}
		value = (value as IDataObject)[key];
	}
	return value;
}

/** Splits a comma- or newline-separated option into its trimmed, non-empty parts. */
export function splitList(value: string | undefined): string[] {
	return (value ?? '')
		.split(/[,\n]/)
		.map((part) => part.trim())
		.filter(Boolean);
}

/** A short description of a value's type for error messages. */
export function describeType(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
