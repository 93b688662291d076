/** Progress goes to stderr so that stdout carries only the table or the JSON object. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
