/** The streams a command reads and writes: the real ones in the bin, in-memory ones in tests. */
export interface CliIo {
	stdin: NodeJS.ReadableStream;
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
}
