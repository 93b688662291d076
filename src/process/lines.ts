/** Splits a byte stream into text lines, as Lambda splits stdout/stderr into log records. */

/** Calls `onLine` for every line of `stream` (without the newline); a final partial line is flushed at the end. */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  for await (const chunk of stream) {
    const text = partial + decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = text.indexOf("\n", start);
    while (newline !== -1) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      onLine(text.slice(start, end));
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    partial = text.slice(start);
  }
  partial += decoder.decode();
  if (partial.length > 0) onLine(partial);
}
